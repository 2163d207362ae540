"""Errors in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with OpenAI's
statuses, for the OpenAI-compatible routes: the OpenAI SDKs raise their typed exceptions from
them (BadRequestError, NotFoundError, RateLimitError, ...). `code` is Parley's stable error code,
or OpenAI's own where one means the same (`model_not_found`, `context_length_exceeded`)."""

from __future__ import annotations

from typing import Any

from parley.edge.responses import reshaped
from parley.models.api.openai import OpenAIError, OpenAIErrorBody

_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}
_OPENAI_CODES = {
    "unknown_model": "model_not_found",
    "model_not_found": "model_not_found",
    "assistant_not_found": "model_not_found",
    "context_too_long": "context_length_exceeded",
    "unauthorized": "invalid_api_key",
}


def error_type(status: int) -> str:
    if status >= 500:
        return "server_error"
    return _TYPES.get(status, "invalid_request_error")


def openai_error_json(status: int, code: str, message: str, param: str | None = None) -> str:
    body = OpenAIErrorBody(
        error=OpenAIError(
            message=message, type=error_type(status), param=param, code=_OPENAI_CODES.get(code, code)
        )
    )
    return body.model_dump_json()


def in_openai_shape(result: dict[str, Any]) -> dict[str, Any]:
    """A Lambda proxy result whose body is Parley's `{error, message}` (answered before the route
    ran: the request guard, idempotency), in OpenAI's shape; any other result as it is."""
    return reshaped(result, openai_error_json)
