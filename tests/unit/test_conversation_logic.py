"""The use cases: rules, scopes, sizes, and that a refused request writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from parley.errors import (
    ContentTooLarge,
    ConversationNotFound,
    Forbidden,
    InsufficientScope,
    InvalidRequest,
)
from parley.logic.conversations import (
    create_conversation,
    delete_conversation,
    get_conversation,
    list_conversations,
)
from parley.logic.messages import append_message, message_history
from parley.models.api.conversations import AppendMessageRequest, CreateConversationRequest
from parley.store.conversations import ConversationStore
from tests.unit.conftest import appending, principal, unit_settings

ALICE = principal("alice")


def new_conversation(store: ConversationStore, **fields: Any) -> str:
    return create_conversation(
        ALICE, CreateConversationRequest(**fields), store=store, config=unit_settings()
    ).id


def item_count(dynamodb: Any, store: ConversationStore) -> int:
    return int(dynamodb.scan(TableName=store.table_name)["Count"])


def test_a_new_conversation_uses_the_default_model(store: ConversationStore) -> None:
    conversation = create_conversation(
        ALICE, CreateConversationRequest(title="Hello"), store=store, config=unit_settings()
    )

    assert conversation.model == "parley-offline"
    assert conversation.user_id == "alice"
    assert get_conversation(ALICE, conversation.id, store=store) == conversation


def test_an_unknown_model_is_a_400_listing_the_valid_ones(store: ConversationStore) -> None:
    with pytest.raises(InvalidRequest) as refusal:
        create_conversation(
            ALICE, CreateConversationRequest(model="gpt-17"), store=store, config=unit_settings()
        )

    assert refusal.value.code == "unknown_model"
    assert "gpt-4o" in refusal.value.message


def test_a_brand_outside_the_token_is_forbidden(store: ConversationStore) -> None:
    with pytest.raises(Forbidden):
        create_conversation(
            ALICE, CreateConversationRequest(brand_id="globex"), store=store, config=unit_settings()
        )


def test_append_returns_the_stored_message_and_no_reply(store: ConversationStore) -> None:
    conversation_id = new_conversation(store)

    result = append_message(
        ALICE, conversation_id, AppendMessageRequest(role="user", content="Hi"), **appending(store)
    )

    assert result.assistant_message is None
    history = message_history(ALICE, conversation_id, limit=50, store=store)
    assert history.total == 1
    assert "parent_id" not in result.message.model_dump()  # written without reading what it follows
    assert history.messages == [result.message.model_copy(update={"parent_id": None})]  # the first


def test_chat_completion_stores_the_message_and_the_offline_reply(store: ConversationStore) -> None:
    conversation_id = new_conversation(store, system_prompt="Be brief.")

    result = append_message(
        ALICE,
        conversation_id,
        AppendMessageRequest(role="user", content="Hi there", mode="chat-completion"),
        **appending(store),
    )

    reply = result.assistant_message
    assert reply is not None
    assert reply.role == "assistant"
    assert "Hi there" in reply.content
    assert reply.metadata["provider"] == "offline"
    assert reply.metadata["model"] == "parley-offline"
    assert reply.token_usage is not None and reply.token_usage.total_tokens > 0
    history = message_history(ALICE, conversation_id, limit=50, store=store)
    assert [m.id for m in history.messages] == [result.message.id, reply.id]
    assert history.total == 2


def test_the_offline_reply_is_deterministic(store: ConversationStore) -> None:
    first, second = new_conversation(store), new_conversation(store)
    request = AppendMessageRequest(role="user", content="Same words", mode="chat-completion")

    one = append_message(ALICE, first, request, **appending(store)).assistant_message
    two = append_message(ALICE, second, request, **appending(store)).assistant_message

    assert one is not None and two is not None
    assert one.content == two.content


def test_content_over_the_limit_is_413_and_writes_nothing(store: ConversationStore, dynamodb: Any) -> None:
    conversation_id = new_conversation(store)
    before = item_count(dynamodb, store)

    with pytest.raises(ContentTooLarge):
        append_message(
            ALICE,
            conversation_id,
            AppendMessageRequest(role="user", content="é" * 6),
            **appending(store, max_message_bytes=10),
        )

    assert item_count(dynamodb, store) == before


def test_chat_completion_needs_the_ai_chat_scope_and_writes_nothing(
    store: ConversationStore, dynamodb: Any
) -> None:
    conversation_id = new_conversation(store)
    before = item_count(dynamodb, store)
    writer = principal("alice", scopes=("conversations:read", "conversations:write"))

    with pytest.raises(InsufficientScope):
        append_message(
            writer,
            conversation_id,
            AppendMessageRequest(role="user", content="Hi", mode="chat-completion"),
            **appending(store),
        )

    assert item_count(dynamodb, store) == before


@pytest.mark.parametrize("role", ["system", "assistant"])
def test_chat_completion_answers_only_user_and_tool_messages(
    store: ConversationStore, dynamodb: Any, role: str
) -> None:
    conversation_id = new_conversation(store)
    before = item_count(dynamodb, store)

    with pytest.raises(InvalidRequest, match="user or tool"):
        append_message(
            ALICE,
            conversation_id,
            AppendMessageRequest(role=role, content="Be terse.", mode="chat-completion"),
            **appending(store),
        )

    assert item_count(dynamodb, store) == before


def test_a_tool_result_must_answer_a_call_an_earlier_assistant_message_made(
    store: ConversationStore, dynamodb: Any
) -> None:
    conversation_id = new_conversation(store)
    call = {"id": "call_7", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    append_message(
        ALICE,
        conversation_id,
        AppendMessageRequest(role="assistant", content="Checking.", tool_calls=[call]),
        **appending(store),
    )
    before = item_count(dynamodb, store)

    for missing in ({}, {"tool_call_id": "call_8"}):
        with pytest.raises(InvalidRequest, match="tool_call_id"):
            append_message(
                ALICE,
                conversation_id,
                AppendMessageRequest(role="tool", content="21 C", mode="chat-completion", **missing),
                **appending(store),
            )
    assert item_count(dynamodb, store) == before

    answered = append_message(
        ALICE,
        conversation_id,
        AppendMessageRequest(role="tool", content="21 C", mode="chat-completion", tool_call_id="call_7"),
        **appending(store),
    )
    assert answered.assistant_message is not None


def test_another_users_conversation_reads_as_missing(store: ConversationStore, dynamodb: Any) -> None:
    conversation_id = new_conversation(store)
    mallory = principal("mallory")
    before = item_count(dynamodb, store)

    with pytest.raises(ConversationNotFound):
        get_conversation(mallory, conversation_id, store=store)
    with pytest.raises(ConversationNotFound):
        message_history(mallory, conversation_id, limit=10, store=store)
    with pytest.raises(ConversationNotFound):
        append_message(
            mallory, conversation_id, AppendMessageRequest(role="user", content="x"), **appending(store)
        )
    with pytest.raises(ConversationNotFound):
        append_message(
            mallory,
            conversation_id,
            AppendMessageRequest(role="user", content="x", mode="chat-completion"),
            **appending(store),
        )
    with pytest.raises(ConversationNotFound):
        delete_conversation(mallory, conversation_id, store=store)

    assert item_count(dynamodb, store) == before


@pytest.mark.parametrize("bad_id", ["abc", "123", "01a2082b-8113-74cf-a1c0-b676da9a373"])
def test_a_malformed_conversation_id_is_a_400(store: ConversationStore, bad_id: str) -> None:
    with pytest.raises(InvalidRequest) as refusal:
        message_history(ALICE, bad_id, limit=10, store=store)

    assert refusal.value.code == "invalid_conversation_id"


def test_reading_needs_the_read_scope(store: ConversationStore) -> None:
    conversation_id = new_conversation(store)
    chat_only = principal("alice", scopes=("ai:chat",))

    with pytest.raises(InsufficientScope, match="conversations:read"):
        message_history(chat_only, conversation_id, limit=10, store=store)


@pytest.mark.parametrize("cursor", ["!!!", "bm90IGEgY3Vyc29y", "MjAyNi0wMS0wMSNub3QtYS11dWlk"])
def test_a_forged_cursor_is_a_400(store: ConversationStore, cursor: str) -> None:
    with pytest.raises(InvalidRequest) as refusal:
        list_conversations(ALICE, limit=10, cursor=cursor, store=store)

    assert refusal.value.code == "invalid_cursor"


def test_listing_pages_through_every_conversation_once(store: ConversationStore) -> None:
    created = {new_conversation(store, title=f"c{n}") for n in range(5)}
    new_conversation_for_bob = create_conversation(
        principal("bob"), CreateConversationRequest(), store=store, config=unit_settings()
    ).id

    seen: list[str] = []
    cursor = None
    while True:
        page = list_conversations(ALICE, limit=2, cursor=cursor, store=store)
        seen += [c.id for c in page.conversations]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert sorted(seen) == sorted(created)
    assert new_conversation_for_bob not in seen


def test_deleting_twice_is_a_404_the_second_time(store: ConversationStore) -> None:
    conversation_id = new_conversation(store)

    delete_conversation(ALICE, conversation_id, store=store)

    with pytest.raises(ConversationNotFound):
        delete_conversation(ALICE, conversation_id, store=store)
    with pytest.raises(ConversationNotFound):
        append_message(
            ALICE, conversation_id, AppendMessageRequest(role="user", content="late"), **appending(store)
        )


def test_the_history_before_cursor_must_be_a_message_id(store: ConversationStore) -> None:
    conversation_id = new_conversation(store)

    with pytest.raises(InvalidRequest) as refusal:
        message_history(ALICE, conversation_id, limit=10, before="yesterday", store=store)

    assert refusal.value.code == "invalid_before"


def test_history_pages_never_overlap(store: ConversationStore) -> None:
    conversation_id = new_conversation(store)
    ids = [
        append_message(
            ALICE, conversation_id, AppendMessageRequest(role="user", content=f"m{n}"), **appending(store)
        ).message.id
        for n in range(5)
    ]

    newest = message_history(ALICE, conversation_id, limit=2, store=store)
    older = message_history(ALICE, conversation_id, limit=2, before=newest.messages[0].id, store=store)
    oldest = message_history(ALICE, conversation_id, limit=2, before=older.messages[0].id, store=store)

    pages = [m.id for page in (oldest, older, newest) for m in page.messages]
    assert pages == ids
