"""Everything the table holds, as one text to search: every item as JSON, with a stream log's
compressed events (parley.store.stream_logs) read back, so a secret inside them is found too."""

from __future__ import annotations

import json
import zlib
from typing import Any


def table_text(client: Any, table: str) -> str:
    items: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while True:
        page = client.scan(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if start is None:
            return json.dumps(items, default=_readable)


def _readable(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        try:
            return zlib.decompress(value).decode("utf-8", "replace")
        except zlib.error:
            return bytes(value).decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} is not stored text")
