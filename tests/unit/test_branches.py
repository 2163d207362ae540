"""Branches (DESIGN §4): regenerate, edit (an append under an earlier message), a new first
message, and PATCH active_message_id; the history is always exactly the active branch, each
message with its parent and its siblings, and nothing of another branch is lost."""

from __future__ import annotations

from typing import Any

import pytest

from parley.errors import ConversationNotFound, InvalidRequest, MessageNotFound
from parley.logic.branching.switch import switch_branch
from parley.logic.conversations import create_conversation
from parley.logic.messages import append_message, message_history, regenerate_answer
from parley.models.api.conversations import (
    AppendMessageRequest,
    CreateConversationRequest,
    RegenerateRequest,
    UpdateConversationRequest,
)
from parley.models.domain import Branch, Message
from parley.store import branch_moves as branch_store
from parley.store.conversations import ConversationStore
from tests.doubles.capacity import CapacityRecorder
from tests.unit.conftest import appending, principal, unit_settings

ALICE = principal("alice")


@pytest.fixture
def conversation_id(store: ConversationStore) -> str:
    return create_conversation(
        ALICE, CreateConversationRequest(title="Trips"), store=store, config=unit_settings()
    ).id


def ask(
    store: ConversationStore, conversation_id: str, content: str, **fields: Any
) -> tuple[Message, Message]:
    sent = append_message(
        ALICE,
        conversation_id,
        AppendMessageRequest(role="user", content=content, mode="chat-completion", **fields),
        **appending(store),
    )
    assert sent.assistant_message is not None
    return sent.message, sent.assistant_message


def regenerate(store: ConversationStore, conversation_id: str, message_id: str) -> Message:
    parts = appending(store)
    return regenerate_answer(
        ALICE, conversation_id, message_id, RegenerateRequest(), **parts
    ).assistant_message


def switch(store: ConversationStore, conversation_id: str, message_id: str) -> Any:
    return switch_branch(
        ALICE,
        conversation_id,
        UpdateConversationRequest(active_message_id=message_id),
        store=store,
        branches=appending(store)["branches"],
    )


def branch(store: ConversationStore, conversation_id: str) -> list[Message]:
    return message_history(ALICE, conversation_id, limit=200, store=store).messages


def ids(messages: list[Message]) -> list[str]:
    return [m.id for m in messages]


def test_a_regenerated_answer_replaces_the_old_one_on_the_branch_as_its_sibling(
    store: ConversationStore, conversation_id: str
) -> None:
    question, first = ask(store, conversation_id, "Where in May?")

    second = regenerate(store, conversation_id, first.id)

    history = branch(store, conversation_id)
    assert ids(history) == [question.id, second.id]
    assert history[1].parent_id == question.id and second.parent_id == question.id
    assert history[1].branch is not None
    assert (history[1].branch.index, history[1].branch.count) == (2, 2)
    assert (history[1].branch.previous_id, history[1].branch.next_id) == (first.id, None)
    assert message_history(ALICE, conversation_id, limit=1, store=store).total == 2


def test_switching_back_restores_the_old_answer_and_what_followed_it(
    store: ConversationStore, conversation_id: str
) -> None:
    question, first = ask(store, conversation_id, "Where in May?")
    follow_up, answer = ask(store, conversation_id, "And the food?")
    second = regenerate(store, conversation_id, first.id)

    conversation = switch(store, conversation_id, first.id)

    # "it and its newest descendants": the old answer, then what came after it
    assert ids(branch(store, conversation_id)) == [question.id, first.id, follow_up.id, answer.id]
    assert conversation.active_message_id == answer.id
    assert branch(store, conversation_id)[1].branch == Branch(index=1, count=2, next_id=second.id)
    switch(store, conversation_id, second.id)
    assert ids(branch(store, conversation_id)) == [question.id, second.id]


def test_an_edit_forks_at_the_edited_messages_parent(store: ConversationStore, conversation_id: str) -> None:
    question, answer = ask(store, conversation_id, "Where in May?")
    follow_up, _ = ask(store, conversation_id, "And the food?")

    edited, reply = ask(store, conversation_id, "And the wine?", parent_id=answer.id)

    history = branch(store, conversation_id)
    assert ids(history) == [question.id, answer.id, edited.id, reply.id]
    assert edited.parent_id == answer.id and reply.parent_id == edited.id
    assert history[2].branch is not None
    assert (history[2].branch.index, history[2].branch.count) == (2, 2)
    assert history[2].branch.previous_id == follow_up.id
    # the reply answered the edited branch: the old follow-up was not in its context
    assert reply.metadata["context_messages"] == 3


def test_a_null_parent_starts_a_new_first_message(store: ConversationStore, conversation_id: str) -> None:
    question, _ = ask(store, conversation_id, "Where in May?")

    sent = append_message(
        ALICE,
        conversation_id,
        AppendMessageRequest(role="user", content="Where in June?", parent_id=None),
        **appending(store),
    )

    history = branch(store, conversation_id)
    assert ids(history) == [sent.message.id]
    assert history[0].parent_id is None
    assert history[0].branch is not None
    assert (history[0].branch.index, history[0].branch.count) == (2, 2)
    assert history[0].branch.previous_id == question.id


def test_a_message_under_an_archived_parent_brings_its_branch_back(
    store: ConversationStore, conversation_id: str
) -> None:
    question, first = ask(store, conversation_id, "Where in May?")
    second = regenerate(store, conversation_id, first.id)

    follow_up, reply = ask(store, conversation_id, "And the food?", parent_id=first.id)

    assert ids(branch(store, conversation_id)) == [question.id, first.id, follow_up.id, reply.id]
    switch(store, conversation_id, second.id)
    assert ids(branch(store, conversation_id)) == [question.id, second.id]


def test_a_plain_append_follows_the_active_branch_after_a_switch(
    store: ConversationStore, conversation_id: str
) -> None:
    question, first = ask(store, conversation_id, "Where in May?")
    regenerate(store, conversation_id, first.id)
    switch(store, conversation_id, first.id)

    sent = append_message(
        ALICE, conversation_id, AppendMessageRequest(role="user", content="Thanks"), **appending(store)
    )

    history = branch(store, conversation_id)
    assert ids(history) == [question.id, first.id, sent.message.id]
    assert history[-1].parent_id == first.id


def test_a_long_branch_moves_in_several_transactions_and_arrives_whole(
    store: ConversationStore, conversation_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(branch_store, "MOVES_PER_TRANSACTION", 3)
    _question, first = ask(store, conversation_id, "Where in May?")
    later = [ask(store, conversation_id, f"Question {n}") for n in range(4)]
    long_branch = ids(branch(store, conversation_id))

    regenerate(store, conversation_id, first.id)  # 9 messages leave the branch
    with CapacityRecorder(store.client) as recorder:
        switch(store, conversation_id, first.id)  # and come back, 3 to a transaction

    assert ids(branch(store, conversation_id)) == long_branch
    assert len(long_branch) == 2 + 2 * len(later)
    assert recorder.operations.count("TransactWriteItems") == 4  # the new answer leaves, 9 return


def test_branch_mistakes_are_4xx_and_write_nothing(
    store: ConversationStore, conversation_id: str, dynamodb: Any
) -> None:
    question, _answer = ask(store, conversation_id, "Where in May?")
    before = dynamodb.scan(TableName=store.table_name)["Items"]
    missing = "0192f5c8-7d4e-7a3b-9c1d-000000000000"

    with pytest.raises(InvalidRequest) as unknown_parent:
        ask(store, conversation_id, "x", parent_id=missing)
    with pytest.raises(InvalidRequest) as not_an_answer:
        regenerate(store, conversation_id, question.id)
    with pytest.raises(MessageNotFound):
        regenerate(store, conversation_id, missing)
    with pytest.raises(MessageNotFound):
        switch(store, conversation_id, missing)

    assert unknown_parent.value.code == "unknown_parent" and missing in str(unknown_parent.value)
    assert not_an_answer.value.code == "not_an_answer"
    assert dynamodb.scan(TableName=store.table_name)["Items"] == before


def test_another_users_conversation_is_missing_to_every_branch_route(
    store: ConversationStore, conversation_id: str
) -> None:
    _, answer = ask(store, conversation_id, "Where in May?")
    mallory = principal("mallory")
    parts = appending(store)

    with pytest.raises(ConversationNotFound):
        regenerate_answer(mallory, conversation_id, answer.id, RegenerateRequest(), **parts)
    with pytest.raises(ConversationNotFound):
        switch_branch(
            mallory,
            conversation_id,
            UpdateConversationRequest(active_message_id=answer.id),
            store=store,
            branches=parts["branches"],
        )
    with pytest.raises(ConversationNotFound):
        append_message(
            mallory,
            conversation_id,
            AppendMessageRequest(role="user", content="x", parent_id=answer.id),
            **parts,
        )


def add_sibling(store: ConversationStore, conversation_id: str, parent_id: str, content: str) -> Message:
    sent = append_message(
        ALICE,
        conversation_id,
        AppendMessageRequest(role="user", content=content, mode="append", parent_id=parent_id),
        **appending(store),
    )
    return sent.message


def test_a_sibling_and_a_switch_cost_the_same_at_300_siblings_as_at_3(
    store: ConversationStore, conversation_id: str, dynamodb: Any
) -> None:
    question, answer = ask(store, conversation_id, "Where in May?")
    siblings = [add_sibling(store, conversation_id, answer.id, "edit 1")]

    def costs() -> tuple[float, float, float]:
        with CapacityRecorder(store.client) as appended:
            siblings.append(add_sibling(store, conversation_id, answer.id, f"edit {len(siblings) + 1}"))
        with CapacityRecorder(store.client) as switched:
            switch(store, conversation_id, siblings[0].id)
        return appended.write_units, appended.read_units, switched.read_units + switched.write_units

    early = costs()  # the third sibling, then a switch to the first
    while len(siblings) < 299:
        siblings.append(add_sibling(store, conversation_id, answer.id, f"edit {len(siblings) + 1}"))
    late = costs()  # the 300th

    assert late == early
    items = dynamodb.scan(TableName=store.table_name)["Items"]
    assert max(len(str(item)) for item in items if item["SK"]["S"].startswith(("MSG#", "ALT#"))) < 1_000
    shown = branch(store, conversation_id)
    assert ids(shown) == [question.id, answer.id, siblings[0].id]
    assert shown[2].branch == Branch(index=1, count=300, next_id=siblings[1].id)
    newest = switch(store, conversation_id, siblings[-1].id)
    assert newest.active_message_id == siblings[-1].id
    assert branch(store, conversation_id)[2].branch == Branch(
        index=300, count=300, previous_id=siblings[-2].id
    )


def test_a_conversation_branched_before_family_records_keeps_its_versions(
    store: ConversationStore, conversation_id: str, dynamodb: Any
) -> None:
    """Items written with a whole sibling list (and no counts) read as they did, and branch on."""
    question, first = ask(store, conversation_id, "Where in May?")
    second = regenerate(store, conversation_id, first.id)
    for item in dynamodb.scan(TableName=store.table_name)["Items"]:
        if item["SK"]["S"] == "~META":
            dynamodb.update_item(
                TableName=store.table_name,
                Key={"PK": item["PK"], "SK": item["SK"]},
                UpdateExpression="REMOVE children, newest_child",
            )
        elif item["SK"]["S"].startswith(("MSG#", "ALT#")):
            legacy = {k: v for k, v in item.items() if k not in branch_store.KIN_NAMES.values()}
            if item["SK"]["S"].endswith((first.id, second.id)):
                legacy["siblings"] = {"S": f'["{first.id}","{second.id}"]'}
            dynamodb.put_item(TableName=store.table_name, Item=legacy)

    assert branch(store, conversation_id)[1].branch == Branch(index=2, count=2, previous_id=first.id)
    third = regenerate(store, conversation_id, first.id)
    assert branch(store, conversation_id)[1].branch == Branch(index=3, count=3, previous_id=second.id)
    switch(store, conversation_id, first.id)
    assert ids(branch(store, conversation_id)) == [question.id, first.id]
    assert branch(store, conversation_id)[1].branch == Branch(index=1, count=3, next_id=second.id)
    switch(store, conversation_id, second.id)
    assert branch(store, conversation_id)[1].branch == Branch(
        index=2, count=3, previous_id=first.id, next_id=third.id
    )


def test_an_edit_under_a_message_far_off_the_branch_comes_back_in_several_transactions_counted(
    store: ConversationStore, conversation_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(branch_store, "MOVES_PER_TRANSACTION", 2)
    _question, first = ask(store, conversation_id, "Where in May?")
    later = [ask(store, conversation_id, f"Question {n}") for n in range(3)]
    regenerate(store, conversation_id, first.id)  # the long branch leaves
    deepest_question, deepest_answer = later[-1]

    edited, reply = ask(store, conversation_id, "And in June?", parent_id=deepest_question.id)
    again, _ = ask(store, conversation_id, "And in July?", parent_id=deepest_question.id)

    shown = branch(store, conversation_id)
    assert ids(shown)[-4:] == [later[-2][1].id, deepest_question.id, again.id, shown[-1].id]
    assert shown[-2].branch == Branch(index=3, count=3, previous_id=edited.id)
    switch(store, conversation_id, deepest_answer.id)
    assert branch(store, conversation_id)[-1].branch == Branch(index=1, count=3, next_id=edited.id)
    switch(store, conversation_id, edited.id)
    assert ids(branch(store, conversation_id))[-2:] == [edited.id, reply.id]
