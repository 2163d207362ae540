"""Requests are isolated as in Lambda: under `make dev`, many users writing and reading at once
each get exactly their own data back, and every stored item is exactly what its request sent.
(Each function container is its own process serving one request at a time, so module state such
as the router's current event is never shared between concurrent requests.)"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from local.dynamodb import free_port
from local.token import mint
from tests.integration.dev_process import interrupt, start_dev

pytestmark = pytest.mark.integration

USERS, APPENDS = 40, 5


def test_concurrent_users_each_get_and_store_exactly_their_own_data(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    dev = start_dev(PORT=str(port), LOCAL_DATA_DIR=str(tmp_path), RAG_LOCAL_PATH=str(tmp_path / "v.sqlite3"))

    def user_session(number: int) -> tuple[str, list[str], list[str]]:
        """Create a conversation, then append and read back in turns; return what was seen."""
        user = f"isolated-{number}"
        headers = {"Authorization": f"Bearer {mint(user)}"}
        mismatches: list[str] = []
        with httpx.Client(base_url=base, timeout=60, headers=headers) as http:
            created = http.post("/v1/conversations", json={"title": user}).json()["conversation"]
            if created["user_id"] != user or created["title"] != user:
                mismatches.append(f"create answered {created}")
            url = f"/v1/conversations/{created['id']}/messages"
            sent = []
            for n in range(APPENDS):
                content = f"msg-{number}-{n}"
                answer = http.post(url, json={"role": "user", "content": content}).json()["message"]
                sent.append(content)
                if answer["content"] != content or answer["conversation_id"] != created["id"]:
                    mismatches.append(f"append of {content} answered {answer['content']}")
                page = http.get(url, params={"limit": 50}).json()
                if [m["content"] for m in page["messages"]] != sent:
                    mismatches.append(f"history after {content}: {[m['content'] for m in page['messages']]}")
            stored = [m["content"] for m in http.get(url, params={"limit": 50}).json()["messages"]]
        return user, mismatches, stored

    try:
        with ThreadPoolExecutor(USERS) as pool:
            sessions = list(pool.map(user_session, range(USERS)))
    finally:
        interrupt(dev)

    for number, (user, mismatches, stored) in enumerate(sessions):
        assert mismatches == [], user
        assert stored == [f"msg-{number}-{n}" for n in range(APPENDS)], user
