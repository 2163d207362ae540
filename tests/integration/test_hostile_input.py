"""Hostile input through the gateway, generated: bodies nested thousands of levels deep, lone
surrogates in keys and values, integer literals of thousands of digits, NaN and Infinity, path
ids of thousands of characters, with and without an Idempotency-Key, on every route that takes
them. Each must be a 4xx `{error, message}` that names the problem, and nothing may be stored."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections import Counter
from typing import Any

import httpx
import hypothesis
import pytest
from hypothesis import strategies as st

from local.dynamodb import client
from local.token import mint
from parley.edge.request_guard import REFUSAL_CODE
from tests.conftest import LocalStack

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_literals_from_loaded_modules")]

REQUESTS = 5_000
MARK = "__hostile__"

# A valid body per route; the hostile part replaces one of its values (or adds a key).
BODIES: dict[str, dict[str, Any]] = {
    "POST /v1/conversations": {"title": "t", "metadata": {"a": MARK}},
    "POST /v1/conversations/{conversation}/messages": {
        "role": "user",
        "content": "hello",
        "metadata": {"source": MARK},
        "mode": "chat-completion",
    },
    "POST /api/chats": {"title": MARK},
    "POST /api/chats/{conversation}/messages": {
        "content": MARK,
        "modelId": "parley-offline",
        "userId": "hostile",
    },
    "POST /api/workflows": {"name": "w", "brandId": "acme", "steps": [{"prompt": MARK}]},
    "POST /v1/ai/chat": {
        "messages": [{"role": "user", "content": MARK}],
        "brand_id": "acme",
        "rag_scope": "hostile",
        "top_k": 3,
    },
    "POST /v1/ai/documents": {"brand_id": "acme", "rag_scope": "hostile", "content": MARK},
    "POST /v1/ai/templates": {"brand_id": "acme", "template_id": "t", "body": MARK},
    "POST /v1/ai/assistants": {"brand_id": "acme", "name": MARK},
    "PUT /v1/quotas/acme": {"user_daily_tokens": MARK},
}
LONG_ID_ROUTES = [
    "GET /v1/conversations/{id}",
    "GET /v1/conversations/{id}/messages",
    "POST /v1/conversations/{id}/messages",
    "DELETE /v1/conversations/{id}",
    "GET /api/chats/{id}/messages",
    "GET /api/workflows/{id}",
    "GET /v1/ai/templates/{id}?brand_id=acme",
    "GET /v1/ai/assistants/{id}?brand_id=acme",
    "DELETE /v1/ai/documents/{id}?brand_id=acme&rag_scope=hostile",
]


def nested(depth: int, inner: str, kind: str) -> str:
    if kind == "list":
        return "[" * depth + inner + "]" * depth
    return '{"k":' * depth + inner + "}" * depth


hostile_values = st.one_of(
    st.builds(
        nested,
        st.integers(33, 20_000),
        st.sampled_from(["1", '"x"', "null"]),
        st.sampled_from(["list", "map"]),
    ),
    st.sampled_from(['"\\ud800"', '"abc\\udfff"', '"\\udc00\\ud800"', '["ok", "\\ud83d"]']),
    st.integers(39, 6_000).map(lambda digits: "9" * digits),
    st.integers(39, 6_000).map(lambda digits: "-" + "1" * digits),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e400"]),
)
hostile_keys = st.sampled_from(['"\\ud800"', '"key\\udbff"'])


@st.composite
def hostile_requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, str]:
    """(method, path template, body, kind of hostility)."""
    if draw(st.integers(0, 9)) == 0:
        route = draw(st.sampled_from(LONG_ID_ROUTES))
        method, path = route.split(" ", 1)
        long_id = draw(st.integers(257, 4_000).map(lambda n: "a" * n))
        return method, path.replace("{id}", long_id), b'{"role": "user", "content": "x"}', "long path id"
    route = draw(st.sampled_from(sorted(BODIES)))
    method, path = route.split(" ", 1)
    text = json.dumps(BODIES[route])
    if draw(st.booleans()):
        text = text.replace(f'"{MARK}"', draw(hostile_values), 1)
        kind = "value"
    else:
        text = text.replace(f'"{MARK}"', f"{{{draw(hostile_keys)}: 1}}", 1)
        kind = "key"
    return method, path, text.encode(), kind


def stored_items(local_stack: LocalStack) -> int:
    dynamodb = client(local_stack.dynamodb_endpoint)
    total, start = 0, None
    while True:
        page = dynamodb.scan(
            TableName=local_stack.table_name,
            Select="COUNT",
            **({"ExclusiveStartKey": start} if start else {}),
        )
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


def stored_chunks() -> int:
    import os

    with sqlite3.connect(os.environ["RAG_LOCAL_PATH"]) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return int(db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]) if "chunks" in tables else 0


def test_hostile_requests_are_4xx_and_store_nothing(api: httpx.Client, local_stack: LocalStack) -> None:
    headers = {"Authorization": f"Bearer {mint('hostile', ['acme'])}", "Content-Type": "application/json"}
    conversation = api.post("/v1/conversations", json={}, headers=headers).json()["conversation"]["id"]
    items, chunks = stored_items(local_stack), stored_chunks()
    statuses: Counter[int] = Counter()
    kinds: Counter[str] = Counter()
    unexplained: list[str] = []

    @hypothesis.settings(
        max_examples=REQUESTS,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(request=hostile_requests(), with_key=st.booleans())
    def send(request: tuple[str, str, bytes | None, str], with_key: bool) -> None:
        method, path, body, kind = request
        extra = {"Idempotency-Key": str(uuid.uuid4())} if with_key else {}
        response = api.request(
            method,
            path.replace("{conversation}", conversation),
            content=body if method in ("POST", "PUT") else None,
            headers={**headers, **extra},
        )
        statuses[response.status_code] += 1
        kinds[kind] += 1
        assert response.status_code < 500, (method, path[:80], response.text)
        assert 400 <= response.status_code < 500, (method, path[:80], response.status_code, response.text)
        error = response.json()
        if set(error) != {"error", "message"} or error["error"] != REFUSAL_CODE or not error["message"]:
            unexplained.append(response.text)

    send()

    assert sum(statuses.values()) >= REQUESTS
    assert set(kinds) == {"value", "key", "long path id"}
    assert unexplained == []
    assert stored_items(local_stack) == items
    assert stored_chunks() == chunks
