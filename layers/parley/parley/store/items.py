"""Conversion between DynamoDB items and domain models. JSON-shaped fields (metadata, tool calls,
usage) are stored as JSON strings: compact, and free of the number type's float restrictions."""

from __future__ import annotations

import json
import uuid
from typing import Any

from parley.ids import created_at
from parley.models.domain import (
    Conversation,
    ConversationSummary,
    Feedback,
    Message,
    RunningSummary,
    TokenUsage,
    timestamp,
)
from parley.models.tree import Kin, branch_of
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


def message_item(message: Message, kin: Kin | None = None) -> Item:
    """A message as stored on the active branch (MSG#), with its family record (store/keys.py)."""
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
    if kin is not None:
        item.update(kin_attributes(kin))
    return item


def kin_attributes(kin: Kin) -> Item:
    """A family record as attributes: a few numbers and ids, whatever the family's size."""
    attributes: Item = {}
    if kin.index > 1:
        attributes["sibling_index"] = {"N": str(kin.index)}
    for name, value in (
        ("previous_sibling", kin.previous),
        ("next_sibling", kin.next),
        ("newest_child", kin.newest_child),
    ):
        if value is not None:
            attributes[name] = _s(value)
    if kin.children is not None:
        attributes["children"] = {"N": str(kin.children)}
    if kin.legacy is not None:
        attributes["siblings"] = _json(list(kin.legacy))  # written before records; never grows
    return attributes


def kin_of(item: Item) -> Kin:
    """The family record a message item (or ~META, for the first messages) stores. An item from
    before records keeps its sibling list, which tells what its record does not say."""
    legacy = Kin()
    if "siblings" in item:
        legacy = Kin.from_legacy(message_id_of(item), json.loads(item["siblings"]["S"]))
    children = item.get("children", {}).get("N")
    return Kin(
        index=int(item["sibling_index"]["N"]) if "sibling_index" in item else legacy.index,
        previous=item["previous_sibling"]["S"] if "previous_sibling" in item else legacy.previous,
        next=item["next_sibling"]["S"] if "next_sibling" in item else legacy.next,
        children=int(children) if children is not None else None,
        newest_child=item.get("newest_child", {}).get("S"),
        legacy=legacy.legacy,
    )


def message_id_of(item: Item) -> str:
    """The id in a message item's key, on the active branch (MSG#) or off it (ALT#)."""
    return str(item["SK"]["S"]).split("#", 1)[1]


def message_from_item(item: Item, siblings: int | None = None) -> Message:
    """A message item stores no created_at: the UUIDv7 in its key carries that time. On the
    active branch it stores no parent either: that is the message before it (the reader sets
    it); off the branch it keeps its `parent_id`. `siblings`: its parent's count of children,
    when the reader has it (else the message's own record tells what it can)."""
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
        branch=branch_of(kin_of(item), siblings),
    )


def parent_of(item: Item) -> str | None:
    """An archived message's parent (None for a first message); None on the active branch."""
    parent: str | None = item.get("parent_id", {}).get("S")
    return parent


def archived_item(message: Message, kin: Kin) -> Item:
    """A message as it is kept off the active branch: under ALT#, with its parent, which off the
    branch no key order tells."""
    item = message_item(message, kin)
    item["SK"] = _s(keys.archived_message_sk(message.id))
    item["parent_id"] = _s(message.parent_id) if message.parent_id is not None else {"NULL": True}
    return item


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
    for name in ("brand_id", "title", "system_prompt", "assistant_id"):
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
        assistant_id=_optional(profile, "assistant_id"),
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
