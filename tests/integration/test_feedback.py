"""Feedback on answers through the local gateway, on both APIs: a rating on an assistant message,
replaced, shown in history, counted per day and model in the usage report, taken back; and
every mistake a 4xx that writes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.conftest import LocalStack, TokenFactory

pytestmark = pytest.mark.integration

# The functions' clock stands at noon: an exchange and its rating fall on one usage day, whenever
# the test runs.
NOON = datetime(2031, 3, 14, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def functions_at_noon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOCK_FROZEN_AT", NOON.isoformat())


@pytest.fixture
def brand() -> str:
    return f"fb-{uuid.uuid4().hex[:8]}"  # this test's own usage counters


def exchange(api: httpx.Client, headers: dict[str, str], brand: str) -> tuple[str, str, str]:
    """A conversation with one user message and its answer: (conversation, user message, answer)."""
    created = api.post(
        "/v1/conversations", json={"brand_id": brand, "model": "parley-offline"}, headers=headers
    )
    conversation_id = created.json()["conversation"]["id"]
    sent = api.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "content": "Where should I go in May?", "mode": "chat-completion"},
        headers=headers,
    ).json()
    return conversation_id, sent["message"]["id"], sent["assistant_message"]["id"]


def feedback_url(conversation_id: str, message_id: str) -> str:
    return f"/v1/conversations/{conversation_id}/messages/{message_id}/feedback"


def models_of_report(api: httpx.Client, headers: dict[str, str], brand: str) -> list[dict[str, Any]]:
    report = api.get("/v1/usage", params={"brand_id": brand}, headers=headers).json()
    return [model for day in report["days"] for model in day["models"]]


def test_a_rating_is_set_replaced_shown_in_history_and_counted(
    api: httpx.Client, auth: TokenFactory, brand: str
) -> None:
    alice = auth("alice", brands=[brand])
    conversation_id, _, answer_id = exchange(api, alice, brand)

    first = api.put(feedback_url(conversation_id, answer_id), json={"rating": "up"}, headers=alice)
    second = api.put(
        feedback_url(conversation_id, answer_id),
        json={"rating": "down", "comment": "Too vague.", "reasons": ["unhelpful"]},
        headers=alice,
    )
    history = api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice).json()

    assert first.status_code == 200 and first.json()["feedback"]["rating"] == "up"
    assert second.status_code == 200
    rated = second.json()["feedback"]
    assert (rated["rating"], rated["comment"], rated["reasons"]) == ("down", "Too vague.", ["unhelpful"])
    user_message, answer = history["messages"]
    assert answer["feedback"] == rated and user_message["feedback"] is None
    assert history["total"] == 2  # the rating is no message
    (model,) = models_of_report(api, alice, brand)
    assert (model["model"], model["ratings_up"], model["ratings_down"]) == ("parley-offline", 0, 1)

    removed = api.delete(feedback_url(conversation_id, answer_id), headers=alice)
    again = api.delete(feedback_url(conversation_id, answer_id), headers=alice)

    assert removed.status_code == 204 and again.status_code == 404
    assert again.json()["error"] == "feedback_not_found"
    after = api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice).json()
    assert after["messages"][1]["feedback"] is None
    (model,) = models_of_report(api, alice, brand)
    assert (model["ratings_up"], model["ratings_down"]) == (0, 0)


def test_a_history_page_shows_only_its_own_messages_ratings(
    api: httpx.Client, auth: TokenFactory, brand: str
) -> None:
    alice = auth("alice", brands=[brand])
    conversation_id, _, first_answer = exchange(api, alice, brand)
    second = api.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "content": "And in June?", "mode": "chat-completion"},
        headers=alice,
    ).json()
    for answer in (first_answer, second["assistant_message"]["id"]):
        api.put(feedback_url(conversation_id, answer), json={"rating": "up"}, headers=alice)

    newest = api.get(
        f"/v1/conversations/{conversation_id}/messages", params={"limit": 2}, headers=alice
    ).json()
    older = api.get(
        f"/v1/conversations/{conversation_id}/messages",
        params={"limit": 2, "before": newest["messages"][0]["id"]},
        headers=alice,
    ).json()

    assert [m["feedback"] is not None for m in newest["messages"]] == [False, True]
    assert [m["feedback"] is not None for m in older["messages"]] == [False, True]
    assert [m["role"] for m in older["messages"] + newest["messages"]] == ["user", "assistant"] * 2


@pytest.mark.parametrize(
    ("target", "body", "status", "code"),
    [
        ("user", {"rating": "up"}, 400, "not_an_answer"),
        ("unknown", {"rating": "up"}, 404, "message_not_found"),
        ("answer", {"rating": "meh"}, 400, "invalid_request"),
        ("answer", {"rating": "up", "comment": "x" * 2001}, 400, "invalid_request"),
        ("answer", {"rating": "up", "reasons": ["a"] * 11}, 400, "invalid_request"),
    ],
)
def test_a_rating_mistake_is_a_4xx_and_writes_nothing(
    api: httpx.Client,
    auth: TokenFactory,
    brand: str,
    target: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    alice = auth("alice", brands=[brand])
    conversation_id, user_id, answer_id = exchange(api, alice, brand)
    message_id = {"user": user_id, "answer": answer_id, "unknown": str(uuid.uuid4())}[target]

    response = api.put(feedback_url(conversation_id, message_id), json=body, headers=alice)

    assert (response.status_code, response.json()["error"]) == (status, code)
    history = api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice).json()
    assert all(m["feedback"] is None for m in history["messages"])
    assert all(m["ratings_up"] == m["ratings_down"] == 0 for m in models_of_report(api, alice, brand))


def test_another_users_conversation_reads_as_missing_and_their_chat_as_forbidden(
    api: httpx.Client, auth: TokenFactory, brand: str
) -> None:
    alice, mallory = auth("alice", brands=[brand]), auth("mallory", brands=[brand])
    conversation_id, _, answer_id = exchange(api, alice, brand)

    as_conversation = api.put(
        feedback_url(conversation_id, answer_id), json={"rating": "down"}, headers=mallory
    )
    as_chat = api.put(
        f"/api/chats/{conversation_id}/messages/{answer_id}/feedback",
        json={"rating": "down"},
        headers=mallory,
    )
    taken_back = api.delete(feedback_url(conversation_id, answer_id), headers=mallory)

    assert as_conversation.status_code == 404 and as_chat.status_code == 403 and taken_back.status_code == 404
    assert all(m["ratings_down"] == 0 for m in models_of_report(api, alice, brand))


def test_the_chats_api_rates_in_its_own_style(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    alice = auth("alice", brands=["acme"])
    chat = api.post("/api/chats", json={"title": "Rated", "modelId": "parley-offline"}, headers=alice).json()[
        "data"
    ]
    sent = api.post(
        f"/api/chats/{chat['id']}/messages",
        json={"content": "Hello", "modelId": "parley-offline", "userId": "alice"},
        headers=alice,
    ).json()["data"]
    url = f"/api/chats/{chat['id']}/messages/{sent['response']['id']}/feedback"

    rated = api.put(url, json={"rating": "up", "reasons": ["clear"]}, headers=alice)
    listed = api.get(f"/api/chats/{chat['id']}/messages", headers=alice).json()["data"]
    removed = api.delete(url, headers=alice)

    assert rated.status_code == 200
    data = rated.json()["data"]
    assert (data["rating"], data["reasons"]) == ("up", ["clear"]) and "updatedAt" in data
    assert listed[1]["feedback"] == data and listed[0]["feedback"] is None
    assert removed.status_code == 204
    unknown_chat = api.put(
        f"/api/chats/{uuid.uuid4()}/messages/{sent['response']['id']}/feedback",
        json={"rating": "up"},
        headers=alice,
    )
    assert unknown_chat.status_code == 404 and unknown_chat.json()["error"] == "chat_not_found"


def test_a_rating_counts_only_for_a_model_parley_serves(
    api: httpx.Client, auth: TokenFactory, brand: str
) -> None:
    """An appended assistant message may claim any model; rating it cannot add that name to the
    brand's usage (33 ratings with 15 KB names once outgrew the usage item)."""
    alice = auth("alice", brands=[brand], scopes=["conversations:read", "conversations:write", "admin"])
    conversation_id = api.post("/v1/conversations", json={"brand_id": brand}, headers=alice).json()[
        "conversation"
    ]["id"]
    invented = "<img src=x onerror=alert(1)>" + "m" * 15_000
    rated = []
    for n in range(3):
        answer = api.post(
            f"/v1/conversations/{conversation_id}/messages",
            json={
                "role": "assistant",
                "content": f"claimed {n}",
                "metadata": {"model": f"{invented}{n}", "requested_model": f"<b>{n}</b>"},
            },
            headers=alice,
        ).json()["message"]
        rated.append(
            api.put(feedback_url(conversation_id, answer["id"]), json={"rating": "up"}, headers=alice)
        )

    models = models_of_report(api, alice, brand)
    assert [r.status_code for r in rated] == [200, 200, 200]
    assert [(m["model"], m["ratings_up"]) for m in models] == [("unknown", 3)]


def test_a_usage_item_that_cannot_grow_never_costs_a_served_answer(
    api: httpx.Client, auth: TokenFactory, brand: str, local_stack: LocalStack
) -> None:
    """The brand's day item is near DynamoDB's 400 KB limit: the charge cannot be added, yet the
    answer the provider gave is stored and returned."""
    from local.dynamodb import client
    from parley.store import keys

    client(local_stack.database.endpoint).put_item(
        TableName=local_stack.table_name,
        Item={
            "PK": {"S": keys.usage_pk(brand)},
            "SK": {"S": keys.usage_day_sk(NOON.date().isoformat())},
            "total_tokens": {"N": "0"},
            "cost_usd": {"N": "0"},
            "requests": {"N": "0"},
            "padding": {"S": "x" * 409_400},
        },
    )
    alice = auth("alice", brands=[brand])

    conversation_id, question_id, answer_id = exchange(api, alice, brand)

    history = api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice).json()
    assert [m["id"] for m in history["messages"]] == [question_id, answer_id]
