"""Daily token budgets, brand overrides and the usage report, through the local gateway and
DynamoDB Local. Every test works in a brand of its own, so budgets and counters start empty."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from parley.config import settings_from
from tests.conftest import TokenFactory
from tests.doubles.fake_providers import OPENAI_PATH, ProviderServer

pytestmark = pytest.mark.integration

USER_SCOPES = ["conversations:read", "conversations:write", "ai:chat"]


# The functions run at this moment (an injected clock), noon UTC: no test depends on today's date
# or can straddle a midnight.
NOON = datetime(2031, 3, 14, 12, 0, tzinfo=UTC)
TODAY = NOON.date()


@pytest.fixture(autouse=True)
def functions_at_noon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOCK_OFFSET_SECONDS", str((NOON - datetime.now(UTC)).total_seconds()))


@pytest.fixture
def brand() -> str:
    return f"quota-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def admin(auth: TokenFactory, brand: str) -> dict[str, str]:
    return auth("ops", brands=[brand], scopes=["admin"])


def set_budgets(api: httpx.Client, admin: dict[str, str], brand: str, **budgets: Any) -> httpx.Response:
    response = api.put(f"/v1/quotas/{brand}", json=budgets, headers=admin)
    assert response.status_code == 200, response.text
    return response


def conversation(api: httpx.Client, headers: dict[str, str], brand: str) -> str:
    response = api.post("/v1/conversations", json={"brand_id": brand}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["conversation"]["id"])


def ask(
    api: httpx.Client,
    headers: dict[str, str],
    conversation_id: str,
    model: str = "gpt-4o",
    content: str = "Hi",
) -> httpx.Response:
    return api.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "content": content, "mode": "chat-completion", "model": model},
        headers=headers,
    )


def total(api: httpx.Client, headers: dict[str, str], conversation_id: str) -> int:
    return int(api.get(f"/v1/conversations/{conversation_id}/messages", headers=headers).json()["total"])


HALF_A_DAY = 12 * 3600


def test_a_brand_has_the_defaults_until_it_sets_its_own_budgets(
    api: httpx.Client, admin: dict[str, str], brand: str
) -> None:
    defaults = settings_from(os.environ)
    before = api.get(f"/v1/quotas/{brand}", headers=admin)
    assert before.status_code == 200, before.text
    assert before.json()["quota"] == {
        "brand_id": brand,
        "user_daily_tokens": defaults.quota_user_daily_tokens,
        "brand_daily_tokens": defaults.quota_brand_daily_tokens,
        "overrides": {"user_daily_tokens": None, "brand_daily_tokens": None},
        "updated_at": None,
    }

    set_budgets(api, admin, brand, user_daily_tokens=1_000)
    after = api.get(f"/v1/quotas/{brand}", headers=admin).json()["quota"]
    assert after["user_daily_tokens"] == 1_000
    assert after["brand_daily_tokens"] == defaults.quota_brand_daily_tokens
    assert after["overrides"] == {"user_daily_tokens": 1_000, "brand_daily_tokens": None}
    assert after["updated_at"] is not None

    set_budgets(api, admin, brand)  # an empty body: back to the defaults
    reset = api.get(f"/v1/quotas/{brand}", headers=admin).json()["quota"]
    assert reset["user_daily_tokens"] == defaults.quota_user_daily_tokens
    assert reset["overrides"] == {"user_daily_tokens": None, "brand_daily_tokens": None}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_daily_tokens": -1}, "user_daily_tokens"),
        ({"brand_daily_tokens": "5000"}, "brand_daily_tokens"),
        ({"user_daily_tokens": 1.5}, "user_daily_tokens"),
        ({"daily_tokens": 10}, "daily_tokens"),
    ],
)
def test_a_bad_budget_is_a_400_that_names_it_and_changes_nothing(
    api: httpx.Client, admin: dict[str, str], brand: str, body: dict[str, Any], field: str
) -> None:
    response = api.put(f"/v1/quotas/{brand}", json=body, headers=admin)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert field in response.json()["message"]
    assert api.get(f"/v1/quotas/{brand}", headers=admin).json()["quota"]["updated_at"] is None


def test_budgets_and_usage_are_for_admins_of_the_brand(
    api: httpx.Client, auth: TokenFactory, admin: dict[str, str], brand: str
) -> None:
    user = auth("alice", brands=[brand], scopes=USER_SCOPES)
    other_admin = auth("ops", brands=["another-brand"], scopes=["admin"])

    for headers, code in ((user, "insufficient_scope"), (other_admin, "forbidden")):
        put = api.put(f"/v1/quotas/{brand}", json={"user_daily_tokens": 0}, headers=headers)
        get = api.get(f"/v1/quotas/{brand}", headers=headers)
        usage = api.get("/v1/usage", params={"brand_id": brand}, headers=headers)
        assert [put.status_code, get.status_code, usage.status_code] == [403, 403, 403]
        assert {put.json()["error"], get.json()["error"], usage.json()["error"]} == {code}
    assert api.get(f"/v1/quotas/{brand}", headers=admin).json()["quota"]["updated_at"] is None


def test_a_user_past_the_budget_gets_a_429_with_retry_after_and_nothing_is_written(
    api: httpx.Client,
    auth: TokenFactory,
    admin: dict[str, str],
    brand: str,
    providers: ProviderServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each container reads a brand's budgets afresh for every request (AWS default: once a minute),
    # so the raised budget at the end reaches the append function's container at once. The clock
    # stands still at noon, so the wait until the budget renews is exact.
    monkeypatch.setenv("QUOTA_CACHE_SECONDS", "0")
    monkeypatch.setenv("CLOCK_FROZEN_AT", NOON.isoformat())
    alice, bob = auth("alice", brands=[brand]), auth("bob", brands=[brand])
    set_budgets(api, admin, brand, user_daily_tokens=1)
    conversation_id = conversation(api, alice, brand)

    first = ask(api, alice, conversation_id)  # served: the counter was under budget before it
    second = ask(api, alice, conversation_id)

    assert first.status_code == 200, first.text
    assert second.status_code == 429
    assert second.json()["error"] == "quota_exceeded"
    assert "1 tokens" in second.json()["message"] and "00:00 UTC" in second.json()["message"]
    # noon on the functions' clock: the budget renews in exactly half a day
    assert int(second.headers["Retry-After"]) == HALF_A_DAY
    assert total(api, alice, conversation_id) == 2  # the first exchange only
    assert ask(api, bob, conversation(api, bob, brand)).status_code == 200  # bob has his own budget

    set_budgets(api, admin, brand, user_daily_tokens=0)  # no limit: alice may go on at once
    assert ask(api, alice, conversation_id).status_code == 200


def test_a_brand_past_its_budget_refuses_every_user(
    api: httpx.Client, auth: TokenFactory, admin: dict[str, str], brand: str, providers: ProviderServer
) -> None:
    alice, bob = auth("alice", brands=[brand]), auth("bob", brands=[brand])
    set_budgets(api, admin, brand, brand_daily_tokens=1)

    assert ask(api, alice, conversation(api, alice, brand)).status_code == 200
    refused = ask(api, bob, conversation(api, bob, brand))

    assert refused.status_code == 429
    assert refused.json()["error"] == "quota_exceeded"
    assert f"Brand '{brand}'" in refused.json()["message"]
    assert int(refused.headers["Retry-After"]) >= 1


def test_the_write_finds_the_first_refusal_and_the_container_refuses_the_next_before_any_call(
    api: httpx.Client, auth: TokenFactory, admin: dict[str, str], brand: str, providers: ProviderServer
) -> None:
    alice = auth("alice", brands=[brand])
    set_budgets(api, admin, brand, user_daily_tokens=1)
    conversation_id = conversation(api, alice, brand)

    statuses = [ask(api, alice, conversation_id).status_code for _ in range(3)]

    assert statuses == [200, 429, 429]
    assert len(providers.requests_to(OPENAI_PATH)) == 2  # the third never reached the provider
    report = api.get("/v1/usage", params={"brand_id": brand}, headers=admin).json()
    assert report["requests"] == 2  # the refused generation was paid for, so it is counted


def test_concurrent_generations_cannot_overspend_a_budget(
    api: httpx.Client, auth: TokenFactory, admin: dict[str, str], brand: str, providers: ProviderServer
) -> None:
    """The budget is a condition on an atomic counter: of ten generations started together under
    a one-token budget, exactly one is stored."""
    alice = auth("alice", brands=[brand])
    set_budgets(api, admin, brand, brand_daily_tokens=1)
    conversations = [conversation(api, alice, brand) for _ in range(10)]

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda c: ask(api, alice, c), conversations))

    assert sorted(r.status_code for r in responses) == [200] + [429] * 9
    assert sum(total(api, alice, c) for c in conversations) == 2
    report = api.get("/v1/usage", params={"brand_id": brand}, headers=admin).json()
    assert report["requests"] == len(providers.requests_to(OPENAI_PATH))  # every paid call is counted


def test_the_chats_api_and_the_rag_chat_spend_the_same_budgets(
    api: httpx.Client, auth: TokenFactory, admin: dict[str, str], brand: str, providers: ProviderServer
) -> None:
    alice = auth("alice", brands=[brand])
    set_budgets(api, admin, brand, user_daily_tokens=1)
    chat_id = conversation(api, alice, brand)  # a conversation is a chat too

    def rag_chat() -> httpx.Response:
        body = {"messages": [{"role": "user", "content": "Hi"}], "brand_id": brand, "user_id": "alice"}
        return api.post("/v1/ai/chat", json={**body, "model": "gpt-4o-mini"}, headers=alice)

    def chat_message() -> httpx.Response:
        body = {"content": "Hi", "modelId": "gpt-4o", "userId": "alice"}
        return api.post(f"/api/chats/{chat_id}/messages", json=body, headers=alice)

    assert rag_chat().status_code == 200
    refused = [rag_chat(), chat_message()]
    assert [r.status_code for r in refused] == [429, 429]
    assert {r.json()["error"] for r in refused} == {"quota_exceeded"}


def test_the_usage_report_has_tokens_and_cost_per_day_and_model(
    api: httpx.Client, auth: TokenFactory, admin: dict[str, str], brand: str, providers: ProviderServer
) -> None:
    alice = auth("alice", brands=[brand])
    chat_id = conversation(api, alice, brand)
    expected: dict[str, dict[str, Any]] = {}

    def count(model: str, usage: dict[str, int], cost: float, calls: int = 1) -> None:
        tally = expected.setdefault(
            model, {"prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0, "calls": 0}
        )
        tally["prompt_tokens"] += usage["prompt_tokens"]
        tally["completion_tokens"] += usage["completion_tokens"]
        tally["cost_usd"] += cost
        tally["calls"] += calls

    for model in ("gpt-4o", "gpt-4o", "claude-sonnet-4-6"):
        reply = ask(api, alice, chat_id, model=model).json()["assistant_message"]
        count(model, reply["token_usage"], reply["metadata"]["cost_usd"])
    workflow = api.post(
        "/api/workflows",
        json={
            "name": "Two steps",
            "brandId": brand,
            "steps": [{"prompt": "{{input}}"}, {"prompt": "{{previous}}"}],
        },
        headers=auth("ops", brands=[brand], scopes=["admin"]),
    ).json()["data"]["id"]
    sent = api.post(
        f"/api/chats/{chat_id}/messages",
        json={"content": "Hi", "modelId": "gpt-4o-mini", "userId": "alice", "workflowId": workflow},
        headers=alice,
    )
    assert sent.status_code == 201, sent.text
    stored = api.get(f"/v1/conversations/{chat_id}/messages", headers=alice).json()["messages"][-1]
    steps = stored["metadata"]["workflow"]["steps"]
    for step in steps:
        count("gpt-4o-mini", step["usage"], 0.0)
    expected["gpt-4o-mini"]["cost_usd"] = stored["metadata"]["cost_usd"]

    report = api.get("/v1/usage", params={"brand_id": brand}, headers=admin)

    assert report.status_code == 200, report.text
    body = report.json()
    today = TODAY
    assert (body["brand_id"], body["to"]) == (brand, today.isoformat())
    assert body["from"] == (today - timedelta(days=29)).isoformat()
    [day] = body["days"]
    assert day["date"] == today.isoformat() and day["requests"] == 4 == body["requests"]
    by_model = {m["model"]: m for m in day["models"]}
    assert set(by_model) == set(expected)
    for model, tally in expected.items():
        reported = by_model[model]
        assert reported["prompt_tokens"] == tally["prompt_tokens"]
        assert reported["completion_tokens"] == tally["completion_tokens"]
        assert reported["total_tokens"] == tally["prompt_tokens"] + tally["completion_tokens"]
        assert reported["calls"] == tally["calls"]
        assert reported["cost_usd"] == pytest.approx(tally["cost_usd"], abs=1e-8)
    assert by_model["gpt-4o-mini"]["calls"] == len(steps) == 2
    assert day["total_tokens"] == body["total_tokens"] == sum(m["total_tokens"] for m in day["models"])
    assert body["cost_usd"] == pytest.approx(sum(t["cost_usd"] for t in expected.values()), abs=1e-7)

    yesterday = (today - timedelta(days=1)).isoformat()
    earlier = api.get(
        "/v1/usage",
        params={"brand_id": brand, "from": (today - timedelta(days=365)).isoformat(), "to": yesterday},
        headers=admin,
    )
    assert earlier.json()["days"] == [] and earlier.json()["total_tokens"] == 0


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"from": "2026-02-30"}, "from must be a date"),
        ({"to": "23-11-2026"}, "to"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "after"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "at most 366 days"),
    ],
)
def test_a_bad_report_range_is_a_400_that_says_why(
    api: httpx.Client, admin: dict[str, str], brand: str, params: dict[str, str], words: str
) -> None:
    response = api.get("/v1/usage", params={"brand_id": brand, **params}, headers=admin)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert words in response.json()["message"]


def test_the_report_needs_a_brand(api: httpx.Client, admin: dict[str, str]) -> None:
    response = api.get("/v1/usage", headers=admin)

    assert response.status_code == 400
    assert "brand_id" in response.json()["message"]


def test_leaving_the_brand_out_does_not_sidestep_its_budget(
    api: httpx.Client,
    auth: TokenFactory,
    admin: dict[str, str],
    brand: str,
    providers: ProviderServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A brandless conversation and a brandless chat are held to the strictest user budget of
    the token's brands (each in the user's unbranded counter): past it, a 429 as in the brand."""
    monkeypatch.setenv("QUOTA_CACHE_SECONDS", "0")
    user = f"sidestep-{uuid.uuid4().hex[:6]}"
    alice = auth(user, brands=[brand])
    set_budgets(api, admin, brand, user_daily_tokens=1)
    brandless = api.post("/v1/conversations", json={}, headers=alice).json()["conversation"]["id"]

    def chat_message() -> httpx.Response:
        body = {"content": "Hi", "modelId": "gpt-4o", "userId": user}
        return api.post(f"/api/chats/{brandless}/messages", json=body, headers=alice)

    first = ask(api, alice, brandless)  # served: the counter was under budget before it
    refused = [ask(api, alice, brandless), chat_message()]

    assert first.status_code == 200, first.text
    assert [r.status_code for r in refused] == [429, 429]
    assert {r.json()["error"] for r in refused} == {"quota_exceeded"}


def test_a_token_that_no_longer_grants_the_brand_cannot_use_its_conversation(
    api: httpx.Client, auth: TokenFactory, brand: str, providers: ProviderServer
) -> None:
    user = f"leaver-{uuid.uuid4().hex[:6]}"
    member = auth(user, brands=[brand], scopes=[*USER_SCOPES])
    conversation_id = conversation(api, member, brand)
    answered = ask(api, member, conversation_id).json()["assistant_message"]["id"]
    former = auth(user, brands=[], scopes=[*USER_SCOPES])
    base = f"/v1/conversations/{conversation_id}"

    refused = {
        "generate": ask(api, former, conversation_id),
        "regenerate": api.post(f"{base}/messages/{answered}/regenerate", json={}, headers=former),
        "export": api.get(f"{base}/export", headers=former),
        "get": api.get(base, headers=former),
        "rate": api.put(f"{base}/messages/{answered}/feedback", json={"rating": "up"}, headers=former),
    }

    assert {name: r.status_code for name, r in refused.items()} == dict.fromkeys(refused, 403)
    assert all(brand in r.json()["message"] for r in refused.values())
    assert total(api, member, conversation_id) == 2  # nothing was written
