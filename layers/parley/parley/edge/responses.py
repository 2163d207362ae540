"""A Lambda proxy response carrying an `{error, message}` body, for the places that answer before
the resolver runs (the edge checks, idempotency), and such a response given in another API's
error shape (the OpenAI- and Anthropic-compatible routes)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def error_result(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps({"error": code, "message": message}),
        "isBase64Encoded": False,
    }


def reshaped(result: dict[str, Any], render: Callable[[int, str, str], str]) -> dict[str, Any]:
    """`result`, if its body is Parley's `{error, message}`, with the body `render(status, code,
    message)` gives; any other result as it is."""
    if int(result.get("statusCode", 200)) < 400 or result.get("isBase64Encoded"):
        return result
    try:
        body = json.loads(result.get("body") or "")
    except ValueError:
        return result
    if not (isinstance(body, dict) and isinstance(body.get("error"), str)):
        return result
    status = int(result["statusCode"])
    return {**result, "body": render(status, body["error"], str(body.get("message", "")))}
