"""The chats API's use cases (document 002). A chat is a conversation; unlike the conversations
API, someone else's chat is a 403 (as the document says), not a 404."""

from __future__ import annotations

from parley.auth.principal import ACT_AS, AI_CHAT, CONVERSATIONS_READ, CONVERSATIONS_WRITE, Principal
from parley.config import Settings
from parley.errors import ChatNotFound, Forbidden
from parley.logic.access import CHATS
from parley.logic.after_exchange import after_exchange
from parley.logic.chat import generate_reply
from parley.logic.completion import memory_of
from parley.logic.conversations import create_conversation
from parley.logic.generation import Generator, Listener
from parley.logic.limits import check_content_size, require_uuid
from parley.logic.summaries import prompt_for
from parley.logic.titles import title_after_first_exchange
from parley.logic.workflows import run_workflow, usable_workflow
from parley.models.api.chats import (
    Chat,
    ChatMessage,
    ChatMessagePage,
    CreateChatMessageRequest,
    CreateChatRequest,
    SentChatMessage,
)
from parley.models.api.conversations import CreateConversationRequest
from parley.models.domain import Message
from parley.providers.registry import model_spec
from parley.store.catalog import CatalogStore
from parley.store.conversations import ConversationStore


def create_chat(
    principal: Principal, request: CreateChatRequest, *, store: ConversationStore, config: Settings
) -> Chat:
    conversation = create_conversation(
        principal,
        CreateConversationRequest(title=request.title, model=request.modelId),
        store=store,
        config=config,
    )
    return Chat.of(conversation)


def send_chat_message(
    principal: Principal,
    chat_id: str,
    request: CreateChatMessageRequest,
    *,
    store: ConversationStore,
    catalog: CatalogStore,
    generator: Generator,
    config: Settings,
    listener: Listener | None = None,
) -> SentChatMessage:
    """Store the user's message and the assistant's response (from the model, or from the named
    workflow's steps), both in one write after the response exists. A listener receives the
    response as it is generated (of a workflow, the last step's)."""
    principal.require(CONVERSATIONS_WRITE)
    principal.require(AI_CHAT)
    chat_id = require_uuid(chat_id, "chatId")
    if request.userId != principal.user_id and ACT_AS not in principal.scopes:
        raise Forbidden("userId must be the signed-in user.")
    check_content_size(request.content, config.max_message_bytes)
    model = model_spec(request.modelId, config).id
    context = store.completion_context(chat_id, config.history_max_messages)
    # The chat must be the userId's (the caller's, or whom an ai:act-as token speaks for).
    CHATS.require_access(chat_id, context.conversation if context else None, principal, request.userId)
    assert context is not None
    message = Message.new(chat_id, "user", request.content)
    workflow = usable_workflow(principal, request.workflowId, store=catalog) if request.workflowId else None
    generation = generator.open(
        context.conversation.brand_id, principal, listener, user_id=context.conversation.user_id
    )
    message.parent_id = context.recent[-1].id if context.recent else None
    summary = None
    if workflow is not None:
        reply = run_workflow(
            workflow, context.conversation, request.content, model, generation, config=config
        )
    else:
        prompt = prompt_for(
            model_spec(model, config),
            context.conversation,
            [*context.recent, message],
            memory_of(context, store, config),
            generation,
        )
        generated = generate_reply(context.conversation, prompt, generation, model_spec(model, config))
        reply, summary = generated.message, generated.summary
    reply.parent_id = message.id
    message.content = generation.stored(message.content)  # as the guardrail masked it, if it did
    title = title_after_first_exchange(
        context.conversation, [*context.recent, message, reply], generation, config
    )
    written = generation.settle(
        lambda charge: store.append(
            chat_id, context.conversation.user_id, [message, reply], reply.created_at, charge
        )
    )
    if not written:
        raise ChatNotFound(chat_id)  # deleted while the response was generated
    after_exchange(store, chat_id, reply, title, summary)
    return SentChatMessage(**ChatMessage.of(message).model_dump(), response=ChatMessage.of(reply))


def chat_messages(
    principal: Principal,
    chat_id: str,
    limit: int,
    cursor: str | None = None,
    *,
    store: ConversationStore,
) -> ChatMessagePage:
    """A page of the chat's messages in order, the newest last; `nextCursor` pages back."""
    principal.require(CONVERSATIONS_READ)
    chat_id = require_uuid(chat_id, "chatId")
    if cursor is not None:
        cursor = require_uuid(cursor, "cursor")
    page = store.history(chat_id, limit, cursor)
    CHATS.require_owner(chat_id, page.owner if page else None, principal.user_id)
    assert page is not None
    more = len(page.messages) == limit and page.message_count > limit
    return ChatMessagePage(
        data=[ChatMessage.of(m) for m in page.messages], nextCursor=page.messages[0].id if more else None
    )
