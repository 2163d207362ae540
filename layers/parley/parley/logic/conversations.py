"""Conversation resources: create, list (the caller's, newest first), read, delete."""

from __future__ import annotations

import base64
import binascii

from parley.auth.principal import CONVERSATIONS_READ, CONVERSATIONS_WRITE, Principal
from parley.errors import ConversationNotFound, InvalidRequest
from parley.ids import created_at, uuid7
from parley.logic.limits import check_json_size, require_uuid
from parley.models.api.conversations import ConversationPage, CreateConversationRequest
from parley.models.domain import Conversation, timestamp
from parley.providers.credentials import default_model
from parley.providers.registry import model_spec
from parley.store.conversations import ConversationStore, conversation_store


def create_conversation(
    principal: Principal, request: CreateConversationRequest, store: ConversationStore | None = None
) -> Conversation:
    principal.require(CONVERSATIONS_WRITE)
    if request.brand_id is not None:
        principal.require_brand(request.brand_id)
    model = model_spec(request.model or default_model()).id
    check_json_size(request.metadata, "metadata")
    identifier = uuid7()
    now = timestamp(created_at(identifier))
    conversation = Conversation(
        id=str(identifier),
        user_id=principal.user_id,
        brand_id=request.brand_id,
        title=request.title,
        model=model,
        system_prompt=request.system_prompt,
        metadata=request.metadata or {},
        message_count=0,
        created_at=now,
        updated_at=now,
    )
    (store or conversation_store()).create(conversation)
    return conversation


def get_conversation(
    principal: Principal, conversation_id: str, store: ConversationStore | None = None
) -> Conversation:
    principal.require(CONVERSATIONS_READ)
    conversation_id = require_uuid(conversation_id, "conversation_id")
    conversation = (store or conversation_store()).get(conversation_id)
    # Someone else's conversation reads exactly like a missing one: its existence is not revealed.
    if conversation is None or conversation.user_id != principal.user_id:
        raise ConversationNotFound(conversation_id)
    return conversation


def delete_conversation(
    principal: Principal, conversation_id: str, store: ConversationStore | None = None
) -> None:
    principal.require(CONVERSATIONS_WRITE)
    conversation_id = require_uuid(conversation_id, "conversation_id")
    if not (store or conversation_store()).delete(conversation_id, owner=principal.user_id):
        raise ConversationNotFound(conversation_id)


def list_conversations(
    principal: Principal, limit: int, cursor: str | None = None, store: ConversationStore | None = None
) -> ConversationPage:
    principal.require(CONVERSATIONS_READ)
    after = _decode_cursor(cursor) if cursor else None
    summaries, last = (store or conversation_store()).list_for_owner(principal.user_id, limit, after)
    return ConversationPage(conversations=summaries, next_cursor=_encode_cursor(last) if last else None)


def _encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    """The cursor is the index sort key `<created_at>#<id>` of the previous page's last item;
    anything else is refused before it reaches DynamoDB."""
    try:
        sort_key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        sort_key = ""
    created, _, conversation_id = sort_key.rpartition("#")
    if not created or not conversation_id:
        raise InvalidRequest("cursor is not one this API returned.", code="invalid_cursor")
    require_uuid(conversation_id, "cursor")
    return sort_key
