"""Input checks shared by the use cases: ids, sizes. Each failure is the client's (4xx)."""

from __future__ import annotations

import json
from typing import Any

from parley.errors import ContentTooLarge, InvalidRequest
from parley.ids import is_uuid

MAX_JSON_FIELD_BYTES = 16 * 1024


def require_uuid(value: str, what: str) -> str:
    if not is_uuid(value):
        raise InvalidRequest(f"{what} must be a UUID, got '{value[:64]}'.", code=f"invalid_{what}")
    return value.lower()


def check_content_size(content: str, limit: int) -> None:
    size = len(content.encode("utf-8"))
    if size > limit:
        raise ContentTooLarge(f"content is {size} bytes; the limit is {limit} bytes (UTF-8).")


def check_json_size(value: Any, field: str) -> None:
    if value is None:
        return
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_JSON_FIELD_BYTES:
        raise ContentTooLarge(f"{field} is {size} bytes as JSON; the limit is {MAX_JSON_FIELD_BYTES} bytes.")
