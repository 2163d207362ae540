"""The conversation store against moto: keys, counters, ordering, pages, deletion."""

from __future__ import annotations

from typing import Any

from parley.ids import uuid7
from parley.models.domain import Branch, Conversation, Message, timestamp
from parley.store import keys
from parley.store.conversations import ConversationStore
from parley.store.lifecycle import ConversationLifecycle


def conversation(owner: str = "alice", **fields: Any) -> Conversation:
    now = timestamp()
    values = {
        "id": str(uuid7()),
        "user_id": owner,
        "brand_id": "acme",
        "title": "Trip",
        "model": "parley-offline",
        "system_prompt": "Be brief.",
        "metadata": {"channel": "web"},
        "message_count": 0,
        "created_at": now,
        "updated_at": now,
    }
    return Conversation.model_validate({**values, **fields})


def message(conversation_id: str, content: str, role: str = "user") -> Message:
    """A message as Message.new makes one: its created_at is its id's instant (the store derives
    it from the id, so a clock read apart from it could differ by a millisecond)."""
    return Message.new(conversation_id, role, content)  # type: ignore[arg-type]


def fill(store: ConversationStore, conv: Conversation, count: int) -> list[Message]:
    messages = [message(conv.id, f"message {n}") for n in range(count)]
    for item in messages:
        assert store.append(conv.id, conv.user_id, [item], now=item.created_at)
    return messages


def test_a_created_conversation_reads_back_whole(store: ConversationStore) -> None:
    conv = conversation()
    store.create(conv)

    assert store.get(conv.id) == conv


def test_append_adds_the_messages_and_counts_them(store: ConversationStore) -> None:
    conv = conversation()
    store.create(conv)

    fill(store, conv, 3)

    stored = store.get(conv.id)
    assert stored is not None
    assert stored.message_count == 3


def test_append_to_a_missing_or_foreign_conversation_writes_nothing(
    store: ConversationStore, dynamodb: Any
) -> None:
    conv = conversation(owner="alice")
    store.create(conv)

    assert not store.append(conv.id, "mallory", [message(conv.id, "hi")], now=timestamp())
    missing = str(uuid7())
    assert not store.append(missing, "alice", [message(missing, "hi")], now=timestamp())

    assert dynamodb.scan(TableName=store.table_name)["Count"] == 2  # only ~META and ~PROFILE


def test_history_is_the_latest_page_in_chronological_order(store: ConversationStore) -> None:
    conv = conversation()
    store.create(conv)
    messages = fill(store, conv, 7)

    page = store.history(conv.id, limit=3)

    assert page is not None
    assert page.message_count == 7
    assert [m.content for m in page.messages] == [m.content for m in messages[-3:]]


def test_history_before_a_message_pages_back_to_the_start(store: ConversationStore) -> None:
    conv = conversation()
    store.create(conv)
    messages = fill(store, conv, 7)

    older = store.history(conv.id, limit=3, before=messages[-3].id)
    oldest = store.history(conv.id, limit=3, before=messages[1].id)

    assert older is not None and oldest is not None
    assert [m.id for m in older.messages] == [m.id for m in messages[1:4]]
    assert [m.id for m in oldest.messages] == [messages[0].id]


def test_history_of_a_missing_conversation_is_none(store: ConversationStore) -> None:
    assert store.history(str(uuid7()), limit=10) is None
    assert store.history(str(uuid7()), limit=10, before=str(uuid7())) is None


def test_completion_context_has_the_conversation_and_its_newest_messages(store: ConversationStore) -> None:
    conv = conversation()
    store.create(conv)
    messages = fill(store, conv, 5)

    context = store.completion_context(conv.id, recent=2)

    assert context is not None
    assert context.conversation.system_prompt == "Be brief."
    assert context.conversation.message_count == 5
    assert [m.id for m in context.recent] == [m.id for m in messages[-2:]]


def test_json_fields_round_trip(store: ConversationStore) -> None:
    conv = conversation()
    store.create(conv)
    rich = message(conv.id, "call it", role="assistant").model_copy(
        update={
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
            "metadata": {"score": 0.5, "tags": ["a"]},
        }
    )
    store.append(conv.id, "alice", [rich], now=rich.created_at)

    page = store.history(conv.id, limit=1)

    assert page is not None
    assert page.messages == [rich.model_copy(update={"branch": Branch(index=1, count=1)})]


def test_delete_hides_at_once_and_the_purge_removes_every_item(
    store: ConversationStore, dynamodb: Any
) -> None:
    conv, other = conversation(), conversation()
    store.create(conv)
    store.create(other)
    fill(store, conv, 60)  # more than one delete batch

    assert store.delete(conv.id, owner="alice", now=timestamp())

    assert store.get(conv.id) is None and store.history(conv.id, limit=5) is None
    assert not store.append(conv.id, "alice", [message(conv.id, "late")], now=timestamp())
    assert [c.id for c in store.list_for_owner("alice", 10)[0]] == [other.id]
    lifecycle = ConversationLifecycle(store)
    assert list(lifecycle.queued(keys.shard(conv.id))) == [conv.id]

    assert lifecycle.purge(conv.id, should_stop=lambda: False)

    remaining = dynamodb.scan(TableName=store.table_name)["Items"]
    assert {item["PK"]["S"] for item in remaining} == {f"CONV#{other.id}"}
    assert list(lifecycle.queued(keys.shard(conv.id))) == []


def test_delete_refuses_another_owner(store: ConversationStore) -> None:
    conv = conversation(owner="alice")
    store.create(conv)

    assert not store.delete(conv.id, owner="mallory", now=timestamp())
    assert store.get(conv.id) is not None


def test_owner_listing_is_newest_first_and_pages_with_a_cursor(store: ConversationStore) -> None:
    created = [conversation(title=f"c{n}", created_at=f"2026-01-0{n + 1}T00:00:00.000Z") for n in range(5)]
    for conv in created:
        store.create(conv)
    store.create(conversation(owner="bob"))

    first, cursor = store.list_for_owner("alice", limit=3)
    second, end = store.list_for_owner("alice", limit=3, after=cursor)

    assert [c.title for c in first] == ["c4", "c3", "c2"]
    assert [c.title for c in second] == ["c1", "c0"]
    assert end is None
