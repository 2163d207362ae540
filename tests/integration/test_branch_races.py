"""Branch changes racing on one conversation: four clients regenerating answers, editing
questions and switching the active branch at once. Each request gets a 200 or a 409
`conversation_changed` (never a 404 for a message that exists, a 400 for a parent that exists,
or a 500), and every 200 means what it says: a regenerated answer hangs under the question it
answers, an edit under the parent it names, a switch makes the branch through its message
active."""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.conftest import LocalStack, TokenFactory

pytestmark = pytest.mark.integration

CLIENTS, EACH = 4, 6


def test_regenerates_edits_and_switches_at_once_get_200_or_409_and_mean_it(
    local_stack: LocalStack, api: httpx.Client, auth: TokenFactory
) -> None:
    alice = auth("racer")
    conversation_id = api.post("/v1/conversations", json={}, headers=alice).json()["conversation"]["id"]
    base = f"/v1/conversations/{conversation_id}"
    pairs: list[tuple[str, str]] = []  # (question, answer) of the first branch
    for n in range(4):
        made = api.post(
            f"{base}/messages",
            json={"role": "user", "content": f"question {n}", "mode": "chat-completion"},
            headers=alice,
        ).json()
        pairs.append((made["message"]["id"], made["assistant_message"]["id"]))
    parent_of = {answer: question for question, answer in pairs}
    parent_of |= {question: (pairs[n - 1][1] if n else None) for n, (question, _) in enumerate(pairs)}

    def regenerate(own: httpx.Client, rng: random.Random) -> tuple[str, httpx.Response, Any]:
        answer = rng.choice(pairs)[1]
        return "regenerate", own.post(f"{base}/messages/{answer}/regenerate", json={}, headers=alice), answer

    def edit(own: httpx.Client, rng: random.Random) -> tuple[str, httpx.Response, Any]:
        question = rng.choice(pairs)[0]
        body = {
            "role": "user",
            "content": "edited",
            "mode": "chat-completion",
            "parent_id": parent_of[question],
        }
        return "edit", own.post(f"{base}/messages", json=body, headers=alice), parent_of[question]

    def switch(own: httpx.Client, rng: random.Random) -> tuple[str, httpx.Response, Any]:
        target = rng.choice([m for pair in pairs for m in pair])
        return "switch", own.patch(base, json={"active_message_id": target}, headers=alice), target

    operations: list[Callable[[httpx.Client, random.Random], tuple[str, httpx.Response, Any]]] = [
        regenerate,
        edit,
        switch,
        regenerate,
    ]

    def client(number: int) -> list[tuple[str, httpx.Response, Any]]:
        rng = random.Random(number)  # each client's own fixed sequence
        with httpx.Client(base_url=local_stack.url, timeout=60) as own:
            return [operations[number](own, rng) for _ in range(EACH)]

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = [result for done in pool.map(client, range(CLIENTS)) for result in done]

    unexpected = [
        (kind, r.status_code, r.text[:200]) for kind, r, _ in results if r.status_code not in (200, 409)
    ]
    assert not unexpected
    conflicts = [r for _, r, _ in results if r.status_code == 409]
    assert all(r.json()["error"] == "conversation_changed" for r in conflicts)
    for kind, response, asked in results:
        if response.status_code != 200:
            continue
        body = response.json()
        if kind == "regenerate":
            assert body["assistant_message"]["parent_id"] == parent_of[asked]
        elif kind == "edit":
            assert body["message"]["parent_id"] == asked
            assert body["assistant_message"]["parent_id"] == body["message"]["id"]
    # whatever happened, the conversation reads whole: a branch, each message after its parent
    history = api.get(f"{base}/messages", params={"limit": 200}, headers=alice).json()["messages"]
    assert [m["parent_id"] for m in history[1:]] == [m["id"] for m in history[:-1]]
