"""A conversation's messages: the history page (document 001) and append (document 000)."""

from __future__ import annotations

from parley.auth.principal import AI_CHAT, CONVERSATIONS_READ, CONVERSATIONS_WRITE, Principal
from parley.config import Settings
from parley.errors import ConversationNotFound
from parley.logic.access import CONVERSATIONS
from parley.logic.after_exchange import after_exchange
from parley.logic.chat import generate_reply
from parley.logic.forks import append_under
from parley.logic.generation import Generator, Listener
from parley.logic.limits import check_content_size, check_json_size, require_uuid
from parley.logic.summaries import Memory
from parley.logic.titles import title_after_first_exchange
from parley.logic.tool_turns import (
    check_no_call_unanswered,
    check_tool_call_answered,
    check_tool_reference,
    offered_tools,
)
from parley.models.api.conversations import AppendMessageRequest, AppendMessageResponse, MessageHistory
from parley.models.domain import UNKNOWN_PARENT, Branch, Message
from parley.store.active_branch import CompletionContext
from parley.store.branches import BranchStore
from parley.store.conversations import ConversationStore


def message_history(
    principal: Principal,
    conversation_id: str,
    limit: int,
    before: str | None = None,
    *,
    store: ConversationStore,
) -> MessageHistory:
    """The latest `limit` messages in chronological order (older than `before` when given);
    `total` counts the whole conversation."""
    principal.require(CONVERSATIONS_READ)
    conversation_id = require_uuid(conversation_id, "conversation_id")
    if before is not None:
        before = require_uuid(before, "before")
    page = store.history(conversation_id, limit, before)
    CONVERSATIONS.require_owner(conversation_id, page.owner if page else None, principal.user_id)
    assert page is not None
    return MessageHistory(total=page.message_count, messages=page.messages)


def append_message(
    principal: Principal,
    conversation_id: str,
    request: AppendMessageRequest,
    *,
    store: ConversationStore,
    branches: BranchStore,
    generator: Generator,
    config: Settings,
    listener: Listener | None = None,
) -> AppendMessageResponse:
    """Store the message; in `chat-completion` mode also generate and store the reply. The two
    are written together after the provider answers, so a failed generation writes nothing. A
    listener receives the reply as it is generated (a streamed response). With a `parent_id`,
    the message goes under that message, on a branch of its own (parley.logic.forks)."""
    principal.require(CONVERSATIONS_WRITE)
    conversation_id = require_uuid(conversation_id, "conversation_id")
    check_content_size(request.content, config.max_message_bytes)
    check_json_size(request.metadata, "metadata")
    check_json_size(request.tool_calls, "tool_calls")
    check_tool_reference(request)
    if request.mode == "chat-completion":
        principal.require(AI_CHAT)
    metadata = {
        **(request.metadata or {}),
        **({"tool_call_id": request.tool_call_id} if request.tool_call_id else {}),
    }
    message = Message.new(
        conversation_id, request.role, request.content, tool_calls=request.tool_calls, metadata=metadata
    )
    if "parent_id" in request.model_fields_set:
        parent = require_uuid(request.parent_id, "parent_id") if request.parent_id is not None else None
        return append_under(
            principal,
            conversation_id,
            request,
            message,
            parent,
            store=store,
            branches=branches,
            generator=generator,
            config=config,
            listener=listener,
        )
    if request.mode == "append":
        # Written without reading: the message follows whatever is newest on the active branch
        # when it lands, which only the history tells.
        if not store.append(conversation_id, principal.user_id, [message], now=message.created_at):
            raise ConversationNotFound(conversation_id)
        only_child = Branch.of(message.id, None)
        return AppendMessageResponse(
            message=message.model_copy(update={"parent_id": UNKNOWN_PARENT, "branch": only_child}),
            assistant_message=None,
        )
    context = store.completion_context(conversation_id, config.history_max_messages)
    CONVERSATIONS.require_access(conversation_id, context.conversation if context else None, principal)
    assert context is not None
    check_tool_call_answered(request, context.recent)
    check_no_call_unanswered([*context.recent, message])
    tooling = offered_tools(request, context.conversation)
    generation = generator.open(context.conversation.brand_id, principal, listener)
    message.parent_id = context.recent[-1].id if context.recent else None
    reply = generate_reply(
        context.conversation,
        [*context.recent, message],
        generation,
        model=request.model,
        tools=tooling,
        memory=memory_of(context, store, config),
    )
    answer = reply.message
    answer.parent_id = message.id
    title = title_after_first_exchange(
        context.conversation, [*context.recent, message, answer], generation, config
    )
    written = generation.settle(
        lambda charge: store.append(
            conversation_id, principal.user_id, [message, answer], answer.created_at, charge
        )
    )
    if not written:
        raise ConversationNotFound(conversation_id)
    after_exchange(store, conversation_id, answer, title, reply.summary)
    for new in (message, answer):
        new.branch = Branch.of(new.id, None)
    return AppendMessageResponse(message=message, assistant_message=answer)


def memory_of(context: CompletionContext, store: ConversationStore, config: Settings) -> Memory | None:
    """The active branch's running summary and where to read what it has not caught up on; None
    when HISTORY_STRATEGY is `window`."""
    if config.history_strategy == "window":
        return None
    conversation_id = context.conversation.id
    return Memory(
        context.conversation.summary,
        context.reaches_start,
        lambda after, limit: store.messages_after(conversation_id, after, limit),
        config.summary_model,
    )
