"""`mode: chat-completion` against both providers' wire formats through the local gateway, and
every failure: the documented status, and nothing half-written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import TokenFactory
from tests.doubles.fake_providers import (
    ANTHROPIC_PATH,
    OPENAI_PATH,
    ProviderServer,
    Scripted,
    anthropic_error,
    openai_error,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def alice(auth: TokenFactory) -> dict[str, str]:
    return auth("alice")


def conversation(api: httpx.Client, headers: dict[str, str], **body: Any) -> str:
    response = api.post("/v1/conversations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["conversation"]["id"])


def ask(
    api: httpx.Client, headers: dict[str, str], conversation_id: str, content: str = "Hello", **extra: Any
) -> httpx.Response:
    return api.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "content": content, "mode": "chat-completion", **extra},
        headers=headers,
    )


def total(api: httpx.Client, headers: dict[str, str], conversation_id: str) -> int:
    return int(api.get(f"/v1/conversations/{conversation_id}/messages", headers=headers).json()["total"])


@pytest.mark.parametrize(
    ("model", "path", "provider", "answered_by"),
    [
        ("gpt-4o", OPENAI_PATH, "openai", "gpt-4o-2024-08-06"),
        ("claude-sonnet-4-6", ANTHROPIC_PATH, "anthropic", "claude-sonnet-4-6"),
    ],
)
def test_a_reply_from_each_provider_is_stored_with_usage_and_cost(
    api: httpx.Client,
    alice: dict[str, str],
    providers: ProviderServer,
    model: str,
    path: str,
    provider: str,
    answered_by: str,
) -> None:
    conversation_id = conversation(api, alice, model=model, system_prompt="Be brief.")

    response = ask(api, alice, conversation_id, "What is Parley?")

    assert response.status_code == 200, response.text
    reply = response.json()["assistant_message"]
    assert reply["content"] == "Echo: What is Parley?"
    assert reply["token_usage"]["total_tokens"] > 0
    assert reply["metadata"]["model"] == answered_by
    assert reply["metadata"]["provider"] == provider
    assert reply["metadata"]["cost_usd"] > 0
    assert reply["metadata"]["finish_reason"] == "stop"
    assert len(providers.requests_to(path)) == 1
    stored = api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice).json()["messages"]
    assert stored[-1] == reply


def test_a_request_may_override_the_conversations_model(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = conversation(api, alice, model="gpt-4o")

    response = ask(api, alice, conversation_id, model="claude-sonnet-4-6")

    assert response.status_code == 200
    assert response.json()["assistant_message"]["metadata"]["provider"] == "anthropic"
    assert providers.requests_to(OPENAI_PATH) == []


def test_an_unknown_model_override_is_a_400(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = conversation(api, alice, model="gpt-4o")

    response = ask(api, alice, conversation_id, model="gpt-17")

    assert response.status_code == 400 and response.json()["error"] == "unknown_model"
    assert total(api, alice, conversation_id) == 0


@pytest.mark.parametrize(
    ("model", "path", "status", "body"),
    [
        ("gpt-4o", OPENAI_PATH, 500, openai_error("boom", "server_error")),
        ("gpt-4o", OPENAI_PATH, 429, openai_error("Rate limit reached", "requests")),
        ("claude-sonnet-4-6", ANTHROPIC_PATH, 529, anthropic_error("overloaded_error", "Overloaded")),
        ("claude-sonnet-4-6", ANTHROPIC_PATH, 500, anthropic_error("api_error", "Internal")),
    ],
)
def test_persistent_provider_failures_are_a_502_and_write_nothing(
    api: httpx.Client,
    alice: dict[str, str],
    providers: ProviderServer,
    model: str,
    path: str,
    status: int,
    body: dict[str, Any],
) -> None:
    conversation_id = conversation(api, alice, model=model)
    providers.script(path, *[Scripted(status=status, body=body, headers={"retry-after-ms": "10"})] * 3)

    response = ask(api, alice, conversation_id)

    assert response.status_code == 502
    assert response.json()["error"] == "provider_error"
    assert total(api, alice, conversation_id) == 0
    assert len(providers.requests_to(path)) == 3


def test_a_429_then_success_stores_the_reply(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = conversation(api, alice, model="gpt-4o")
    providers.script(
        OPENAI_PATH,
        Scripted(status=429, body=openai_error("slow down", "requests"), headers={"retry-after": "0.2"}),
    )

    response = ask(api, alice, conversation_id)

    assert response.status_code == 200
    assert total(api, alice, conversation_id) == 2


def test_a_slow_provider_is_a_504_within_the_deadline_and_writes_nothing(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = conversation(api, alice, model="claude-sonnet-4-6")
    providers.script(ANTHROPIC_PATH, *[Scripted(delay=6)] * 3)

    response = ask(api, alice, conversation_id)

    assert response.status_code == 504
    assert response.json()["error"] == "provider_timeout"
    # PROVIDER_TIMEOUT_SECONDS=3: the first attempt used the whole deadline, so the SDK's retries
    # never reached the provider (a retry after the 504 would be billed and never metered)
    assert len(providers.requests_to(ANTHROPIC_PATH)) == 1
    assert total(api, alice, conversation_id) == 0


@pytest.mark.parametrize(
    ("model", "path", "error"),
    [
        ("claude-sonnet-4-6", ANTHROPIC_PATH, anthropic_error("rate_limit_error", "slow down")),
        ("gpt-4o", OPENAI_PATH, openai_error("slow down", "requests")),
    ],
)
def test_a_retry_after_longer_than_the_deadline_is_a_504_and_nothing_more_reaches_the_provider(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer, model: str, path: str, error: Any
) -> None:
    conversation_id = conversation(api, alice, model=model)
    providers.script(path, Scripted(status=429, body=error, headers={"retry-after": "60"}))

    response = ask(api, alice, conversation_id)
    after = len(providers.requests_to(path))
    served = ask(api, alice, conversation_id)

    assert response.status_code == 504 and response.json()["error"] == "provider_timeout"
    assert after == 1  # no retry was sent, now or later
    assert served.status_code == 200
    assert len(providers.requests_to(path)) == 2
    assert total(api, alice, conversation_id) == 2


def test_a_provider_400_is_a_400_that_never_echoes_the_providers_words(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = conversation(api, alice, model="gpt-4o")
    echoed = "Invalid header 'Authorization: Bearer sk-proxy-secret-77'."  # a proxy echoing credentials
    providers.script(OPENAI_PATH, Scripted(status=400, body=openai_error(echoed, "invalid_request_error")))

    response = ask(api, alice, conversation_id)

    assert response.status_code == 400
    assert response.json()["error"] == "provider_rejected_request"
    assert "OpenAI refused the request as invalid (HTTP 400)" in response.json()["message"]
    assert "sk-proxy-secret-77" not in response.text
    assert total(api, alice, conversation_id) == 0


def test_a_provider_answering_200_with_a_non_json_body_is_a_502(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = conversation(api, alice, model="gpt-4o")
    providers.script(
        OPENAI_PATH,
        Scripted(status=200, raw=b"<html>proxy login</html>", headers={"content-type": "text/html"}),
    )

    response = ask(api, alice, conversation_id)

    assert response.status_code == 502, response.text
    assert response.json()["error"] == "provider_error"
    assert total(api, alice, conversation_id) == 0


def test_a_provider_without_a_key_is_a_503_naming_the_setting(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    conversation_id = conversation(api, alice, model="gpt-4o")

    response = ask(api, alice, conversation_id)

    assert response.status_code == 503
    assert response.json()["error"] == "provider_not_configured"
    assert "OPENAI_API_KEY" in response.json()["message"]
    assert total(api, alice, conversation_id) == 0


def long_history(api: httpx.Client, alice: dict[str, str]) -> str:
    conversation_id = conversation(api, alice, model="gpt-3.5-turbo", system_prompt="Be brief.")
    url = f"/v1/conversations/{conversation_id}/messages"
    for n in range(8):  # ~3,400 tokens each by Parley's estimate; the window leaves ~12,000
        assert (
            api.post(
                url, json={"role": "user", "content": f"{n} " + "word " * 2000}, headers=alice
            ).status_code
            == 200
        )
    return conversation_id


def test_with_the_window_strategy_a_long_history_is_trimmed_to_the_newest_messages_that_fit(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HISTORY_STRATEGY", "window")
    conversation_id = long_history(api, alice)

    response = ask(api, alice, conversation_id, "Summarise")

    assert response.status_code == 200
    sent = providers.requests_to(OPENAI_PATH)[0].body["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief."}
    assert [m["content"][:1] for m in sent[1:-1]] == ["5", "6", "7"]
    assert sent[-1]["content"] == "Summarise"
    assert response.json()["assistant_message"]["metadata"]["context_messages"] == 4


def test_what_no_longer_fits_is_folded_into_a_summary_the_next_prompt_carries(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = long_history(api, alice)

    response = ask(api, alice, conversation_id, "Summarise")

    assert response.status_code == 200, response.text
    summarised, answered = (r.body for r in providers.requests_to(OPENAI_PATH))
    folded = summarised["messages"][-1]["content"]
    assert "0 word" in folded and "1 word" in folded and "7 word" not in folded
    summary = api.get(f"/v1/conversations/{conversation_id}", headers=alice).json()["conversation"]["summary"]
    assert summary["content"] == "Echo: " + folded  # the fake model echoes what it was given
    system = answered["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("Be brief.\n\n")
    assert summary["content"] in system["content"]
    turns = [m["content"][:1] for m in answered["messages"][1:-1]]
    assert turns and "0" not in turns and turns[-1] == "7"  # the newest that fit, after the summary
    history = api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice).json()["messages"]
    through = [m["id"] for m in history].index(summary["through_message_id"])
    assert history[through + 1]["content"][:1] == turns[0]  # nothing between summary and turns
    usage = response.json()["assistant_message"]["metadata"]
    assert usage["context_messages"] == len(turns) + 1


def test_a_message_too_long_for_the_model_is_a_400_and_writes_nothing(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = conversation(api, alice, model="gpt-3.5-turbo")

    response = ask(api, alice, conversation_id, "word " * 20_000)

    assert response.status_code == 400
    assert response.json()["error"] == "context_too_long"
    assert providers.requests_to(OPENAI_PATH) == []
    assert total(api, alice, conversation_id) == 0


def test_tool_calls_and_results_round_trip_through_the_api(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
    }
    providers.script(
        OPENAI_PATH,
        Scripted(
            reply={
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls",
                        "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                    }
                ]
            }
        ),
    )
    conversation_id = conversation(api, alice, model="gpt-4o")

    first = ask(api, alice, conversation_id, "Weather in Oslo?")
    second = api.post(
        f"/v1/conversations/{conversation_id}/messages",
        headers=alice,
        json={"role": "tool", "content": '{"temp": 21}', "tool_call_id": "call_1", "mode": "chat-completion"},
    )

    assert first.json()["assistant_message"]["tool_calls"] == [call]
    assert first.json()["assistant_message"]["metadata"]["finish_reason"] == "tool_calls"
    assert second.status_code == 200
    sent = providers.requests_to(OPENAI_PATH)[1].body["messages"]
    assert sent[-2] == {"role": "assistant", "content": None, "tool_calls": [call]}
    assert sent[-1] == {"role": "tool", "content": '{"temp": 21}', "tool_call_id": "call_1"}
