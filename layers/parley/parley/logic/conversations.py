"""Conversation resources: create, list (the caller's, newest first), read, delete."""

from __future__ import annotations

import uuid

from parley.auth.principal import CONVERSATIONS_READ, CONVERSATIONS_WRITE, Principal
from parley.config import Settings
from parley.errors import ConversationNotFound, InvalidRequest
from parley.ids import created_at, uuid7
from parley.logic.access import CONVERSATIONS
from parley.logic.catalog import find_assistant
from parley.logic.limits import check_json_size, require_uuid
from parley.models.api.conversations import ConversationPage, CreateConversationRequest
from parley.models.api.tools import stored_tools
from parley.models.domain import Conversation, timestamp
from parley.providers.credentials import default_model
from parley.providers.registry import model_spec
from parley.store.catalog import CatalogStore
from parley.store.conversations import ConversationStore
from parley.store.keys import user_sk


def create_conversation(
    principal: Principal,
    request: CreateConversationRequest,
    *,
    store: ConversationStore,
    config: Settings,
    catalog: CatalogStore | None = None,
) -> Conversation:
    """A new conversation of the caller's; with `assistant_id`, bound to that assistant of one of
    the caller's brands (the conversation is in its brand; another brand's reads as missing)."""
    principal.require(CONVERSATIONS_WRITE)
    brand_id = request.brand_id
    if brand_id is not None:
        principal.require_brand(brand_id)
    assistant_model = None
    if request.assistant_id is not None:
        if catalog is None:
            raise InvalidRequest("assistant_id is not taken here.", code="assistant_unavailable")
        assistant = find_assistant(principal, request.assistant_id, brand_id, store=catalog)
        brand_id, assistant_model = assistant.brand_id, assistant.model
    model = model_spec(request.model or assistant_model or default_model(config), config).id
    check_json_size(request.metadata, "metadata")
    identifier = uuid7()
    now = timestamp(created_at(identifier))
    conversation = Conversation(
        id=str(identifier),
        user_id=principal.user_id,
        brand_id=brand_id,
        title=request.title,
        model=model,
        system_prompt=request.system_prompt,
        metadata=request.metadata or {},
        tools=stored_tools(request.tools),
        assistant_id=request.assistant_id,
        message_count=0,
        created_at=now,
        updated_at=now,
    )
    store.create(conversation)
    return conversation


def get_conversation(principal: Principal, conversation_id: str, *, store: ConversationStore) -> Conversation:
    principal.require(CONVERSATIONS_READ)
    conversation_id = require_uuid(conversation_id, "conversation_id")
    conversation = store.get(conversation_id)
    # Someone else's conversation reads exactly like a missing one: its existence is not revealed.
    return CONVERSATIONS.require_access(conversation_id, conversation, principal)


def delete_conversation(principal: Principal, conversation_id: str, *, store: ConversationStore) -> None:
    principal.require(CONVERSATIONS_WRITE)
    conversation_id = require_uuid(conversation_id, "conversation_id")
    if not store.delete(conversation_id, owner=principal.user_id, now=timestamp()):
        raise ConversationNotFound(conversation_id)


def list_conversations(
    principal: Principal, limit: int, cursor: str | None = None, *, store: ConversationStore
) -> ConversationPage:
    principal.require(CONVERSATIONS_READ)
    # The cursor is the id of the last conversation seen: its UUIDv7 carries its creation time,
    # which with the id is exactly its place in the user index.
    after = None
    if cursor is not None:
        after_id = require_uuid(cursor, "cursor")
        after = user_sk(timestamp(created_at(uuid.UUID(after_id))), after_id)
    summaries, last = store.list_for_owner(principal.user_id, limit, after)
    return ConversationPage(conversations=summaries, next_cursor=last.rsplit("#", 1)[-1] if last else None)
