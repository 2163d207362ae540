"""DynamoDB cost and round trips per operation, from ReturnConsumedCapacity against DynamoDB Local."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from bench.report import Report
from parley.auth.principal import ALL_SCOPES, Principal
from parley.logic.conversations import create_conversation
from parley.logic.messages import append_message, message_history
from parley.logic.usage import usage_report
from parley.models.api.conversations import AppendMessageRequest, CreateConversationRequest
from parley.models.domain import Conversation
from parley.wiring import Wiring
from tests.doubles.capacity import CapacityRecorder
from tests.doubles.seeding import seed_messages

WIRING = Wiring()  # the bench's: the environment `make bench` sets up
CALLER = Principal("bench-user", frozenset({"acme"}), frozenset(ALL_SCOPES))
MESSAGE_ITEM_UNDER_1_KB = "x" * 700


def cost(report: Report, name: str, operation: Callable[[], Any], **extra: Any) -> None:
    with CapacityRecorder(WIRING.dynamodb) as recorder:
        operation()
    report.figure(f"dynamodb.{name}.wcu", recorder.write_units, "WCU", **extra)
    report.figure(f"dynamodb.{name}.rcu", recorder.read_units, "RCU", **extra)
    report.figure(
        f"dynamodb.{name}.round_trips",
        len(recorder.calls),
        "requests",
        operations=recorder.operations,
        index_wcu=recorder.index_units,
        **extra,
    )


def create(request: CreateConversationRequest) -> Conversation:
    return create_conversation(CALLER, request, store=WIRING.conversations, config=WIRING.settings)


def append(conversation_id: str, request: AppendMessageRequest) -> Any:
    return append_message(
        CALLER,
        conversation_id,
        request,
        store=WIRING.conversations,
        generator=WIRING.generator,
        config=WIRING.settings,
    )


def run(report: Report, table: str) -> None:
    # Titled, as a conversation is after its first exchange: these are an append's own costs.
    profile = {
        "title": "Bench",
        "system_prompt": "You are a helpful assistant. " * 100,
        "metadata": {"channel": "web"},
    }
    cost(
        report,
        "create_conversation",
        lambda: create(CreateConversationRequest(**profile)),
    )
    message = AppendMessageRequest(role="user", content=MESSAGE_ITEM_UNDER_1_KB)
    longest = ""
    for position in (10, 1_000, 5_000):
        longest = create(CreateConversationRequest(**profile)).id
        seed_messages(WIRING.dynamodb, table, longest, position - 1)
        cost(
            report,
            f"append_at_{position}",
            partial(append, longest, message),
            content_bytes=len(MESSAGE_ITEM_UNDER_1_KB),
        )
    one_kib = AppendMessageRequest(role="user", content="x" * 1024)
    cost(
        report,
        "append_1_kib_content_at_5001",
        lambda: append(longest, one_kib),
        content_bytes=1024,
    )
    cost(
        report,
        "history_page_50",
        lambda: message_history(CALLER, longest, limit=50, store=WIRING.conversations),
        history_length=5_001,
    )
    chat = AppendMessageRequest(role="user", content="Hello", mode="chat-completion")
    cost(report, "chat_completion_offline", lambda: append(longest, chat), history_length=5_002)
    branded = create(CreateConversationRequest(brand_id="acme", **profile)).id
    append(branded, chat)  # the container reads the brand's budgets once
    cost(
        report,
        "chat_completion_in_a_brand",
        lambda: append(branded, chat),
        note="usage counters (user, brand day) in the same transaction; budgets cached",
    )
    cost(
        report,
        "usage_report_30_days",
        lambda: usage_report(CALLER, "acme", store=WIRING.usage, clock=WIRING.clock),
    )
