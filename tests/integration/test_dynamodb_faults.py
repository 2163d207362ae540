"""DynamoDB as AWS runs it: throttling, cancelled transactions, internal errors and requests that
get no answer, injected by the proxy in front of DynamoDB Local. Each is retried (the SDK's
standard mode for single calls, jittered resends for cancelled transactions) and, past the
retries, is a 503 `service_unavailable` with Retry-After; nothing is ever half-written."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import LocalStack, TokenFactory
from tests.doubles.dynamodb_proxy import cancelled, internal_error, throttled, unanswered
from tests.integration.index_reads import listed_ids

pytestmark = pytest.mark.integration

SDK_ATTEMPTS = 3  # parley.store.dynamodb: botocore standard mode, 3 attempts in all


def conversation(api: httpx.Client, headers: dict[str, str]) -> str:
    return str(api.post("/v1/conversations", json={}, headers=headers).json()["conversation"]["id"])


def history_total(api: httpx.Client, headers: dict[str, str], conversation_id: str) -> int:
    return int(api.get(f"/v1/conversations/{conversation_id}/messages", headers=headers).json()["total"])


def test_throttled_reads_are_retried_by_the_sdk(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    alice = auth(f"throttle-{uuid.uuid4().hex[:6]}")
    conversation_id = conversation(api, alice)
    local_stack.dynamodb.clear()
    local_stack.dynamodb.inject(throttled("Query"), internal_error("Query"))

    page = api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice)

    assert page.status_code == 200
    assert local_stack.dynamodb.requests.count("Query") == 3


def test_a_read_throttled_past_the_retries_is_a_503_with_retry_after(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    alice = auth(f"throttle-{uuid.uuid4().hex[:6]}")
    conversation_id = conversation(api, alice)
    local_stack.dynamodb.inject(*[throttled("Query")] * SDK_ATTEMPTS)

    page = api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice)

    assert page.status_code == 503
    assert page.json()["error"] == "service_unavailable" and page.headers["Retry-After"] == "1"


@pytest.mark.parametrize("reason", ["TransactionConflict", "ThrottlingError"])
def test_a_cancelled_append_is_sent_again_and_stored_once(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack, reason: str
) -> None:
    alice = auth(f"conflict-{uuid.uuid4().hex[:6]}")
    conversation_id = conversation(api, alice)
    local_stack.dynamodb.clear()
    local_stack.dynamodb.inject(*[cancelled(["None", reason])] * 3)

    appended = api.post(
        f"/v1/conversations/{conversation_id}/messages", json={"role": "user", "content": "hi"}, headers=alice
    )

    assert appended.status_code == 200, appended.text
    assert local_stack.dynamodb.requests.count("TransactWriteItems") == 4
    assert history_total(api, alice, conversation_id) == 1


def test_a_generation_whose_write_stays_throttled_is_a_503_and_writes_nothing(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    alice = auth(f"conflict-{uuid.uuid4().hex[:6]}")
    conversation_id = conversation(api, alice)
    local_stack.dynamodb.inject(*[cancelled(["ThrottlingError", "None"])] * 40)

    generated = api.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "content": "hi", "mode": "chat-completion"},
        headers=alice,
    )
    local_stack.dynamodb.clear()

    assert generated.status_code == 503, generated.text
    assert generated.json()["error"] == "service_unavailable" and "Retry-After" in generated.headers
    assert history_total(api, alice, conversation_id) == 0


def test_a_request_that_gets_no_answer_is_retried(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    alice = auth(f"silent-{uuid.uuid4().hex[:6]}")
    conversation_id = conversation(api, alice)
    local_stack.dynamodb.inject(unanswered("TransactWriteItems", seconds=3))

    appended = api.post(
        f"/v1/conversations/{conversation_id}/messages", json={"role": "user", "content": "hi"}, headers=alice
    )

    assert appended.status_code == 200, appended.text
    assert history_total(api, alice, conversation_id) == 1


def test_an_idempotent_request_while_dynamodb_fails_is_a_503_and_may_be_retried(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    alice = auth(f"idem-outage-{uuid.uuid4().hex[:6]}")
    headers = {**alice, "Idempotency-Key": "during-outage"}
    local_stack.dynamodb.inject(*[internal_error("PutItem")] * SDK_ATTEMPTS)

    during = api.post("/v1/conversations", json={"title": "t"}, headers=headers)
    local_stack.dynamodb.clear()
    after = api.post("/v1/conversations", json={"title": "t"}, headers=headers)

    assert during.status_code == 503, (during.text, local_stack.dynamodb.requests)
    assert during.json()["error"] == "service_unavailable" and "Retry-After" in during.headers
    assert after.status_code == 201
    assert listed_ids(api, alice, until=bool) == [after.json()["conversation"]["id"]]
