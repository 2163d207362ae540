"""CORS for browser clients that send the session cookie cross-origin: only the configured
origins, echoed one at a time, with credentials allowed (never `*` with credentials)."""

from __future__ import annotations

from typing import Any

from parley.edge.request import RequestView

ALLOWED_METHODS = "GET,POST,PUT,PATCH,DELETE,OPTIONS"
ALLOWED_HEADERS = "Authorization,Content-Type,Idempotency-Key"
PREFLIGHT_MAX_AGE = "600"


def _origin(event: dict[str, Any]) -> str | None:
    origin = RequestView(event).header("origin")
    return origin.rstrip("/") if origin is not None else None


def cors_headers(event: dict[str, Any], allowed_origins: frozenset[str]) -> dict[str, str]:
    """The headers that let the request's origin read the response, if it is an allowed one."""
    origin = _origin(event)
    if origin is None or origin not in allowed_origins:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def with_cors(
    event: dict[str, Any], response: dict[str, Any], allowed_origins: frozenset[str]
) -> dict[str, Any]:
    if headers := cors_headers(event, allowed_origins):
        response["headers"] = {**(response.get("headers") or {}), **headers}
    return response


def preflight(event: dict[str, Any], allowed_origins: frozenset[str]) -> dict[str, Any]:
    """The answer to a browser's OPTIONS preflight; an unlisted origin gets no CORS headers."""
    headers = cors_headers(event, allowed_origins)
    if headers:
        headers |= {
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        }
    return {"statusCode": 204, "headers": headers, "body": ""}
