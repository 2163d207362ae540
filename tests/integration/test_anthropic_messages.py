"""Anthropic's Messages API on Parley, through the local gateway with the real `anthropic` SDK:
an answer, a stream in Anthropic's event order, a tool round trip, token counting, and errors the
SDK raises as its typed exceptions (docs/anthropic.md)."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest

from tests.conftest import TokenFactory

pytestmark = pytest.mark.integration

WEATHER = {
    "name": "get_weather",
    "description": "The weather forecast in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture
def claude(api: httpx.Client, auth: TokenFactory) -> anthropic.Anthropic:
    token = auth("alice", brands=["acme"])["Authorization"].removeprefix("Bearer ")
    return anthropic.Anthropic(
        base_url=str(api.base_url).rstrip("/"), auth_token=token, api_key=None, max_retries=0
    )


def test_an_answer_comes_in_anthropics_shape(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(
        model="parley-offline",
        max_tokens=200,
        system="You are terse.",
        messages=[{"role": "user", "content": "Where should I go in May?"}],
    )

    assert message.type == "message" and message.role == "assistant" and message.id.startswith("msg_")
    [block] = message.content
    assert block.type == "text" and "Where should I go in May?" in block.text
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


def test_a_stream_comes_in_anthropics_event_order_and_adds_up_to_the_answer(
    claude: anthropic.Anthropic,
) -> None:
    with claude.messages.stream(
        model="parley-offline", max_tokens=200, messages=[{"role": "user", "content": "Tell me about Porto"}]
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()

    kinds = [event.type for event in events]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert kinds[1] == "content_block_start" and kinds[-3:-1] == ["content_block_stop", "message_delta"]
    pieces = [
        e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta"
    ]
    assert len(pieces) > 1  # it streamed, piece by piece
    [block] = final.content
    assert block.type == "text" and block.text == "".join(pieces) and "Porto" in block.text
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0


@pytest.mark.parametrize("streamed", [False, True])
def test_a_tool_round_trip_keeps_the_tool_use_id(claude: anthropic.Anthropic, streamed: bool) -> None:
    ask: dict[str, Any] = {
        "model": "parley-offline",
        "max_tokens": 200,
        "tools": [WEATHER],
        "tool_choice": {"type": "tool", "name": "get_weather"},
        "messages": [{"role": "user", "content": "Weather in Lisbon?"}],
    }
    if streamed:
        with claude.messages.stream(**ask) as stream:
            first = stream.get_final_message()
    else:
        first = claude.messages.create(**ask)

    [use] = [block for block in first.content if block.type == "tool_use"]
    assert first.stop_reason == "tool_use" and use.name == "get_weather" and isinstance(use.input, dict)
    answered = claude.messages.create(
        model="parley-offline",
        max_tokens=200,
        tools=[WEATHER],  # type: ignore[list-item]
        messages=[
            {"role": "user", "content": "Weather in Lisbon?"},
            {"role": "assistant", "content": first.content},  # type: ignore[typeddict-item]
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny, 24C"}],
            },
        ],
    )
    assert answered.content[0].type == "text" and "sunny, 24C" in answered.content[0].text  # type: ignore[union-attr]


def test_count_tokens_grows_with_the_input(claude: anthropic.Anthropic) -> None:
    short = claude.messages.count_tokens(model="parley-offline", messages=[{"role": "user", "content": "Hi"}])
    longer = claude.messages.count_tokens(
        model="parley-offline",
        system="You are a helpful travel guide.",
        tools=[WEATHER],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "Hi, where should I go in May? " * 20}],
    )

    assert 0 < short.input_tokens < longer.input_tokens


def test_mistakes_are_anthropics_errors_and_name_the_problem(
    claude: anthropic.Anthropic, api: httpx.Client, auth: TokenFactory
) -> None:
    missing = api.post(
        "/v1/messages",
        json={"model": "parley-offline", "messages": [{"role": "user", "content": "Hi"}]},
        headers=auth("alice", brands=["acme"]),
    )
    with pytest.raises(anthropic.NotFoundError) as unknown:
        claude.messages.create(
            model="no-such-model", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
        )
    with pytest.raises(anthropic.BadRequestError) as image:
        picture = {"type": "base64", "media_type": "image/png", "data": "AA=="}
        claude.messages.create(
            model="parley-offline",
            max_tokens=10,
            messages=[{"role": "user", "content": [{"type": "image", "source": picture}]}],  # type: ignore[typeddict-item]
        )

    assert missing.status_code == 400
    assert missing.json()["type"] == "error" and missing.json()["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in missing.json()["error"]["message"]
    assert unknown.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert "'image' blocks are not supported" in image.value.message


def test_a_caller_without_a_token_is_refused_in_anthropics_shape(api: httpx.Client) -> None:
    refused = api.post("/v1/messages", json={"model": "parley-offline", "max_tokens": 5, "messages": []})

    assert refused.status_code == 401


def test_system_turns_between_the_others_join_the_system_prompt(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(
        model="parley-offline",
        max_tokens=20_000,  # more than the model writes: the most it can write, as agents ask
        messages=[
            {"role": "user", "content": "Plan a day in Lisbon"},
            {"role": "system", "content": "Answer in one line."},  # type: ignore[typeddict-item]
        ],
    )

    [block] = message.content
    assert block.type == "text" and "Plan a day in Lisbon" in block.text


def test_the_sdks_own_api_key_header_carries_the_token_too(api: httpx.Client, auth: TokenFactory) -> None:
    token = auth("alice", brands=["acme"])["Authorization"].removeprefix("Bearer ")
    keyed = anthropic.Anthropic(base_url=str(api.base_url).rstrip("/"), api_key=token, max_retries=0)
    mixed = {
        "x-api-key": token,
        "Authorization": f"Bearer {auth('bob', brands=['acme'])['Authorization'][7:]}",
    }

    message = keyed.messages.create(
        model="parley-offline", max_tokens=50, messages=[{"role": "user", "content": "Hi"}]
    )
    refused = api.post(
        "/v1/messages",
        json={"model": "parley-offline", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]},
        headers=mixed,
    )

    assert message.content[0].type == "text"
    assert refused.status_code == 401  # two different tokens: neither is picked
