"""The scheduled cleanup against DynamoDB Local with a fake clock (the Scheduler event's time):
what is gone and what stays, retention, resuming after running out of time, and two runs at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from local.events import scheduler_event
from local.lambda_runtime import LambdaContext, load_handler
from local.template import load
from parley.logic.cleanup import CleanupReport, run_cleanup
from parley.store import keys
from parley.store.dynamodb import dynamodb_client
from parley.store.lifecycle import ConversationLifecycle
from parley.wiring import Wiring
from tests.conftest import LocalStack, TokenFactory
from tests.integration.index_reads import listed_ids

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


@pytest.fixture
def retention(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CONVERSATION_RETENTION_DAYS", "30")
    yield
    monkeypatch.delenv("CONVERSATION_RETENTION_DAYS")


def run_at(moment: datetime, seconds: float = 300) -> dict[str, Any]:
    """One scheduled invocation of the cleanup function, in a container started now (its wiring
    made from the environment the test set)."""
    spec = load().functions["CleanupFunction"]
    event = {**scheduler_event(), "time": moment.isoformat().replace("+00:00", "Z")}
    result: dict[str, Any] = load_handler(spec)(event, LambdaContext(spec.logical_id, int(seconds)))
    return result


def cleanup(now: datetime, seconds_left: Callable[[], float]) -> CleanupReport:
    wiring = Wiring()
    return run_cleanup(
        now,
        seconds_left,
        lifecycle=ConversationLifecycle(wiring.conversations),
        vectors=wiring.vectors,
        config=wiring.settings,
    )


def items_of(table: str, conversation_id: str) -> int:
    return int(
        dynamodb_client().query(
            TableName=table,
            KeyConditionExpression="PK = :pk",
            Select="COUNT",
            ExpressionAttributeValues={":pk": {"S": keys.conversation_pk(conversation_id)}},
        )["Count"]
    )


def new_conversation(api: httpx.Client, headers: dict[str, str], messages: int = 3) -> str:
    conversation_id = str(
        api.post("/v1/conversations", json={}, headers=headers).json()["conversation"]["id"]
    )
    for n in range(messages):
        api.post(
            f"/v1/conversations/{conversation_id}/messages",
            json={"role": "user", "content": f"m{n}"},
            headers=headers,
        )
    return conversation_id


def deleted_conversations(api: httpx.Client, headers: dict[str, str], count: int, messages: int) -> list[str]:
    """Conversations deleted through the API: hidden, queued, their items still stored."""
    doomed = [new_conversation(api, headers, messages=messages) for _ in range(count)]
    for conversation_id in doomed:
        assert api.delete(f"/v1/conversations/{conversation_id}", headers=headers).status_code == 204
    return doomed


def recorded_activity(table: str, conversation_id: str) -> datetime:
    """When the table says the conversation was last written to (its ~META's updated_at): the
    moments a test runs the job at are counted from it, never from when the module was imported,
    so no run straddles a midnight the test did not choose."""
    item = dynamodb_client().get_item(
        TableName=table, Key={"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": keys.META}}
    )["Item"]
    return datetime.fromisoformat(item["updated_at"]["S"].replace("Z", "+00:00"))


def last_active(table: str, conversation_id: str, moment: datetime) -> None:
    """Fake clock: the conversation was last written to at `moment`."""
    dynamodb_client().update_item(
        TableName=table,
        Key={"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": keys.META}},
        UpdateExpression="SET updated_at = :t",
        ExpressionAttributeValues={":t": {"S": moment.isoformat()}},
    )


def test_a_deleted_conversation_is_hidden_at_once_and_purged_by_the_job(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    alice = auth("cleaner-a")
    doomed, kept = new_conversation(api, alice, messages=60), new_conversation(api, alice)

    deleted = api.delete(f"/v1/conversations/{doomed}", headers=alice)

    assert deleted.status_code == 204
    assert api.get(f"/v1/conversations/{doomed}/messages", headers=alice).status_code == 404
    assert doomed not in listed_ids(api, alice, until=lambda ids: doomed not in ids)
    assert items_of(local_stack.table_name, doomed) == 62  # still stored until the job runs

    first, second = run_at(NOW), run_at(NOW)

    assert first["purged"] >= 1 and first["finished"]
    assert items_of(local_stack.table_name, doomed) == 0
    assert items_of(local_stack.table_name, kept) == 5
    assert second["purged"] == 0  # twice in a row is harmless


@pytest.mark.usefixtures("retention")
def test_conversations_inactive_past_the_retention_are_deleted(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    bob = auth("cleaner-b")
    idle, busy = new_conversation(api, bob), new_conversation(api, bob)
    # Day boundaries: 31 days after the later of the two days the conversations were written on.
    start = max(recorded_activity(local_stack.table_name, c) for c in (idle, busy))
    last_active(local_stack.table_name, busy, start + timedelta(days=20))  # written to in 20 days

    report = run_at(start + timedelta(days=31))  # 31 days on: idle is past the 30-day retention

    assert report["expired"] >= 1 and report["rechecked"] >= 1
    assert items_of(local_stack.table_name, idle) == 0
    assert items_of(local_stack.table_name, busy) == 5

    later = run_at(start + timedelta(days=51))  # 31 days after busy's last activity

    assert later["expired"] >= 1 and items_of(local_stack.table_name, busy) == 0


def test_without_a_retention_inactive_conversations_stay(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    carol = auth("cleaner-c")
    old = new_conversation(api, carol)

    run_at(NOW + timedelta(days=3650))

    assert items_of(local_stack.table_name, old) == 5


def test_a_run_out_of_time_stops_and_the_next_run_resumes(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    doomed = deleted_conversations(api, auth("cleaner-d"), count=3, messages=30)
    clock = iter([60.0, 60.0] + [1.0] * 1000)  # a little time, then less than the stop margin

    partial = cleanup(NOW, lambda: next(clock))
    complete = cleanup(NOW, lambda: 300.0)

    assert not partial.finished
    assert complete.finished
    assert sum(items_of(local_stack.table_name, c) for c in doomed) == 0


def test_two_runs_at_once_are_harmless(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    doomed = deleted_conversations(api, auth("cleaner-e"), count=4, messages=40)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_at(NOW)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(items_of(local_stack.table_name, c) for c in doomed) == 0


def test_expired_rag_chunks_are_removed(api: httpx.Client, auth: TokenFactory) -> None:
    frank = auth("cleaner-f", brands=["acme"])
    api.post(
        "/v1/ai/documents",
        headers=frank,
        json={
            "brand_id": "acme",
            "rag_scope": "expiring",
            "document_id": "notice",
            "content": "Temporary notice.",
            "expires_at": (NOW + timedelta(hours=1)).isoformat(),
        },
    )

    report = run_at(NOW + timedelta(hours=2))

    assert report["chunks_removed"] >= 1
    delete = api.delete(
        "/v1/ai/documents/notice", params={"brand_id": "acme", "rag_scope": "expiring"}, headers=frank
    )
    assert delete.status_code == 404  # nothing was left of it


def test_make_cleanup_runs_the_cleanup_now_through_the_local_gateway(
    api: httpx.Client, auth: TokenFactory, local_stack: LocalStack
) -> None:
    """POST /local/cleanup (the local gateway's own route, for `make cleanup`): the cleanup
    function once, with its schedule's event; refused for another host."""
    alice = auth(f"cleaner-{NOW.timestamp():.0f}")
    conversation_id = api.post("/v1/conversations", json={}, headers=alice).json()["conversation"]["id"]
    assert api.delete(f"/v1/conversations/{conversation_id}", headers=alice).status_code == 204

    ran = api.post("/local/cleanup", headers={"Content-Type": "application/json"})
    foreign = api.post("/local/cleanup", headers={"Content-Type": "application/json", "Host": "evil.example"})

    assert ran.status_code == 200, ran.text
    assert set(ran.json()) >= {"purged", "expired", "finished"} and ran.json()["purged"] >= 1
    assert items_of(local_stack.table_name, conversation_id) == 0
    assert foreign.status_code == 403
