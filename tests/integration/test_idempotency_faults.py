"""Idempotency under DynamoDB faults, injected by the proxy: a write applied whose answer is lost
(a connection reset after DynamoDB wrote), and writes that fail. A request that failed releases
its key; a response produced is the one answered and the one replayed; nothing runs twice."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import LocalStack, TokenFactory
from tests.doubles.dynamodb_proxy import applied_then_reset, internal_error
from tests.integration.index_reads import listed_ids

pytestmark = pytest.mark.integration

SDK_ATTEMPTS = 3  # parley.store.dynamodb: botocore standard mode, 3 attempts in all


def create(api: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    return api.post("/v1/conversations", json={"title": "Trip"}, headers=headers)


def test_a_claim_applied_whose_answer_was_lost_is_the_attempts_own(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    """The SDK sends the claim again; its condition fails on the item the first send wrote. The
    attempt finds the claim is its own and runs, instead of answering itself 'in progress'."""
    alice = auth(f"idem-lost-{uuid.uuid4().hex[:6]}")
    headers = {**alice, "Idempotency-Key": "lost-answer"}
    local_stack.dynamodb.inject(applied_then_reset("PutItem"))

    first = create(api, headers)
    retry = create(api, headers)

    assert first.status_code == 201, first.text
    assert retry.status_code == 201 and retry.json() == first.json()
    assert listed_ids(api, alice, until=bool) == [first.json()["conversation"]["id"]]


def test_a_request_that_failed_releases_its_key_for_an_immediate_retry(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    alice = auth(f"idem-fail-{uuid.uuid4().hex[:6]}")
    headers = {**alice, "Idempotency-Key": "fails-then-works"}
    conversation_id = create(api, alice).json()["conversation"]["id"]
    body = {"role": "user", "content": "hi"}
    url = f"/v1/conversations/{conversation_id}/messages"
    local_stack.dynamodb.clear()
    # Past the SDK's attempts and Parley's two resends with the write's token (nothing applied).
    local_stack.dynamodb.inject(*[internal_error("TransactWriteItems")] * SDK_ATTEMPTS * 3)

    failed = api.post(url, json=body, headers=headers)
    local_stack.dynamodb.clear()
    retried = api.post(url, json=body, headers=headers)

    assert failed.status_code == 503, failed.text
    assert retried.status_code == 200, retried.text  # not 409 request_in_progress
    assert api.get(url, headers=alice).json()["total"] == 1


def test_a_completed_attempt_whose_record_write_fails_at_first_is_answered_and_replayed(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    """The completion of the record meets a DynamoDB outage past the SDK's retries: it is sent
    again, the 201 is answered (never a 503 for work that was done), and a retry replays it."""
    alice = auth(f"idem-done-{uuid.uuid4().hex[:6]}")
    headers = {**alice, "Idempotency-Key": "record-late"}
    local_stack.dynamodb.inject(*[internal_error("UpdateItem")] * SDK_ATTEMPTS)

    first = create(api, headers)
    local_stack.dynamodb.clear()
    retry = create(api, headers)

    assert first.status_code == 201, first.text
    assert retry.json() == first.json()
    assert listed_ids(api, alice, until=bool) == [first.json()["conversation"]["id"]]


def test_an_exchange_that_was_stored_is_answered_as_stored_when_its_title_cannot_be(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The title is written after the exchange; DynamoDB failing it past the retries must not
    turn the stored answer into an error event (the client would retry and get a second)."""
    monkeypatch.setenv("CONVERSATION_TITLES", "true")
    alice = auth(f"title-fault-{uuid.uuid4().hex[:6]}")
    untitled = api.post("/v1/conversations", json={}, headers=alice).json()["conversation"]["id"]
    local_stack.dynamodb.clear()
    local_stack.dynamodb.inject(*[internal_error("UpdateItem")] * SDK_ATTEMPTS)

    with api.stream(
        "POST",
        f"/v1/conversations/{untitled}/messages",
        json={"role": "user", "content": "Plan a trip", "mode": "chat-completion", "stream": True},
        headers=alice,
    ) as response:
        events = [line for line in response.iter_lines() if line.startswith("event: ")]

    stored = api.get(f"/v1/conversations/{untitled}/messages", headers=alice).json()
    assert events[-1] == "event: done", events
    assert stored["total"] == 2


def test_a_claim_whose_lease_ran_out_may_be_taken_and_only_the_holder_completes(
    local_stack: LocalStack,
) -> None:
    """An attempt that died without a word holds its key only until its lease ends."""
    from local.dynamodb import client
    from parley.store.idempotency_records import (
        Busy,
        Claimed,
        IdempotencyRecords,
        RecordKey,
        Replay,
        Reused,
    )

    clock = [1_000.0]
    records = IdempotencyRecords(
        local_stack.table_name, client(local_stack.database.endpoint), now=lambda: clock[0]
    )
    digest = uuid.uuid4().hex

    def attempt(owner: str, body: str = "b") -> RecordKey:
        return RecordKey("IDEMPOTENCY#lease-test", digest, body, owner)

    first, second = attempt("first"), attempt("second")
    claims = [records.claim(first, lease_seconds=10, ttl_seconds=3600)]
    clock[0] += 5
    claims.append(records.claim(second, lease_seconds=10, ttl_seconds=3600))
    clock[0] += 10
    claims.append(records.claim(second, lease_seconds=10, ttl_seconds=3600))
    records.complete(first, {"statusCode": 201, "body": "first's"})  # no longer its claim
    records.complete(second, {"statusCode": 201, "body": "second's"})

    assert [type(c) for c in claims] == [Claimed, Busy, Claimed]
    assert records.claim(attempt("third"), 10, 3600) == Replay({"statusCode": 201, "body": "second's"})
    assert isinstance(records.claim(attempt("third", body="other"), 10, 3600), Reused)


def test_an_append_applied_whose_answers_are_all_lost_is_answered_as_stored_once(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    """DynamoDB applies the append, its answer is lost, and the SDK's resends are throttled until
    it gives up: the write is sent again with its token (one write for DynamoDB), so the client
    gets its 200 and the message is stored once, not a 503 that a retry would store again."""
    from tests.doubles.dynamodb_proxy import throttled

    alice = auth(f"idem-applied-{uuid.uuid4().hex[:6]}")
    conversation_id = create(api, alice).json()["conversation"]["id"]
    url = f"/v1/conversations/{conversation_id}/messages"
    local_stack.dynamodb.clear()
    local_stack.dynamodb.inject(
        applied_then_reset("TransactWriteItems"), *[throttled("TransactWriteItems")] * (SDK_ATTEMPTS - 1)
    )

    appended = api.post(url, json={"role": "user", "content": "once"}, headers=alice)

    assert appended.status_code == 200, appended.text
    assert [m["content"] for m in api.get(url, headers=alice).json()["messages"]] == ["once"]
