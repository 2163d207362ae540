"""Conversion between DynamoDB items and domain models. JSON-shaped fields (metadata, tool calls,
usage) are stored as JSON strings: compact, and free of the number type's float restrictions."""

from __future__ import annotations

import json
import uuid
from typing import Any

from parley.ids import created_at
from parley.models.domain import (
    Branch,
    Conversation,
    ConversationSummary,
    Feedback,
    Message,
    RunningSummary,
    TokenUsage,
    timestamp,
)
from parley.store import keys

Item = dict[str, Any]


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _json(value: Any) -> dict[str, str]:
    return {"S": json.dumps(value, separators=(",", ":"), ensure_ascii=False)}


def _optional(item: Item, name: str) -> str | None:
    return item[name]["S"] if name in item else None


def _loads(item: Item, name: str, default: Any) -> Any:
    return json.loads(item[name]["S"]) if name in item else default


def message_item(message: Message) -> Item:
    item: Item = {
        "PK": _s(keys.conversation_pk(message.conversation_id)),
        "SK": _s(keys.message_sk(message.id)),
        "role": _s(message.role),
        "content": _s(message.content),
    }
    if message.tool_calls is not None:
        item["tool_calls"] = _json(message.tool_calls)
    if message.token_usage is not None:
        item["token_usage"] = _json(message.token_usage.model_dump())
    if message.metadata:
        item["metadata"] = _json(message.metadata)
    if message.branch is not None and message.branch.count > 1:
        item["siblings"] = _json(message.branch.sibling_ids)
    return item


def message_id_of(item: Item) -> str:
    """The id in a message item's key, on the active branch (MSG#) or off it (ALT#)."""
    return str(item["SK"]["S"]).split("#", 1)[1]


def message_from_item(item: Item) -> Message:
    """A message item stores no created_at: the UUIDv7 in its key carries that time. On the
    active branch it stores no parent either: that is the message before it (the reader sets
    it); off the branch it keeps its `parent_id`."""
    usage = _loads(item, "token_usage", None)
    message_id = message_id_of(item)
    return Message(
        id=message_id,
        conversation_id=item["PK"]["S"].removeprefix("CONV#"),
        role=item["role"]["S"],
        content=item["content"]["S"],
        tool_calls=_loads(item, "tool_calls", None),
        token_usage=TokenUsage.model_validate(usage) if usage is not None else None,
        metadata=_loads(item, "metadata", {}),
        created_at=timestamp(created_at(uuid.UUID(message_id))),
        parent_id=parent_of(item),
        branch=Branch.of(message_id, siblings_of(item)),
    )


def siblings_of(item: Item) -> list[str] | None:
    siblings: list[str] | None = _loads(item, "siblings", None)
    return siblings


def parent_of(item: Item) -> str | None:
    """An archived message's parent (None for a first message); None on the active branch."""
    parent: str | None = item.get("parent_id", {}).get("S")
    return parent


def archived_item(item: Item, parent_id: str | None) -> Item:
    """A message of the active branch as it is kept off it: the same attributes under ALT#, with
    its parent, which off the branch no key order tells."""
    moved = {**item, "SK": _s(keys.archived_message_sk(message_id_of(item)))}
    moved["parent_id"] = _s(parent_id) if parent_id is not None else {"NULL": True}
    return moved


def restored_item(item: Item, siblings: list[str]) -> Item:
    """An archived message back on the active branch: under MSG#, its siblings as they are now."""
    moved = {name: value for name, value in item.items() if name not in ("parent_id", "siblings")}
    moved["SK"] = _s(keys.message_sk(message_id_of(item)))
    if len(siblings) > 1:
        moved["siblings"] = _json(siblings)
    return moved


def summary_item(conversation_id: str, summary: RunningSummary, sk: str = keys.NOTES) -> Item:
    return {
        "PK": _s(keys.conversation_pk(conversation_id)),
        "SK": _s(sk),
        "content": _s(summary.content),
        "through_message_id": _s(summary.through_message_id),
        "updated_at": _s(summary.updated_at),
    }


def summary_from_item(item: Item) -> RunningSummary:
    return RunningSummary(
        content=item["content"]["S"],
        through_message_id=item["through_message_id"]["S"],
        updated_at=item["updated_at"]["S"],
    )


def feedback_item(conversation_id: str, message_id: str, feedback: Feedback, model: str) -> Item:
    item: Item = {
        "PK": _s(keys.conversation_pk(conversation_id)),
        "SK": _s(keys.feedback_sk(message_id)),
        "rating": _s(feedback.rating),
        "updated_at": _s(feedback.updated_at),
        "model": _s(model),
    }
    if feedback.comment is not None:
        item["comment"] = _s(feedback.comment)
    if feedback.reasons is not None:
        item["reasons"] = _json(feedback.reasons)
    return item


def feedback_from_item(item: Item) -> Feedback:
    return Feedback(
        rating=item["rating"]["S"],
        comment=_optional(item, "comment"),
        reasons=_loads(item, "reasons", None),
        updated_at=item["updated_at"]["S"],
    )


def meta_item(conversation: Conversation) -> Item:
    """The hot item: every append rewrites it, so it holds only small, bounded fields."""
    return {
        "PK": _s(keys.conversation_pk(conversation.id)),
        "SK": _s(keys.META),
        "owner": _s(conversation.user_id),
        "message_count": {"N": str(conversation.message_count)},
        "created_at": _s(conversation.created_at),
        "updated_at": _s(conversation.updated_at),
        "GSI2PK": _s(keys.activity_pk(conversation.id)),
        "GSI2SK": _s(keys.activity_sk(conversation.updated_at[:10], conversation.id)),
    }


def profile_item(conversation: Conversation) -> Item:
    item: Item = {
        "PK": _s(keys.conversation_pk(conversation.id)),
        "SK": _s(keys.PROFILE),
        "GSI1PK": _s(keys.user_pk(conversation.user_id)),
        "GSI1SK": _s(keys.user_sk(conversation.created_at, conversation.id)),
        "owner": _s(conversation.user_id),
        "model": _s(conversation.model),
        "created_at": _s(conversation.created_at),
    }
    for name in ("brand_id", "title", "system_prompt"):
        if (value := getattr(conversation, name)) is not None:
            item[name] = _s(value)
    if conversation.title_generated:
        item["title_generated"] = {"BOOL": True}
    if conversation.metadata:
        item["metadata"] = _json(conversation.metadata)
    if conversation.tools:
        item["tools"] = _json(conversation.tools)
    return item


def conversation_from_items(meta: Item, profile: Item, notes: Item | None = None) -> Conversation:
    active = meta.get("active_message_id", {}).get("S")
    return Conversation(
        id=meta["PK"]["S"].removeprefix("CONV#"),
        user_id=meta["owner"]["S"],
        brand_id=_optional(profile, "brand_id"),
        title=_optional(profile, "title"),
        model=profile["model"]["S"],
        system_prompt=_optional(profile, "system_prompt"),
        metadata=_loads(profile, "metadata", {}),
        tools=_loads(profile, "tools", None),
        active_message_id=active or None,  # "": the branch was left empty
        active_recorded=active is not None,
        summary=summary_from_item(notes) if notes is not None else None,
        has_feedback="has_feedback" in meta,
        title_generated="title_generated" in profile,
        message_count=int(meta["message_count"]["N"]),
        created_at=meta["created_at"]["S"],
        updated_at=meta["updated_at"]["S"],
    )


def summary_from_index_item(item: Item) -> ConversationSummary:
    return ConversationSummary(
        id=item["PK"]["S"].removeprefix("CONV#"),
        brand_id=_optional(item, "brand_id"),
        title=_optional(item, "title"),
        model=item["model"]["S"],
        created_at=item["created_at"]["S"],
    )
