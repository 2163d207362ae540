"""Provider SDK errors as the layer's errors. Both official SDKs share their exception names, so
one mapping serves both; a message never includes what the provider said about the key."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from parley.errors import InvalidRequest, ParleyError, ProviderError, ProviderTimeout

_CLIENT_MISTAKES = (400, 413, 422)


def translate(error: Exception, sdk: ModuleType, label: str, key_setting: str) -> ParleyError:
    if isinstance(error, sdk.APITimeoutError):
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
                f"{label} refused the request: {_reason(error)}", code="provider_rejected_request"
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


def _reason(error: Any) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    return str(getattr(error, "message", "")) or "no reason given"
