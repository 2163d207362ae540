"""OpenAI's Responses API on Parley, through the local gateway with the real `openai` SDK: an
answer, a stream the SDK accumulates into the same response, a chain of three turns by
`previous_response_id` (and a fork), a function tool round trip, structured output parsed into a
pydantic model, and the stored response read back, listed and deleted (docs/openai.md)."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from pydantic import BaseModel

from tests.conftest import TokenFactory

pytestmark = pytest.mark.integration

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather forecast in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def client_for(api: httpx.Client, headers: dict[str, str]) -> openai.OpenAI:
    token = headers["Authorization"].removeprefix("Bearer ")
    return openai.OpenAI(base_url=f"{str(api.base_url).rstrip('/')}/v1", api_key=token, max_retries=0)


@pytest.fixture
def alice(auth: TokenFactory) -> dict[str, str]:
    return auth("alice", brands=["acme"])


@pytest.fixture
def client(api: httpx.Client, alice: dict[str, str]) -> openai.OpenAI:
    return client_for(api, alice)


def test_an_answer_is_a_stored_turn_of_a_conversation(
    client: openai.OpenAI, api: httpx.Client, alice: dict[str, str]
) -> None:
    response = client.responses.create(
        model="parley-offline", instructions="Be brief.", input="Where should I go in May?"
    )

    assert response.id.startswith("resp_") and response.status == "completed"
    assert "Where should I go in May?" in response.output_text
    assert response.usage is not None and response.usage.input_tokens > 0
    conversation_id = response.model_extra["conversation_id"]  # type: ignore[index]
    history = api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice).json()["messages"]
    assert [(m["role"], m["content"]) for m in history] == [
        ("user", "Where should I go in May?"),
        ("assistant", response.output_text),
    ]
    assert client.responses.retrieve(response.id).output_text == response.output_text
    [item] = client.responses.input_items.list(response.id).data
    assert item.type == "message" and item.role == "user"  # type: ignore[union-attr]
    assert item.content[0].text == "Where should I go in May?"  # type: ignore[union-attr]


def test_a_stream_comes_in_the_order_the_sdk_requires_and_adds_up_to_the_response(
    client: openai.OpenAI,
) -> None:
    with client.responses.stream(model="parley-offline", input="Tell me about Porto") as stream:
        events = list(stream)
        final = stream.get_final_response()

    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert kinds.index("response.output_item.added") < kinds.index("response.content_part.added")
    assert kinds.index("response.content_part.added") < kinds.index("response.output_text.delta")
    assert [event.sequence_number for event in events] == list(range(len(events)))
    pieces = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert len(pieces) > 1 and "".join(pieces) == final.output_text and "Porto" in final.output_text
    assert client.responses.retrieve(final.id).output_text == final.output_text


def test_a_chain_of_three_continues_and_an_earlier_turn_forks(client: openai.OpenAI) -> None:
    first = client.responses.create(model="parley-offline", input="My name is Ada.")
    second = client.responses.create(
        model="parley-offline", input="I like trains.", previous_response_id=first.id
    )
    third = client.responses.create(
        model="parley-offline", input="What do I like?", previous_response_id=second.id
    )
    fork = client.responses.create(
        model="parley-offline", input="Start again.", previous_response_id=first.id
    )

    assert "4 message(s) in context" not in first.output_text
    assert "5 message(s) in context" in third.output_text  # two turns before it, and its question
    assert "3 message(s) in context" in fork.output_text  # the first turn only: a branch of its own
    ids = {r.model_extra["conversation_id"] for r in (first, second, third, fork)}  # type: ignore[index]
    assert len(ids) == 1


def test_a_function_tool_round_trip(client: openai.OpenAI) -> None:
    asked = client.responses.create(
        model="parley-offline",
        input="Weather in Lisbon?",
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "function", "name": "get_weather"},
    )
    [call] = [item for item in asked.output if item.type == "function_call"]

    answered = client.responses.create(
        model="parley-offline",
        previous_response_id=asked.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 24C"}],
        tools=[WEATHER],  # type: ignore[list-item]
    )

    assert call.name == "get_weather" and call.arguments
    assert "sunny, 24C" in answered.output_text


def test_a_streamed_function_call_comes_whole_to_the_sdk(client: openai.OpenAI) -> None:
    with client.responses.stream(
        model="parley-offline",
        input="Weather in Bonn?",
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "function", "name": "get_weather"},
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()

    [call] = [item for item in final.output if item.type == "function_call"]
    assert call.name == "get_weather" and call.arguments.startswith("{")
    assert "response.function_call_arguments.done" in kinds


class Trip(BaseModel):
    city: str
    days: int


def test_structured_output_parses_into_a_model(client: openai.OpenAI) -> None:
    parsed = client.responses.parse(model="parley-offline", input="Plan a trip", text_format=Trip)

    assert isinstance(parsed.output_parsed, Trip)


def test_another_users_response_is_a_404_and_a_deleted_one_is_gone(
    client: openai.OpenAI, api: httpx.Client, auth: TokenFactory
) -> None:
    mine = client.responses.create(model="parley-offline", input="Hello", store=True)
    bob = client_for(api, auth("bob", brands=["acme"]))

    with pytest.raises(openai.NotFoundError):
        bob.responses.retrieve(mine.id)
    with pytest.raises(openai.NotFoundError):
        bob.responses.create(model="parley-offline", input="Hi", previous_response_id=mine.id)
    client.responses.delete(mine.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(mine.id)


def test_a_response_not_stored_has_no_record(client: openai.OpenAI) -> None:
    response = client.responses.create(model="parley-offline", input="Hello", store=False)

    assert response.output_text and response.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "parley-offline", "input": "Hi", "background": True, "store": False}, "store"),
        ({"model": "no-such-model", "input": "Hi"}, "model"),
    ],
)
def test_mistakes_are_openai_errors_naming_the_parameter(
    api: httpx.Client, alice: dict[str, str], body: dict[str, Any], param: str
) -> None:
    refused = api.post("/v1/responses", json=body, headers=alice)

    assert refused.status_code in (400, 404), refused.text
    assert refused.json()["error"]["param"] == param
