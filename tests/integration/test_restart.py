"""DynamoDB Local stops and starts again under `make dev` while a client keeps appending: every
message that was acknowledged is still there afterwards, and the counter matches what is stored."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from local.dynamodb import DynamoDBLocal, free_port
from local.token import mint
from tests.integration.dev_process import interrupt, start_dev

pytestmark = pytest.mark.integration

MAX_APPENDS = 20_000  # bounded in count ...
WAIT_SECONDS = 120  # ... and each wait in time: a safety net, never what the test measures


class Appends:
    """What the writer saw, with a condition the test waits on for each step."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.acknowledged: list[str] = []
        self.refused: list[int] = []
        self.done = threading.Event()

    def record(self, acknowledged: str | None = None, refused: int | None = None) -> None:
        with self.changed:
            if acknowledged is not None:
                self.acknowledged.append(acknowledged)
            if refused is not None:
                self.refused.append(refused)
            self.changed.notify_all()

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        with self.changed:
            assert self.changed.wait_for(condition, WAIT_SECONDS), f"never saw {what}"


def test_nothing_acknowledged_is_lost_across_a_database_restart(tmp_path: Path) -> None:
    database = DynamoDBLocal(free_port(), tmp_path / "ddb").start()
    port = free_port()
    dev = start_dev(PORT=str(port), AWS_ENDPOINT_URL_DYNAMODB=database.endpoint, TABLE_NAME="parley-restart")
    headers = {"Authorization": f"Bearer {mint('restarter')}"}
    base = f"http://127.0.0.1:{port}"
    appends = Appends()
    try:
        conversation = httpx.post(f"{base}/v1/conversations", json={}, headers=headers).json()[
            "conversation"
        ]["id"]
        url = f"{base}/v1/conversations/{conversation}/messages"

        def writer() -> None:
            with httpx.Client(timeout=30) as client:
                for n in range(MAX_APPENDS):
                    if appends.done.is_set():
                        return
                    try:
                        response = client.post(
                            url, json={"role": "user", "content": f"m{n}"}, headers=headers
                        )
                    except httpx.HTTPError:
                        appends.record(refused=-1)
                        continue
                    if response.status_code == 200:
                        appends.record(acknowledged=response.json()["message"]["id"])
                    else:
                        appends.record(refused=response.status_code)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            appends.wait_for(lambda: len(appends.acknowledged) >= 5, "appends before the restart")
            database.stop()  # mid-run: the store goes away ...
            appends.wait_for(lambda: bool(appends.refused), "a refusal while the store was away")
            before_restart = len(appends.acknowledged)
            database.start()  # ... and comes back with the same files
            appends.wait_for(lambda: len(appends.acknowledged) >= before_restart + 5, "appends after it")
        finally:
            appends.done.set()
            thread.join(WAIT_SECONDS)

        history = httpx.get(url, params={"limit": 200}, headers=headers).json()
        stored = [m["id"] for m in history["messages"]]
        while len(stored) < history["total"]:
            older = httpx.get(url, params={"limit": 200, "before": stored[0]}, headers=headers).json()
            stored = [m["id"] for m in older["messages"]] + stored
    finally:
        interrupt(dev)
        database.stop()

    assert set(appends.refused) <= {503, -1}  # the store was away: "retry in a moment", never a client error
    assert set(appends.acknowledged) <= set(stored)
    assert history["total"] == len(stored) == len(set(stored))
