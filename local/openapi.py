"""Writes openapi.json: one OpenAPI 3 document for the whole API, merged by Powertools from the
functions' own routes, with the error responses every route can give. `make openapi`; a test
fails when the committed document drifts from the code."""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer

from local import reference
from local.template import OPENAPI_DOCUMENT, load
from parley.edge.request_guard import (
    MAX_DEPTH,
    MAX_INTEGER_DIGITS,
    MAX_PATH_PARAMETER_LENGTH,
    MAX_QUERY_PARAMETER_LENGTH,
    REFUSAL_CODE,
)
from parley.models.api.anthropic import AnthropicError
from parley.models.api.openai import OpenAIErrorBody
from parley.providers.registry import MODELS

DOCUMENT = OPENAPI_DOCUMENT
ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
OPENAI_ERROR_REF = {"$ref": "#/components/schemas/OpenAIErrorBody"}
ANTHROPIC_ERROR_REF = {"$ref": "#/components/schemas/AnthropicError"}
# On the OpenAI-compatible routes Parley's functions answer errors in OpenAI's shape; API Gateway
# itself answers a missing or bad token (401) before any function runs, in Parley's shape, and may
# answer these statuses in it too (access denied, too large, throttled, a function that failed).
GATEWAY_ONLY = {"401"}
GATEWAY_TOO = {"403", "413", "429", "500", "502", "504"}


def openai_error_schema(status: str, shape: dict[str, Any] = OPENAI_ERROR_REF) -> dict[str, Any]:
    """An error of an OpenAI- (or Anthropic-) compatible route: in that API's `shape`, or Parley's
    where API Gateway answers before any function runs."""
    if status in GATEWAY_ONLY:
        return ERROR_REF
    if status in GATEWAY_TOO:
        return {"anyOf": [shape, ERROR_REF]}
    return shape


# What any route may answer besides its success: the gateway's 401/403/413/429, the functions'
# 400/404/500, and the providers' 502/503/504 (only generating routes give those in practice).
# What the request guard refuses before any route runs: limits no JSON Schema keyword can state, so
# a request valid against its schema may still get this 400.
TOO_COMPLEX = (
    f"`{REFUSAL_CODE}` when the request matches its schema but breaks a limit JSON Schema cannot "
    f"state: JSON nested over {MAX_DEPTH} levels, an integer of more than {MAX_INTEGER_DIGITS} digits "
    "(DynamoDB's precision), NaN or Infinity, a lone UTF-16 surrogate in a key or value, a path "
    f"parameter over {MAX_PATH_PARAMETER_LENGTH} or a query parameter over {MAX_QUERY_PARAMETER_LENGTH} "
    "characters."
)
ERRORS = {
    "400": f"Invalid request: the message names the field. {TOO_COMPLEX}",
    "401": "Missing or invalid token",
    "403": "The token lacks the scope, brand or ownership this needs",
    "404": "Not found",
    "409": "Conflict",
    "413": "Content too large",
    "429": "Too many requests",
    "500": "Unexpected error",
    "502": "The model provider failed",
    "503": "A provider or store is not available",
    "504": "The model provider did not answer in time",
}


def build() -> dict[str, Any]:
    merger = OpenAPIMerge(
        title="Parley",
        version="1.0.0",
        description=(
            "Serverless AI conversation and RAG API. Authenticate with a JWT as a bearer token or in the "
            "`session` cookie; `brands` and `scope` claims decide what a caller may do. Every error is "
            "`{error, message}`: `error` a stable code, `message` a sentence naming the problem. Every POST "
            "takes an `Idempotency-Key`. The generating routes stream as server-sent events on request. "
            f"Any operation may answer 400 {TOO_COMPLEX}"
        ),
        security_schemes={
            "bearer": HTTPBearer(bearerFormat="JWT"),
            "session": APIKey(**{"in": APIKeyIn.cookie}, name="session"),
        },
        security=[{"bearer": []}, {"session": []}],
        on_conflict="error",
    )
    template = load()
    docstrings: dict[tuple[str, str], str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        routed = {route.function for route in template.routes}
        for spec in sorted(template.functions.values(), key=lambda s: s.code_dir.name):
            if spec.logical_id not in routed:  # a worker: no routes (a folder's routes, once)
                continue
            module = _module(spec.code_dir / "app.py")
            if hasattr(module, "app"):  # the authorizer and the CORS preflight have no routes
                merger.add_schema(module.app.get_openapi_schema())
                for route in template.routes:
                    if route.function == spec.logical_id:
                        docstrings[(route.method, route.resource)] = module.__doc__ or ""
        document = json.loads(merger.get_openapi_json_schema())
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorBody"] = {
        "type": "object",
        "title": "ErrorBody",
        "required": ["error", "message"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    }
    schemas["OpenAIErrorBody"] = OpenAIErrorBody.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    schemas.update(schemas["OpenAIErrorBody"].pop("$defs", {}))
    schemas["AnthropicError"] = AnthropicError.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schemas["AnthropicError"].pop("$defs", {}))
    _enumerate_model_fields(schemas)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    _add_streamed_forms(document)
    for resource, path in document["paths"].items():
        openai_route = resource.startswith(reference.OPENAI_PREFIXES)
        anthropic_route = resource.startswith(reference.ANTHROPIC_PREFIXES)
        for method, operation in path.items():
            if method == "post":
                operation.setdefault("parameters", []).append(IDEMPOTENCY_HEADER)
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # Powertools' default; Parley answers bad input with a 400
            if "400" in responses and TOO_COMPLEX not in responses["400"]["description"]:
                responses["400"]["description"] += f" {TOO_COMPLEX}"
            for status, description in ERRORS.items():
                schema = (
                    openai_error_schema(status)
                    if openai_route
                    else openai_error_schema(status, ANTHROPIC_ERROR_REF)
                    if anthropic_route
                    else ERROR_REF
                )
                responses.setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": schema}}}
                )
    reference.enrich(document, docstrings, request_examples())
    return dict(sorted(document.items()))


def _add_streamed_forms(document: dict[str, Any]) -> None:
    """The streaming routes' success response as server-sent events too."""
    template = load()
    streaming = {
        (r.resource, r.method.lower()) for r in template.routes if template.functions[r.function].streaming
    }
    for resource, method in streaming:
        operation = document["paths"][resource][method]
        success = next(status for status in operation["responses"] if status.startswith("2"))
        events = (
            RESPONSES_STREAM
            if resource.startswith("/v1/responses")
            else OPENAI_STREAM
            if resource.startswith(reference.OPENAI_PREFIXES)
            else ANTHROPIC_STREAM
            if resource.startswith(reference.ANTHROPIC_PREFIXES)
            else STREAM_EVENTS
        )
        operation["responses"][success].setdefault("content", {})["text/event-stream"] = {
            "schema": {"type": "string", "description": f"{events} {RESUMING}"},
        }


MODEL_FIELDS = ("model", "modelId")
# Not enumerated: a model the provider names, and the OpenAI-compatible bodies, whose `model` also
# takes `assistant:<id>` and the embedder's name.
PROVIDER_MODEL_SCHEMAS = {
    "RagChatResponse",
    "ChatCompletion",
    "ChatCompletionRequest",
    "EmbeddingList",
    "EmbeddingRequest",
    "MessagesRequest",
    "ResponseRequest",
    "Response",
    "AnthropicMessage",
    "CountTokensRequest",
}
STREAM_EVENTS = (
    'With "stream": true (or Accept: text/event-stream): server-sent events, each `data:` one JSON '
    'document. `context` {"rag_context": [...]} first (POST /v1/ai/chat only); `delta` '
    '{"content": "..."} or {"tool_calls": [...]} (OpenAI\'s delta shape) as the model writes; then '
    "`done` whose data is exactly the JSON body of this response, sent after the messages are "
    'stored; or `error` {"error", "message"} if the generation fails after the stream began (nothing '
    "is stored). Errors found before the first event are ordinary JSON responses with their status."
)
RESUMING = (
    "Every event has an `id: <stream>:<n>`; the same request sent again with `Last-Event-ID` (or with "
    "the same Idempotency-Key) re-attaches to the answer, on any instance, without generating it again: "
    "the events after that one, then the rest (GET /v1/responses/{id}?stream=true&starting_after=n for "
    "a response). Idle streams get `: keep-alive` comments; POST /v1/streams/{id}/cancel stops one. "
    "See docs/streaming.md."
)
OPENAI_STREAM = (
    'With "stream": true: OpenAI\'s stream, `data: {chat.completion.chunk}` lines (the role first, then '
    "content and tool-call argument fragments, then the chunk with `finish_reason`, then, with "
    "`stream_options.include_usage`, a chunk with `usage` and no choices), and `data: [DONE]`. An error "
    'after the stream began is a `data: {"error": {...}}` line; before it, an ordinary JSON error.'
)
RESPONSES_STREAM = (
    'With "stream": true: the Responses API\'s events, each with its `type` and a `sequence_number` from 0: '
    "`response.created`, `response.in_progress`, then per output item `response.output_item.added`, "
    "its `content_part.added` and `output_text.delta`s (a message) or `function_call_arguments.delta`s (a "
    "function call), their `.done` events and `response.output_item.done`, then `response.completed` with "
    "the whole response. An error after the stream began is `response.failed`; before it, an ordinary "
    "JSON error."
)
ANTHROPIC_STREAM = (
    "With \"stream\": true: Anthropic's named events, `message_start` first, then each content block's "
    "`content_block_start`, its `content_block_delta`s (`text_delta` or `input_json_delta`) and "
    "`content_block_stop`, then `message_delta` (stop reason, usage) and `message_stop`. An error after "
    "the stream began is an `error` event; before it, an ordinary JSON error."
)
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retry safely: a retry with the same key gets the first response and writes nothing new.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def request_examples() -> dict[tuple[str, str], Any]:
    """The body each function's events/ file sends, by (method, resource)."""
    from local.events import REQUESTS

    template = load()
    resources = {route.function: (route.method, route.resource) for route in template.routes}
    return {
        resources[fn]: body for fn, (_, _, body) in REQUESTS.items() if body is not None and fn in resources
    }


def _enumerate_model_fields(schemas: dict[str, Any]) -> None:
    """The registry decides which model ids work; the document lists them (the code answers any
    other id with a 400 `unknown_model` that lists them too). A RAG answer's `model` is the one
    the provider says answered (e.g. `gpt-4o-mini-2024-07-18`), not a registry id."""
    for name, schema in schemas.items():
        if name in PROVIDER_MODEL_SCHEMAS:
            continue
        for field, spec in schema.get("properties", {}).items():
            if field in MODEL_FIELDS:
                _enumerate_models(spec)


def _enumerate_models(spec: dict[str, Any]) -> None:
    """Add the registry's ids to a model field's string schema (plain, or inside anyOf/oneOf)."""
    if spec.get("type") == "string" and "enum" not in spec:
        spec["enum"] = sorted(MODELS)
    for option in spec.get("anyOf", []) + spec.get("oneOf", []):
        _enumerate_models(option)


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_openapi_{path.parent.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    DOCUMENT.write_text(render())
    print(f"wrote {DOCUMENT.name}")


if __name__ == "__main__":
    main()
