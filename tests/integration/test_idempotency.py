"""Idempotency-Key on POSTs, through the gateway: a retry replays the first response and writes
nothing new; another body with the same key is a 409; so is a retry while the first still runs;
a failed request may be retried with its key; keys belong to one caller and one route."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import LocalStack, TokenFactory
from tests.doubles.fake_providers import ANTHROPIC_PATH, ProviderServer, Scripted, anthropic_error
from tests.integration.index_reads import listed_ids

pytestmark = pytest.mark.integration


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    """Poll until `condition` holds (bounded, so a broken system fails instead of hanging)."""
    ends = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < ends, "the condition never held"
        time.sleep(0.01)


def with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def listing(api: httpx.Client, headers: dict[str, str]) -> list[str]:
    return listed_ids(api, headers, until=bool)


def test_a_retry_gets_the_first_response_and_writes_nothing_new(
    api: httpx.Client, auth: TokenFactory
) -> None:
    alice = auth("idem-alice")

    first = api.post("/v1/conversations", json={"title": "once"}, headers=with_key(alice, "create-1"))
    again = api.post("/v1/conversations", json={"title": "once"}, headers=with_key(alice, "create-1"))

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert listing(api, alice) == [first.json()["conversation"]["id"]]

    url = f"/v1/conversations/{first.json()['conversation']['id']}/messages"
    body = {"role": "user", "content": "hello", "mode": "chat-completion"}
    sent = [api.post(url, json=body, headers=with_key(alice, "append-1")) for _ in range(3)]

    assert len({r.json()["message"]["id"] for r in sent}) == 1
    assert api.get(url, headers=alice).json()["total"] == 2


def test_the_same_key_with_another_body_is_a_409(api: httpx.Client, auth: TokenFactory) -> None:
    alice = auth("idem-bob")
    api.post("/v1/conversations", json={"title": "a"}, headers=with_key(alice, "k"))

    reused = api.post("/v1/conversations", json={"title": "b"}, headers=with_key(alice, "k"))

    assert reused.status_code == 409
    assert reused.json()["error"] == "idempotency_key_reused"
    assert len(listing(api, alice)) == 1


def test_a_retry_while_the_first_runs_is_a_409(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack, providers: ProviderServer
) -> None:
    alice = auth("idem-carol")
    conversation = api.post("/v1/conversations", json={"model": "claude-sonnet-4-6"}, headers=alice).json()
    url = f"/v1/conversations/{conversation['conversation']['id']}/messages"
    providers.script(ANTHROPIC_PATH, Scripted(delay=1.5))
    body = {"role": "user", "content": "slow one", "mode": "chat-completion"}
    results: dict[str, Any] = {}

    def first() -> None:
        with httpx.Client(base_url=local_stack.url, timeout=30) as own:
            results["first"] = own.post(url, json=body, headers=with_key(alice, "slow"))

    thread = threading.Thread(target=first)
    thread.start()
    # the first request is running once the provider has it (and holds it for 1.5 s)
    wait_for(lambda: len(providers.requests_to(ANTHROPIC_PATH)) == 1)
    second = api.post(url, json=body, headers=with_key(alice, "slow"))
    thread.join()

    assert second.status_code == 409 and second.json()["error"] == "request_in_progress"
    assert results["first"].status_code == 200
    assert api.get(url, headers=alice).json()["total"] == 2


def test_a_failed_request_may_be_retried_with_its_key(
    api: httpx.Client, auth: TokenFactory, providers: ProviderServer
) -> None:
    alice = auth("idem-dan")
    conversation = api.post("/v1/conversations", json={"model": "claude-sonnet-4-6"}, headers=alice).json()
    url = f"/v1/conversations/{conversation['conversation']['id']}/messages"
    providers.script(
        ANTHROPIC_PATH,
        *[
            Scripted(
                status=529, body=anthropic_error("overloaded_error", "busy"), headers={"retry-after-ms": "10"}
            )
        ]
        * 3,
    )
    body = {"role": "user", "content": "try me", "mode": "chat-completion"}

    failed = api.post(url, json=body, headers=with_key(alice, "retry-me"))
    retried = api.post(url, json=body, headers=with_key(alice, "retry-me"))

    assert failed.status_code == 502 and retried.status_code == 200
    assert api.get(url, headers=alice).json()["total"] == 2


def test_keys_belong_to_one_caller_and_one_route(api: httpx.Client, auth: TokenFactory) -> None:
    erin, frank = auth("idem-erin"), auth("idem-frank")

    mine = api.post("/v1/conversations", json={}, headers=with_key(erin, "shared"))
    theirs = api.post("/v1/conversations", json={}, headers=with_key(frank, "shared"))
    chat = api.post("/api/chats", json={}, headers=with_key(erin, "shared"))

    assert mine.status_code == theirs.status_code == chat.status_code == 201
    assert (
        len(
            {
                mine.json()["conversation"]["id"],
                theirs.json()["conversation"]["id"],
                chat.json()["data"]["id"],
            }
        )
        == 3
    )


def test_an_overlong_key_is_a_400(api: httpx.Client, auth: TokenFactory) -> None:
    response = api.post("/v1/conversations", json={}, headers=with_key(auth("idem-gina"), "k" * 256))

    assert response.status_code == 400 and "Idempotency-Key" in response.json()["message"]
