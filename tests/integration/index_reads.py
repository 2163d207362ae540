"""Reads of the user index (GSI1, behind `GET /v1/conversations`). A global secondary index is
eventually consistent in DynamoDB: a write shows there a moment later, while DynamoDB Local shows
it at once. Tests that read the index right after a write read it again until it has caught up,
so they pass against AWS's behaviour and not only Local's."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

PROPAGATION_SECONDS = 10  # bounded: an index that never catches up fails the test


def listed_ids(
    api: httpx.Client, headers: dict[str, str], until: Callable[[list[str]], bool], limit: int = 100
) -> list[str]:
    """The caller's conversation ids, newest first, once `until` holds for them."""
    ends = time.monotonic() + PROPAGATION_SECONDS
    while True:
        page = api.get("/v1/conversations", params={"limit": limit}, headers=headers)
        assert page.status_code == 200, page.text
        ids = [c["id"] for c in page.json()["conversations"]]
        if until(ids) or time.monotonic() > ends:
            return ids
        time.sleep(0.05)
