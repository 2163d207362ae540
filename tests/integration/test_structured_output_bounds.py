"""Structured output is bounded on every provider path: a schema that describes an unbounded
document (recursion, a huge minItems) makes at most `max_tokens` of it, cut with finish_reason
`length` as a model's answer is; a malformed schema, in response_format or a tool's parameters,
is a 400 `invalid_schema` naming where, before any model is asked."""

from __future__ import annotations

import json
import uuid
from typing import Any

import openai
import pytest

from local.token import mint
from tests.conftest import LocalStack

pytestmark = pytest.mark.integration

RECURSIVE = {
    "$defs": {
        "node": {
            "type": "object",
            "properties": {name: {"$ref": "#/$defs/node"} for name in ("a", "b", "c", "d")},
            "required": ["a", "b", "c", "d"],
        }
    },
    "$ref": "#/$defs/node",
}
HUGE_ARRAY = {
    "type": "object",
    "properties": {"rows": {"type": "array", "minItems": 1_000_000, "items": {"type": "string"}}},
    "required": ["rows"],
}
QUESTION = [{"role": "user", "content": "Describe the tree of my family, please."}]


@pytest.fixture
def client(local_stack: LocalStack) -> openai.OpenAI:
    token = mint(f"schema-{uuid.uuid4().hex[:6]}", ["acme"])
    return openai.OpenAI(base_url=f"{local_stack.url}/v1", api_key=token, max_retries=0, timeout=30)


def structured(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}


@pytest.mark.parametrize("schema", [RECURSIVE, HUGE_ARRAY], ids=["recursive", "min-items"])
@pytest.mark.parametrize("max_tokens", [64, None])
def test_an_unbounded_schema_makes_at_most_max_tokens_and_says_length(
    client: openai.OpenAI, schema: dict[str, Any], max_tokens: int | None
) -> None:
    answer = client.chat.completions.create(
        model="parley-offline",
        messages=QUESTION,  # type: ignore[arg-type]
        response_format=structured(schema),  # type: ignore[arg-type]
        **({"max_tokens": max_tokens} if max_tokens else {}),
    )

    content = answer.choices[0].message.content or ""
    assert answer.choices[0].finish_reason == "length"
    assert 0 < len(content) <= 4 * (max_tokens or 1024)
    assert answer.usage is not None and answer.usage.completion_tokens <= (max_tokens or 1024) + 8


def test_a_bounded_schema_still_gets_a_whole_document(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
        "required": ["city", "days"],
    }

    answer = client.chat.completions.create(
        model="parley-offline",
        messages=QUESTION,  # type: ignore[arg-type]
        response_format=structured(schema),  # type: ignore[arg-type]
    )

    assert answer.choices[0].finish_reason == "stop"
    assert set(json.loads(answer.choices[0].message.content or "")) == {"city", "days"}


@pytest.mark.parametrize(
    ("schema", "named"),
    [
        (
            {"type": "object", "properties": {"a": {"type": "array", "minItems": "many"}}},
            "properties.a.minItems",
        ),
        ({"type": "object", "properties": {"a": {"type": "array", "items": 3}}}, "properties.a.items"),
        ({"type": "object", "properties": {"a": {"type": "strange"}}}, "properties.a.type"),
        ({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}, "properties.a.$ref"),
        ({"type": "object", "properties": {"a": {"anyOf": []}}}, "properties.a.anyOf"),
        ({"type": "object", "required": "a"}, ".required must be a list"),
    ],
)
def test_a_malformed_schema_is_a_400_naming_where(
    client: openai.OpenAI, schema: dict[str, Any], named: str
) -> None:
    with pytest.raises(openai.BadRequestError) as in_format:
        client.chat.completions.create(
            model="parley-offline",
            messages=QUESTION,  # type: ignore[arg-type]
            response_format=structured(schema),  # type: ignore[arg-type]
        )
    with pytest.raises(openai.BadRequestError) as in_tool:
        client.chat.completions.create(
            model="parley-offline",
            messages=QUESTION,  # type: ignore[arg-type]
            tools=[{"type": "function", "function": {"name": "describe", "parameters": schema}}],  # type: ignore[list-item]
        )

    for refusal in (in_format.value, in_tool.value):
        assert refusal.code == "invalid_schema"
        assert named in refusal.message
