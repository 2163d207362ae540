"""The event log of a streamed answer: runs read back in order from any event, an empty last run
that overwrites nothing, a cancel only on a stream that exists, and its bill (1 WCU per KB of
compressed events)."""

from __future__ import annotations

from typing import Any

import pytest

from parley.store.stream_logs import Run, StreamLogs, StreamOrigin
from tests.unit.conftest import TABLE

ORIGIN = StreamOrigin("alice", "grants", "POST /v1/chat/completions", ends_by=2_000_000_000)


def frame(number: int) -> bytes:
    return f'event: delta\ndata: {{"content":"piece {number}"}}\n\n'.encode()


@pytest.fixture
def logs(dynamodb: Any) -> StreamLogs:
    return StreamLogs(TABLE, dynamodb, ttl_seconds=3600)


def numbers(runs: list[Run]) -> list[int]:
    return [run.first + offset for run in runs for offset in range(len(run.events))]


def test_runs_come_back_in_order_from_any_event(logs: StreamLogs) -> None:
    logs.open("g1", ORIGIN, now=1_000)
    logs.append("g1", Run(0, [frame(0), frame(1), frame(2)], final=False), now=1_000)
    logs.append("g1", Run(3, [frame(3)], final=False), now=1_000)
    logs.append("g1", Run(4, [frame(4), frame(5)], final=True), now=1_000)

    assert numbers(logs.runs_after("g1", -1)) == [0, 1, 2, 3, 4, 5]
    assert logs.runs_after("g1", -1)[0].events[1] == frame(1)
    assert numbers(logs.runs_after("g1", 1))[0] == 0  # the run holding event 2 starts at 0
    assert [run.first for run in logs.runs_after("g1", 3)] == [4]
    assert logs.runs_after("g1", 5) == []
    assert logs.finished("g1")


def test_an_empty_last_run_ends_the_stream_without_overwriting_the_run_before(logs: StreamLogs) -> None:
    logs.open("g2", ORIGIN, now=1_000)
    logs.append("g2", Run(0, [frame(0), frame(1)], final=False), now=1_000)
    assert not logs.finished("g2")

    logs.append("g2", Run(2, [], final=True), now=1_000)

    runs = logs.runs_after("g2", -1)
    assert numbers(runs) == [0, 1] and runs[-1].final
    assert logs.runs_after("g2", 1)[-1].final  # a client with every event still learns the end
    assert logs.finished("g2")


def test_a_cancel_is_kept_on_the_stream_and_refused_for_an_unknown_one(logs: StreamLogs) -> None:
    logs.open("g3", ORIGIN, now=1_000)

    assert logs.cancel("g3") and not logs.cancel("nope")

    origin = logs.origin("g3")
    assert origin is not None and origin.cancelled and origin.owner == "alice"
    assert logs.origin("nope") is None


def test_a_run_is_stored_compressed_so_it_bills_a_few_wcu(logs: StreamLogs, dynamodb: Any) -> None:
    """Two hundred OpenAI-sized chunks (~30 KB of frames) are one item of a few KB: DynamoDB bills
    a write 1 WCU per KB of the item, so a few WCU, not thirty."""
    chunk = b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o",'
    frames = [chunk + f'"choices":[{{"delta":{{"content":"word{n} "}}}}]}}\n\n'.encode() for n in range(200)]
    logs.open("g4", ORIGIN, now=1_000)

    logs.append("g4", Run(0, frames, final=True), now=1_000)

    item = dynamodb.get_item(TableName=TABLE, Key={"PK": {"S": "GEN#g4"}, "SK": {"S": "EV#000000199"}})[
        "Item"
    ]
    assert sum(len(f) for f in frames) > 25_000
    assert len(item["events"]["B"]) < 3_000
    assert numbers(logs.runs_after("g4", -1)) == list(range(200))
