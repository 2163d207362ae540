"""OpenAI's `response_format` on every provider. OpenAI takes it as it is; for the others the
answer is asked for as a forced call of one tool whose parameters are the wanted schema (the
mechanism Anthropic documents for JSON output, and Bedrock's Converse offers the same), and the
call's arguments become the answer's content. An OpenAI-compatible endpoint's model gets the
response_format if its endpoint says it honours json_schema, else the forced tool if it runs
tools, else a 400. The offline model fills in a document valid against the schema."""

from __future__ import annotations

import dataclasses
from typing import Any

from parley.errors import InvalidRequest
from parley.providers.base import ChatRequest, Completion, FinishReason
from parley.providers.registry import ModelSpec

JSON_OBJECT_TOOL = "json_object"


def with_response_format(
    request: ChatRequest, spec: ModelSpec, response_format: dict[str, Any] | None
) -> tuple[ChatRequest, bool]:
    """The request asking for `response_format` the way the model's provider takes it, and
    whether the answer comes as a forced tool call (then `as_content` reads it)."""
    if not response_format or response_format.get("type") == "text":
        return request, False
    if spec.provider == "openai" or (spec.endpoint is not None and spec.json_schema):
        return dataclasses.replace(request, response_format=response_format), False
    if not spec.tools:
        raise InvalidRequest(
            f"The model '{spec.id}' takes neither a json_schema response_format nor tools (its endpoint "
            "says so in OPENAI_COMPATIBLE_ENDPOINTS): ask without response_format.",
            code="unsupported_parameter",
            param="response_format",
        )
    if request.tools:
        raise InvalidRequest(
            "response_format json_object or json_schema cannot be combined with tools on this model.",
            param="response_format",
        )
    if response_format["type"] == "json_schema":
        wanted = response_format.get("json_schema") or {}
        name = wanted.get("name") or JSON_OBJECT_TOOL
        schema = wanted.get("schema") or {"type": "object"}
        description = wanted.get("description") or "Answer with the JSON document this schema describes."
    else:
        name, schema, description = JSON_OBJECT_TOOL, {"type": "object"}, "Answer with one JSON object."
    tool = {"type": "function", "function": {"name": name, "description": description, "parameters": schema}}
    choice = {"type": "function", "function": {"name": name}}
    return dataclasses.replace(request, tools=[tool], tool_choice=choice), True


def as_content(completion: Completion) -> Completion:
    """A forced tool call's arguments as the answer's content."""
    calls = completion.tool_calls or []
    content = calls[0]["function"]["arguments"] if calls else completion.content
    finish: FinishReason = "length" if completion.finish_reason == "length" else "stop"
    return dataclasses.replace(completion, content=content, tool_calls=None, finish_reason=finish)
