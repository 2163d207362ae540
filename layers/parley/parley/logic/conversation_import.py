"""POST /v1/conversations/import: a conversation exported as JSON (GET .../export?format=json),
taken back whole, every branch, as a new conversation of the caller's. It gets a new id and its
messages new ids (so their times are the import's), in an order that keeps each message after
its parent; the active branch stays the active one. Nothing is generated or charged: budgets are
untouched. Ratings and running summaries are not carried over (a summary is made again when the
history outgrows the prompt)."""

from __future__ import annotations

import uuid
from collections import defaultdict, deque

from parley.auth.principal import CONVERSATIONS_WRITE, Principal
from parley.config import Settings
from parley.errors import InvalidRequest
from parley.ids import created_at, uuid7
from parley.logic.limits import check_content_size, check_json_size
from parley.models.api.conversations import ConversationImport, ImportedMessage
from parley.models.api.tools import stored_tools
from parley.models.domain import Conversation, Message, timestamp
from parley.models.tree import family_records
from parley.providers.registry import model_spec
from parley.store.conversations import ConversationStore


def import_conversation(
    principal: Principal, request: ConversationImport, *, store: ConversationStore, config: Settings
) -> Conversation:
    principal.require(CONVERSATIONS_WRITE)
    source = request.conversation
    if source.brand_id is not None:
        principal.require_brand(source.brand_id)
    model = model_spec(source.model, config).id
    check_json_size(source.metadata, "conversation.metadata")
    identifier = uuid7()
    now = timestamp(created_at(identifier))
    conversation_id = str(identifier)
    parents = _parents(request)
    for message in [*request.messages, *request.archived]:
        check_content_size(message.content, config.max_message_bytes)
        check_json_size(message.metadata, f"message {message.id}: metadata")
        check_json_size(message.tool_calls, f"message {message.id}: tool_calls")
    order = _parents_first(parents)
    renamed = {old: str(uuid7()) for old in order}
    records, roots = family_records(
        {renamed[old]: renamed[parent] if (parent := parents[old]) is not None else None for old in order}
    )
    by_id = {message.id: message for message in [*request.messages, *request.archived]}

    def made(old: str) -> Message:
        message, parent = by_id[old], parents[old]
        new_parent = renamed[parent] if parent is not None else None
        return Message(
            id=renamed[old],
            conversation_id=conversation_id,
            role=message.role,
            content=message.content,
            tool_calls=message.tool_calls,
            token_usage=None,  # what a generation cost is the usage report's, not the import's
            metadata=message.metadata or {},
            created_at=timestamp(created_at(uuid.UUID(renamed[old]))),
            parent_id=new_parent,
        )

    active = [made(message.id) for message in request.messages]
    archived = [made(message.id) for message in request.archived]
    conversation = Conversation(
        id=conversation_id,
        user_id=principal.user_id,
        brand_id=source.brand_id,
        title=source.title,
        model=model,
        system_prompt=source.system_prompt,
        metadata=source.metadata or {},
        tools=stored_tools(source.tools, "conversation.tools"),
        message_count=len(active),
        active_message_id=active[-1].id if active else None,
        created_at=now,
        updated_at=now,
    )
    store.import_tree(conversation, active, archived, records, roots)
    return conversation


def _parents(request: ConversationImport) -> dict[str, str | None]:
    """Each message's parent: on the active branch the message before it, off it the one its
    `parent_id` names, which must be in the export. A 400 names the first that is not."""
    parents: dict[str, str | None] = {}
    previous: str | None = None
    for message in request.messages:
        _add(parents, message, previous)
        previous = message.id
    for message in request.archived:
        _add(parents, message, message.parent_id)
    for message in request.archived:
        if message.parent_id is not None and message.parent_id not in parents:
            raise _invalid(f"archived message '{message.id}' names a parent_id that is not in the export.")
    return parents


def _add(parents: dict[str, str | None], message: ImportedMessage, parent: str | None) -> None:
    if message.id in parents:
        raise _invalid(f"message id '{message.id}' appears more than once.")
    parents[message.id] = parent


def _parents_first(parents: dict[str, str | None]) -> list[str]:
    """Every message, each after its parent, siblings in the order of their ids (an export's
    UUIDv7 ids are their creation order); a 400 when some are not below a first message (a
    loop of parents)."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for message_id, parent in parents.items():
        children[parent].append(message_id)
    order: list[str] = []
    pending = deque(sorted(children[None]))
    while pending:
        message_id = pending.popleft()
        order.append(message_id)
        pending.extend(sorted(children[message_id]))
    if len(order) < len(parents):
        stray = sorted(set(parents) - set(order))[0]
        raise _invalid(f"message '{stray}' is not below a first message: its parents form a loop.")
    return order


def _invalid(message: str) -> InvalidRequest:
    return InvalidRequest(f"The export cannot be imported: {message}", code="invalid_export")
