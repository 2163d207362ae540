"""DynamoDB Local stops and starts again under `make dev` while a client keeps appending: every
message that was acknowledged is still there afterwards, and the counter matches what is stored."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from local.dynamodb import DynamoDBLocal, free_port
from local.token import mint
from tests.integration.dev_process import interrupt, start_dev

pytestmark = pytest.mark.integration

RUN_SECONDS = 8
MAX_APPENDS = 20_000  # bounded in count as well as in time


def test_nothing_acknowledged_is_lost_across_a_database_restart(tmp_path: Path) -> None:
    database = DynamoDBLocal(free_port(), tmp_path / "ddb").start()
    port = free_port()
    dev = start_dev(PORT=str(port), AWS_ENDPOINT_URL_DYNAMODB=database.endpoint, TABLE_NAME="parley-restart")
    headers = {"Authorization": f"Bearer {mint('restarter')}"}
    base = f"http://127.0.0.1:{port}"
    acknowledged: list[str] = []
    refused: list[int] = []
    try:
        conversation = httpx.post(f"{base}/v1/conversations", json={}, headers=headers).json()[
            "conversation"
        ]["id"]
        url = f"{base}/v1/conversations/{conversation}/messages"
        stop = time.monotonic() + RUN_SECONDS

        def writer() -> None:
            with httpx.Client(timeout=30) as client:
                for n in range(MAX_APPENDS):
                    if time.monotonic() > stop:
                        return
                    try:
                        response = client.post(
                            url, json={"role": "user", "content": f"m{n}"}, headers=headers
                        )
                    except httpx.HTTPError:
                        refused.append(-1)
                        continue
                    if response.status_code == 200:
                        acknowledged.append(response.json()["message"]["id"])
                    else:
                        refused.append(response.status_code)

        thread = threading.Thread(target=writer)
        thread.start()
        time.sleep(2)
        database.stop()  # mid-run: the store goes away ...
        time.sleep(1.5)
        database.start()  # ... and comes back with the same files
        thread.join(RUN_SECONDS + 60)

        history = httpx.get(url, params={"limit": 200}, headers=headers).json()
        stored = [m["id"] for m in history["messages"]]
        while len(stored) < history["total"]:
            older = httpx.get(url, params={"limit": 200, "before": stored[0]}, headers=headers).json()
            stored = [m["id"] for m in older["messages"]] + stored
    finally:
        interrupt(dev)
        database.stop()

    assert acknowledged and refused, "the restart should have refused some appends and allowed others"
    assert set(refused) <= {503, -1}  # the store was away: "retry in a moment", never a client error
    assert set(acknowledged) <= set(stored)
    assert history["total"] == len(stored) == len(set(stored))
