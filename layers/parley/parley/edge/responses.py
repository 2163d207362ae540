"""A Lambda proxy response carrying an `{error, message}` body, for the places that answer before
the resolver runs (the edge checks, idempotency)."""

from __future__ import annotations

import json
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
