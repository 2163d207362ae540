"""DynamoDB cost and round trips per operation, from ReturnConsumedCapacity against DynamoDB Local."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from bench.report import Report
from parley.auth.principal import ALL_SCOPES, Principal
from parley.ids import uuid7
from parley.logic.branching.switch import switch_branch
from parley.logic.conversation_import import import_conversation
from parley.logic.conversations import create_conversation
from parley.logic.messages import append_message, message_history
from parley.logic.usage import usage_report
from parley.models.api.conversations import (
    AppendMessageRequest,
    ConversationImport,
    CreateConversationRequest,
    UpdateConversationRequest,
)
from parley.models.domain import Conversation
from parley.providers.credentials import default_model
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
        branches=WIRING.branches,
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
    branched_costs(report, table, profile, message)
    sibling_costs(report)
    chat = AppendMessageRequest(role="user", content="Hello", mode="chat-completion")
    short = create(CreateConversationRequest(**profile)).id
    seed_messages(WIRING.dynamodb, table, short, 30)
    cost(report, "chat_completion_offline", lambda: append(short, chat), history_length=31)
    cost(
        report,
        "chat_completion_that_starts_a_summary",
        lambda: append(longest, chat),
        history_length=5_002,
        note="HISTORY_MAX_MESSAGES (200) left out the rest: one fold into the running summary",
    )
    cost(report, "chat_completion_after_it", lambda: append(longest, chat), history_length=5_004)
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


def branched_costs(
    report: Report, table: str, profile: dict[str, Any], message: AppendMessageRequest
) -> None:
    """An append and a history page on a conversation of 1,000 messages and 5 branches (4 edits
    at messages 100, 400, 700 and 950, the long branch active again), and what the changes of
    branch cost."""
    conversation_id = create(CreateConversationRequest(**profile)).id
    seed_messages(WIRING.dynamodb, table, conversation_id, 999)
    ids: list[str] = []
    before = None
    while len(ids) < 999:
        page = message_history(CALLER, conversation_id, limit=200, before=before, store=WIRING.conversations)
        ids = [m.id for m in page.messages] + ids
        before = page.messages[0].id
    for position in (100, 400, 700, 950):
        edit = AppendMessageRequest(
            role="user", content=f"an edit after message {position}", parent_id=ids[position - 1]
        )
        cost(report, "edit_that_forks", partial(append, conversation_id, edit), moved=999 - position)
        back = UpdateConversationRequest(active_message_id=ids[-1])
        cost(
            report,
            "switch_branch",
            partial(
                switch_branch,
                CALLER,
                conversation_id,
                back,
                store=WIRING.conversations,
                branches=WIRING.branches,
            ),
            moved=999 - position + 1,
        )
    shape = {"history_length": 1_000, "branches": 5}
    cost(report, "append_with_5_branches_at_1000", partial(append, conversation_id, message), **shape)
    cost(
        report,
        "history_page_50_with_5_branches",
        lambda: message_history(CALLER, conversation_id, limit=50, store=WIRING.conversations),
        **shape,
    )


def sibling_costs(report: Report, siblings: int = 2_000) -> None:
    """An edit, an edit answered, another answer and a change of version where a message has
    2,000 versions (a question, its answer, 2,000 edits of the follow-up, imported whole): each
    message keeps a constant-size family record, so none of these grows with the siblings."""
    question, answer = str(uuid7()), str(uuid7())
    edits = [str(uuid7()) for _ in range(siblings)]
    imported = import_conversation(
        CALLER,
        ConversationImport.model_validate(
            {
                "format": "parley.conversation.v1",
                "conversation": {"title": "Versions", "model": default_model(WIRING.settings)},
                "messages": [
                    {"id": question, "role": "user", "content": "Where in May?"},
                    {"id": answer, "role": "assistant", "content": "Lisbon."},
                    {"id": edits[-1], "role": "user", "content": f"edit {siblings}"},
                ],
                "archived": [
                    {"id": edit, "role": "user", "content": f"edit {n + 1}", "parent_id": answer}
                    for n, edit in enumerate(edits[:-1])
                ],
            }
        ),
        store=WIRING.conversations,
        config=WIRING.settings,
    )
    shape = {"siblings": siblings}
    history = message_history(CALLER, imported.id, limit=3, store=WIRING.conversations).messages
    newest_edit, versions = history[-1].id, history[-1].branch
    assert versions is not None and versions.count == siblings, versions  # the import counted them
    edit = AppendMessageRequest(role="user", content="one more edit", mode="append", parent_id=history[1].id)
    cost(report, f"edit_at_{siblings}_siblings", partial(append, imported.id, edit), **shape)
    answered = AppendMessageRequest(
        role="user", content="one more, answered", mode="chat-completion", parent_id=history[1].id
    )
    cost(report, f"edit_answered_at_{siblings}_siblings", partial(append, imported.id, answered), **shape)
    back = UpdateConversationRequest(active_message_id=newest_edit)
    switching = partial(
        switch_branch, CALLER, imported.id, back, store=WIRING.conversations, branches=WIRING.branches
    )
    cost(report, f"switch_version_at_{siblings}_siblings", switching, **shape)
    shown = message_history(CALLER, imported.id, limit=3, store=WIRING.conversations).messages[-1].branch
    assert shown is not None and shown.count == siblings + 2, shown
    cost(
        report,
        f"history_page_at_{siblings}_siblings",
        lambda: message_history(CALLER, imported.id, limit=50, store=WIRING.conversations),
        **shape,
    )
