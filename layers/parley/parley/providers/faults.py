"""Provider SDK errors as the layer's errors. Both official SDKs share their exception names, so
one mapping serves both. A client is told what failed, never the provider's own words (a proxy
behind OPENAI_BASE_URL may echo credentials or headers back): those go to the log."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from parley.errors import InvalidRequest, ParleyError, ProviderError, ProviderTimeout
from parley.observability import logger
from parley.providers.deadline import deadline_passed

_CLIENT_MISTAKES = (400, 413, 422)


def translate(error: Exception, sdk: ModuleType, label: str, key_setting: str) -> ParleyError:
    logger.warning(
        "provider call failed",
        extra={
            "provider": label,
            "error_type": type(error).__name__,
            "status": getattr(error, "status_code", None),
            "detail": _reason(error)[:500],
        },
    )
    if isinstance(error, sdk.APITimeoutError) or deadline_passed():
        return ProviderTimeout(
            f"{label} did not answer in time; nothing was stored, so the request can be retried."
        )
    if isinstance(error, sdk.AuthenticationError | sdk.PermissionDeniedError):
        return ProviderError(
            f"{label} refused Parley's credentials (HTTP {error.status_code}): check {key_setting}."
        )
    if isinstance(error, sdk.APIStatusError):
        if error.status_code in _CLIENT_MISTAKES:
            return InvalidRequest(
                f"{label} refused the request as invalid (HTTP {error.status_code}); the detail is in "
                "Parley's log under this request's id.",
                code="provider_rejected_request",
            )
        return ProviderError(
            f"{label} answered HTTP {error.status_code} after retries; nothing was stored, so the request "
            "can be retried."
        )
    if isinstance(error, sdk.APIConnectionError):
        return ProviderError(
            f"{label} could not be reached; nothing was stored, so the request can be retried."
        )
    return ProviderError(f"{label} failed ({type(error).__name__}).")


def malformed_response(label: str, error: Exception) -> ProviderError:
    """The provider answered, but not with a response its API defines (a proxy's HTML page, say)."""
    logger.warning(
        "provider response malformed", extra={"provider": label, "error_type": type(error).__name__}
    )
    return ProviderError(f"{label} answered with a response Parley could not read; nothing was stored.")


def _reason(error: Any) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    return str(getattr(error, "message", "")) or "no reason given"


def stream_cut(label: str, error: Exception | None = None) -> ParleyError:
    """The stream ended before the provider's last event: a connection reset, or a stream that
    closed without its terminal event. What came is not an answer, and is not stored."""
    logger.warning(
        "provider stream cut short",
        extra={"provider": label, "error_type": type(error).__name__ if error else "no terminal event"},
    )
    if deadline_passed():
        return ProviderTimeout(
            f"{label} did not finish in time; nothing was stored, so the request can be retried."
        )
    return ProviderError(
        f"{label}'s stream ended before its last event; nothing was stored, so the request can be retried."
    )
