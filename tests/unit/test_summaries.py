"""Running summaries: what no longer fits the prompt is folded into the active branch's summary
(one metered generation), extended rather than rewritten, not on every turn, carried by the
prompt, kept with its branch; `HISTORY_STRATEGY=window` leaves the turns out instead."""

from __future__ import annotations

from typing import Any

import pytest

from parley.logic.branching.switch import switch_branch
from parley.logic.conversations import create_conversation, get_conversation
from parley.logic.messages import append_message, message_history
from parley.models.api.conversations import (
    AppendMessageRequest,
    CreateConversationRequest,
    UpdateConversationRequest,
)
from parley.models.domain import Conversation, Message
from parley.store.conversations import ConversationStore
from tests.unit.conftest import appending, principal, unit_settings

ALICE = principal("alice")
WINDOW = 6  # HISTORY_MAX_MESSAGES: the newest messages a reply reads


@pytest.fixture
def conversation_id(store: ConversationStore) -> str:
    return create_conversation(
        ALICE, CreateConversationRequest(title="Trips"), store=store, config=unit_settings()
    ).id


def ask(store: ConversationStore, conversation_id: str, content: str, **settings: Any) -> Message:
    settings = {"history_max_messages": WINDOW, **settings}
    sent = append_message(
        ALICE,
        conversation_id,
        AppendMessageRequest(role="user", content=content, mode="chat-completion"),
        **appending(store, **settings),
    )
    assert sent.assistant_message is not None
    return sent.assistant_message


def conversation(store: ConversationStore, conversation_id: str) -> Conversation:
    return get_conversation(ALICE, conversation_id, store=store)


def test_the_turns_that_fall_out_are_folded_into_a_summary_the_prompt_carries(
    store: ConversationStore, conversation_id: str
) -> None:
    for n in range(4):
        ask(store, conversation_id, f"Question number {n} about Lisbon")
    assert conversation(store, conversation_id).summary is None  # every reply read the whole branch

    reply = ask(store, conversation_id, "Question number 4 about Porto")  # 8 before it: 2 fall out

    summary = conversation(store, conversation_id).summary
    assert summary is not None
    assert "Question number 0 about Lisbon" in summary.content
    branch = [m.id for m in message_history(ALICE, conversation_id, limit=50, store=store).messages]
    assert summary.through_message_id in branch
    # the reply read the turns after the summary, not the whole branch
    assert (
        reply.metadata["context_messages"] == len(branch) - 1 - branch.index(summary.through_message_id) - 1
    )


def test_the_summary_is_extended_now_and_then_not_rewritten_on_every_turn(
    store: ConversationStore, conversation_id: str
) -> None:
    summaries = []
    for n in range(12):
        ask(store, conversation_id, f"Question number {n} about Lisbon")
        summaries.append(conversation(store, conversation_id).summary)

    made = [s for s in summaries if s is not None]
    folds = {s.through_message_id for s in made}
    assert 2 <= len(folds) < len(made)  # folded again later, not on every turn
    first, last = made[0], made[-1]
    assert last.content.startswith(first.content)  # extended: the first fold's words are still first
    assert "Question number 0" in last.content and "Question number 6" in last.content


def test_the_window_strategy_leaves_the_turns_out(store: ConversationStore, conversation_id: str) -> None:
    for n in range(6):
        reply = ask(store, conversation_id, f"Question number {n}", history_strategy="window")

    assert conversation(store, conversation_id).summary is None
    assert reply.metadata["context_messages"] == WINDOW + 1  # and the question


def test_a_branch_forked_before_the_summary_ends_makes_its_own_and_the_old_one_returns_with_its_branch(
    store: ConversationStore, conversation_id: str
) -> None:
    for n in range(5):
        ask(store, conversation_id, f"Question number {n} about Lisbon")
    summary = conversation(store, conversation_id).summary
    assert summary is not None
    first_question = message_history(ALICE, conversation_id, limit=50, store=store).messages[0]

    append_message(  # an edit of the first question: a branch that shares nothing with the summary
        ALICE,
        conversation_id,
        AppendMessageRequest(role="user", content="About Madrid instead", parent_id=None),
        **appending(store),
    )
    assert conversation(store, conversation_id).summary is None
    switch_branch(
        ALICE,
        conversation_id,
        UpdateConversationRequest(active_message_id=first_question.id),
        store=store,
        branches=appending(store)["branches"],
    )

    assert conversation(store, conversation_id).summary == summary


def test_long_turns_that_overflow_the_models_window_are_folded_too(
    store: ConversationStore, conversation_id: str
) -> None:
    long = "Lisbon has seven hills and a river. " * 560  # ~20 KB: about 6,700 tokens counted
    for n in range(4):
        ask(store, conversation_id, f"Question number {n}. {long}", history_max_messages=200)
    assert conversation(store, conversation_id).summary is None  # 4 of them fit parley-offline's 32k

    reply = ask(store, conversation_id, f"Question number 4. {long}", history_max_messages=200)

    summary = conversation(store, conversation_id).summary
    assert summary is not None and "Question number 0" in summary.content
    assert reply.metadata["context_messages"] < 9  # the folded turns are not sent again
