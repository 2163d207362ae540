"""Errors in Anthropic's shape, `{"type": "error", "error": {"type", "message"}}`, for the
Anthropic-compatible routes: the Anthropic SDKs raise their typed exceptions from the status
(BadRequestError, NotFoundError, RateLimitError, ...) and read the type. Parley's own error code
leads the message, so what went wrong stays as precise as on Parley's routes."""

from __future__ import annotations

from typing import Any

from parley.edge.responses import reshaped
from parley.models.api.anthropic import AnthropicError, AnthropicErrorDetail

_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


def error_type(status: int) -> str:
    if status in _TYPES:
        return _TYPES[status]
    return "api_error" if status >= 500 else "invalid_request_error"


def anthropic_error_json(status: int, code: str, message: str) -> str:
    detail = AnthropicErrorDetail(type=error_type(status), message=f"{code}: {message}")
    return AnthropicError(error=detail).model_dump_json()


def in_anthropic_shape(result: dict[str, Any]) -> dict[str, Any]:
    """A Lambda proxy result whose body is Parley's `{error, message}` (answered before the route
    ran: the request guard, idempotency), in Anthropic's shape; any other result as it is."""
    return reshaped(result, anthropic_error_json)
