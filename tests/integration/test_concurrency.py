"""Concurrent appends to one conversation: every acknowledged message is stored once, counted,
and listed in time order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import LocalStack, TokenFactory

pytestmark = pytest.mark.integration

THREADS, EACH = 20, 10


def test_concurrent_appends_are_all_kept_and_counted(
    local_stack: LocalStack, api: httpx.Client, auth: TokenFactory
) -> None:
    alice = auth("alice")
    conversation_id = api.post("/v1/conversations", json={}, headers=alice).json()["conversation"]["id"]
    url = f"/v1/conversations/{conversation_id}/messages"

    def writer(thread: int) -> list[str]:
        with httpx.Client(base_url=local_stack.url, timeout=30) as own:
            responses = [
                own.post(url, json={"role": "user", "content": f"{thread}-{n}"}, headers=alice)
                for n in range(EACH)
            ]
        assert all(r.status_code == 200 for r in responses), [
            r.text for r in responses if r.status_code != 200
        ]
        return [r.json()["message"]["id"] for r in responses]

    with ThreadPoolExecutor(THREADS) as pool:
        acknowledged = [i for ids in pool.map(writer, range(THREADS)) for i in ids]

    history = api.get(url, params={"limit": 200}, headers=alice).json()
    stored = [m["id"] for m in history["messages"]]
    assert history["total"] == THREADS * EACH
    assert sorted(stored) == sorted(acknowledged)
    assert stored == sorted(stored)  # UUIDv7 order is creation order
