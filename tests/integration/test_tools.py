"""Client-declared tools through the local gateway: declare → call → result → answer with each
provider (the real SDKs against servers that refuse what the real APIs refuse, and the offline
provider), ids preserved end to end, parallel calls, and every mistake a 400 naming it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import TokenFactory
from tests.doubles.fake_providers import ANTHROPIC_PATH, OPENAI_PATH, ProviderServer, Scripted

pytestmark = pytest.mark.integration

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
def alice(auth: TokenFactory) -> dict[str, str]:
    return auth("alice", brands=["acme"])


def conversation(api: httpx.Client, headers: dict[str, str], model: str, **extra: Any) -> str:
    response = api.post("/v1/conversations", json={"model": model, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["conversation"]["id"])


def post(api: httpx.Client, headers: dict[str, str], conversation_id: str, **body: Any) -> httpx.Response:
    return api.post(f"/v1/conversations/{conversation_id}/messages", json=body, headers=headers)


@pytest.mark.parametrize(("model", "path"), [("gpt-4o", OPENAI_PATH), ("claude-sonnet-4-6", ANTHROPIC_PATH)])
def test_a_tool_round_trip_keeps_the_call_id_end_to_end(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer, model: str, path: str
) -> None:
    conversation_id = conversation(api, alice, model)

    asked = post(
        api,
        alice,
        conversation_id,
        role="user",
        content="Weather in Paris?",
        mode="chat-completion",
        tools=[WEATHER],
    )

    assert asked.status_code == 200, asked.text
    reply = asked.json()["assistant_message"]
    assert reply["metadata"]["finish_reason"] == "tool_calls"
    (call,) = reply["tool_calls"]
    assert call["type"] == "function" and call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"])  # the arguments are JSON text, as OpenAI's
    sent = providers.requests_to(path)[-1].body
    if path == ANTHROPIC_PATH:
        assert sent["tools"] == [
            {
                "name": "get_weather",
                "description": "The current weather in a city",
                "input_schema": WEATHER["function"]["parameters"],
                "cache_control": {"type": "ephemeral"},  # the tools are a cached prefix
            }  # type: ignore[index]
        ]
        assert call["id"].startswith("toolu_")
    else:
        assert sent["tools"] == [WEATHER]

    answered = post(
        api,
        alice,
        conversation_id,
        role="tool",
        content="18C and sunny",
        tool_call_id=call["id"],
        mode="chat-completion",
    )

    assert answered.status_code == 200, answered.text
    assert answered.json()["assistant_message"]["content"] == "Echo: tool said 18C and sunny"
    assert answered.json()["assistant_message"]["metadata"]["finish_reason"] == "stop"
    resent = providers.requests_to(path)[-1].body["messages"]
    if path == ANTHROPIC_PATH:
        assert resent[-2]["content"][-1] == {
            "type": "tool_use",
            "id": call["id"],
            "name": "get_weather",
            "input": json.loads(call["function"]["arguments"]),
        }
        assert resent[-1]["content"][0]["tool_use_id"] == call["id"]
    else:
        assert resent[-2]["tool_calls"][0]["id"] == call["id"] and resent[-1]["tool_call_id"] == call["id"]


def test_the_offline_model_calls_a_declared_tool_and_answers_from_its_result(
    api: httpx.Client, alice: dict[str, str]
) -> None:
    conversation_id = conversation(api, alice, "parley-offline")

    asked = post(
        api,
        alice,
        conversation_id,
        role="user",
        content="What is the weather in Oslo?",
        mode="chat-completion",
        tools=[WEATHER],
    )
    again = post(
        api,
        alice,
        conversation(api, alice, "parley-offline"),
        role="user",
        content="What is the weather in Oslo?",
        mode="chat-completion",
        tools=[WEATHER],
    )

    (call,) = asked.json()["assistant_message"]["tool_calls"]
    assert call == again.json()["assistant_message"]["tool_calls"][0]  # deterministic
    assert json.loads(call["function"]["arguments"]) == {"city": "What is the weather in Oslo?"}
    answered = post(
        api,
        alice,
        conversation_id,
        role="tool",
        content="-3C, snow",
        tool_call_id=call["id"],
        mode="chat-completion",
    )
    assert answered.json()["assistant_message"]["content"] == "Offline answer from the tool result: -3C, snow"


def test_the_offline_model_does_not_call_a_tool_that_fits_nothing_unless_required(
    api: httpx.Client, alice: dict[str, str]
) -> None:
    conversation_id = conversation(api, alice, "parley-offline")

    free = post(
        api,
        alice,
        conversation_id,
        role="user",
        content="Hello there",
        mode="chat-completion",
        tools=[WEATHER],
    )
    required = post(
        api,
        alice,
        conversation(api, alice, "parley-offline"),
        role="user",
        content="Hello there",
        mode="chat-completion",
        tools=[WEATHER],
        tool_choice="required",
    )

    assert free.json()["assistant_message"]["tool_calls"] is None
    assert required.json()["assistant_message"]["tool_calls"][0]["function"]["name"] == "get_weather"


def test_parallel_calls_need_every_result_before_a_reply(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = conversation(api, alice, "gpt-4o")
    calls = [
        {
            "id": f"call_{city}",
            "type": "function",
            "function": {"name": "get_weather", "arguments": json.dumps({"city": city})},
        }
        for city in ("paris", "rome")
    ]
    providers.script(
        OPENAI_PATH,
        Scripted(
            reply={
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": None, "tool_calls": calls},
                        "logprobs": None,
                        "finish_reason": "tool_calls",
                    }
                ]
            }
        ),
    )
    asked = post(
        api,
        alice,
        conversation_id,
        role="user",
        content="Paris or Rome?",
        mode="chat-completion",
        tools=[WEATHER],
    )
    assert [c["id"] for c in asked.json()["assistant_message"]["tool_calls"]] == ["call_paris", "call_rome"]

    early = post(
        api,
        alice,
        conversation_id,
        role="tool",
        content="20C",
        tool_call_id="call_paris",
        mode="chat-completion",
    )
    assert early.status_code == 400 and early.json()["error"] == "tool_call_unanswered"
    assert "call_rome" in early.json()["message"]
    user_early = post(api, alice, conversation_id, role="user", content="well?", mode="chat-completion")
    assert user_early.status_code == 400 and user_early.json()["error"] == "tool_call_unanswered"

    first = post(api, alice, conversation_id, role="tool", content="20C", tool_call_id="call_paris")
    last = post(
        api,
        alice,
        conversation_id,
        role="tool",
        content="25C",
        tool_call_id="call_rome",
        mode="chat-completion",
    )

    assert first.status_code == 200 and last.status_code == 200, last.text
    assert last.json()["assistant_message"]["content"] == "Echo: tool said 20C | 25C"
    total = api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice).json()["total"]
    assert total == 5  # user, calls, two results, answer: the refused requests wrote nothing


def test_a_conversations_own_tools_are_offered_when_a_request_declares_none(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = conversation(api, alice, "gpt-4o", tools=[WEATHER])

    asked = post(api, alice, conversation_id, role="user", content="Weather in Lyon?", mode="chat-completion")
    fetched = api.get(f"/v1/conversations/{conversation_id}", headers=alice).json()["conversation"]

    assert asked.json()["assistant_message"]["tool_calls"]
    assert providers.requests_to(OPENAI_PATH)[-1].body["tools"] == [WEATHER]
    assert fetched["tools"] == [WEATHER]


def test_tool_choice_none_and_a_named_tool_reach_the_provider(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    other = {
        "type": "function",
        "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
    }
    conversation_id = conversation(api, alice, "claude-sonnet-4-6")

    none = post(
        api,
        alice,
        conversation_id,
        role="user",
        content="hi",
        mode="chat-completion",
        tools=[WEATHER, other],
        tool_choice="none",
    )
    named = post(
        api,
        alice,
        conversation_id,
        role="user",
        content="time?",
        mode="chat-completion",
        tools=[WEATHER, other],
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )

    assert none.json()["assistant_message"]["tool_calls"] is None
    assert named.json()["assistant_message"]["tool_calls"][0]["function"]["name"] == "get_time"
    sent = [r.body["tool_choice"] for r in providers.requests_to(ANTHROPIC_PATH)]
    assert sent == [{"type": "none"}, {"type": "tool", "name": "get_time"}]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"tools": [WEATHER, WEATHER]}, "get_weather"),
        ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools"),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}]},
            "object",
        ),
        ({"tools": [{"type": "function", "function": {"name": f"f{n}"}} for n in range(129)]}, "tools"),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "nope"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tools": [WEATHER], "tool_choice": "sometimes"}, "tool_choice"),
    ],
)
def test_a_tool_mistake_is_a_400_naming_it_and_writes_nothing(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer, change: dict[str, Any], named: str
) -> None:
    conversation_id = conversation(api, alice, "gpt-4o")

    response = post(api, alice, conversation_id, role="user", content="hi", mode="chat-completion", **change)

    assert response.status_code == 400, response.text
    assert named in response.json()["message"]
    assert providers.requests_to(OPENAI_PATH) == []
    assert api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice).json()["total"] == 0


def test_a_streamed_tool_call_arrives_in_fragments_and_whole_in_done(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = conversation(api, alice, "claude-sonnet-4-6")

    with api.stream(
        "POST",
        f"/v1/conversations/{conversation_id}/messages",
        json={
            "role": "user",
            "content": "Weather in Nice?",
            "mode": "chat-completion",
            "tools": [WEATHER],
            "stream": True,
        },
        headers=alice,
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]

    events = [json.loads(line.removeprefix("data: ")) for line in lines]
    fragments = [f for e in events[:-1] for f in e.get("tool_calls") or []]
    (call,) = events[-1]["assistant_message"]["tool_calls"]
    assert fragments[0]["id"] == call["id"] and fragments[0]["function"]["name"] == "get_weather"
    assert "".join(f["function"]["arguments"] for f in fragments) == call["function"]["arguments"]
