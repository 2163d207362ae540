"""A conversation's messages: the history page (document 001) and append (document 000)."""

from __future__ import annotations

from parley.auth.principal import AI_CHAT, CONVERSATIONS_READ, CONVERSATIONS_WRITE, Principal
from parley.config import Settings
from parley.errors import ConversationNotFound, InvalidRequest
from parley.logic.access import CONVERSATIONS
from parley.logic.chat import Tooling, generate_reply
from parley.logic.generation import Generator, Listener
from parley.logic.limits import check_content_size, check_json_size, require_uuid
from parley.logic.prompt import issued_tool_call_ids
from parley.logic.titles import title_after_first_exchange
from parley.models.api.conversations import AppendMessageRequest, AppendMessageResponse, MessageHistory
from parley.models.api.tools import NamedToolChoice, checked_tools, chosen_name
from parley.models.domain import Conversation, Message
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
    generator: Generator,
    config: Settings,
    listener: Listener | None = None,
) -> AppendMessageResponse:
    """Store the message; in `chat-completion` mode also generate and store the reply. The two
    are written together after the provider answers, so a failed generation writes nothing. A
    listener receives the reply as it is generated (a streamed response)."""
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
    if request.mode == "append":
        if not store.append(conversation_id, principal.user_id, [message], now=message.created_at):
            raise ConversationNotFound(conversation_id)
        return AppendMessageResponse(message=message, assistant_message=None)
    context = store.completion_context(conversation_id, config.history_max_messages)
    CONVERSATIONS.require_owner(
        conversation_id, context.conversation.user_id if context else None, principal.user_id
    )
    assert context is not None
    check_tool_call_answered(request, context.recent)
    check_no_call_unanswered([*context.recent, message])
    tooling = offered_tools(request, context.conversation)
    generation = generator.open(context.conversation.brand_id, principal.user_id, listener)
    reply = generate_reply(
        context.conversation, [*context.recent, message], generation, model=request.model, tools=tooling
    )
    title = title_after_first_exchange(
        context.conversation, [*context.recent, message, reply], generation, config
    )
    written = generation.settle(
        lambda charge: store.append(
            conversation_id, principal.user_id, [message, reply], reply.created_at, charge
        )
    )
    if not written:
        raise ConversationNotFound(conversation_id)
    if title is not None:
        store.set_title(conversation_id, title)  # after the exchange: a title never costs it
    return AppendMessageResponse(message=message, assistant_message=reply)


def check_tool_reference(request: AppendMessageRequest) -> None:
    """Only a `user` or `tool` message asks for a reply (a model answers its user or the result of
    its own tool call), and a tool message that does needs the id of the call it answers.
    (Appended alone, a tool message may lack it, as document 000 allows; it is then never sent
    to a provider.)"""
    if request.mode == "chat-completion" and request.role == "tool" and not request.tool_call_id:
        raise InvalidRequest(
            "A tool message asking for a reply needs tool_call_id: the id of the call it answers."
        )
    if request.mode == "chat-completion" and request.role not in ("user", "tool"):
        raise InvalidRequest(
            f"mode chat-completion answers a user or tool message; a {request.role} message can only be "
            "appended (mode append)."
        )


def offered_tools(request: AppendMessageRequest, conversation: Conversation) -> Tooling | None:
    """The request's tools, else the conversation's; the choice must name one of them."""
    tools = checked_tools(request.tools) or conversation.tools
    choice = request.tool_choice
    if not tools:
        if choice not in (None, "none"):
            raise InvalidRequest(
                "tool_choice needs tools: declare them in `tools` (or on the conversation).", code="no_tools"
            )
        return None
    if name := chosen_name(choice):
        names = [tool["function"]["name"] for tool in tools]
        if name not in names:
            raise InvalidRequest(
                f"tool_choice names '{name}', which is not among the tools ({', '.join(names)}).",
                code="unknown_tool",
            )
    return Tooling(tools, choice.model_dump() if isinstance(choice, NamedToolChoice) else choice)


def check_no_call_unanswered(messages: list[Message]) -> None:
    """A reply is asked for only once every tool call of the latest assistant turn that made
    calls has its result (parallel calls: send the results with mode append, the last one with
    mode chat-completion)."""
    for position in range(len(messages) - 1, -1, -1):
        if messages[position].role == "assistant" and messages[position].tool_calls:
            issued = [str(call.get("id")) for call in messages[position].tool_calls or []]
            answered = {m.metadata.get("tool_call_id") for m in messages[position + 1 :] if m.role == "tool"}
            if missing := [call for call in issued if call not in answered]:
                raise InvalidRequest(
                    f"The assistant's tool call(s) {', '.join(missing)} have no result yet: send a tool "
                    "message for each (mode append) before asking for a reply.",
                    code="tool_call_unanswered",
                )
            return
        if messages[position].role == "assistant":
            return


def check_tool_call_answered(request: AppendMessageRequest, recent: list[Message]) -> None:
    """A tool result sent for a reply must answer a call an earlier assistant message made:
    providers refuse a dangling id, so it is a 400 here and never forwarded."""
    if request.role != "tool":
        return
    if request.tool_call_id not in issued_tool_call_ids(recent):
        raise InvalidRequest(
            f"tool_call_id '{request.tool_call_id}' names no tool call of an earlier assistant message "
            "in this conversation.",
            code="unknown_tool_call",
        )
