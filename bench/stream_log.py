"""What one resumable answer costs in DynamoDB: the stream log of a streamed chat-completion
(its ~META and its coalesced runs), measured by ReturnConsumedCapacity against DynamoDB Local,
apart from the exchange's own writes. Two paces of the same answer: all at once (one run), and
written as a model writes (OFFLINE_STREAM_DELAY_MS per piece: a run each FLUSH_SECONDS)."""

from __future__ import annotations

from typing import Any

import boto3

from bench.report import Report
from parley.auth.principal import ALL_SCOPES, Principal
from parley.config import Settings
from parley.edge.background_runs import Unread
from parley.edge.resumable import FLUSH_SECONDS, Recorder
from parley.edge.streaming import EventStream
from parley.logic.conversations import create_conversation
from parley.logic.messages import append_message
from parley.models.api.conversations import AppendMessageRequest, CreateConversationRequest
from parley.store.stream_logs import StreamLogs, StreamOrigin
from parley.wiring import Wiring
from tests.doubles.capacity import CapacityRecorder

CALLER = Principal("bench-stream-log", frozenset({"acme"}), frozenset(ALL_SCOPES))
QUESTION = "Tell me about Porto in a few sentences, " * 3


def one_answer(wiring: Wiring, logs_client: Any) -> EventStream:
    conversation = create_conversation(
        CALLER,
        CreateConversationRequest(model="parley-offline"),
        store=wiring.conversations,
        config=wiring.settings,
    )
    stream = EventStream({}, Unread(), {})
    origin = StreamOrigin(CALLER.user_id, "grants", "POST /v1/conversations/{id}/messages", ends_by=2**31)
    stream.recorder = Recorder(StreamLogs(wiring.settings.table_name, logs_client, 3600), origin)
    stream.claimed = True
    ask = AppendMessageRequest(role="user", content=QUESTION, mode="chat-completion")
    answer = append_message(
        CALLER,
        conversation.id,
        ask,
        store=wiring.conversations,
        branches=wiring.branches,
        generator=wiring.generator,
        config=wiring.settings,
        listener=stream,
    )
    stream.conclude({"statusCode": 200, "body": answer.model_dump_json()})
    return stream


def run(report: Report, settings: Settings) -> None:
    for pace, delay_ms in (("at_once", 0), ("paced_25_per_s", 40)):
        wiring = Wiring(settings.model_copy(update={"offline_stream_delay_ms": delay_ms}))
        logs_client = boto3.client("dynamodb")
        with CapacityRecorder(logs_client) as recorder:
            stream = one_answer(wiring, logs_client)
        report.figure(
            f"stream_log.resumable_answer.{pace}.wcu",
            recorder.write_units,
            "WCU",
            events=stream.number,
            requests=len(recorder.calls),
            rcu=recorder.read_units,  # a cancel looked for after each run
            note=f"one streamed answer's log: ~META and its runs (a run at most every {FLUSH_SECONDS} s)",
        )
