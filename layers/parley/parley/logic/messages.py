"""A conversation's messages: the history page (document 001), append (document 000), and
another answer to the same turns (regenerate), the last two through parley.logic.completion."""

from __future__ import annotations

from parley.auth.principal import AI_CHAT, CONVERSATIONS_READ, CONVERSATIONS_WRITE, Principal
from parley.config import Settings
from parley.errors import ConversationNotFound, InvalidRequest, MessageNotFound
from parley.logic.access import CONVERSATIONS
from parley.logic.approvals import check_approval
from parley.logic.bound_assistant import Assistants
from parley.logic.branching.changes import steady
from parley.logic.branching.tree import TreeReader
from parley.logic.chat import Tooling
from parley.logic.completion import Asking, Branching, at_the_end, complete
from parley.logic.generation import Generator, Listener
from parley.logic.limits import check_content_size, check_json_size, require_uuid
from parley.logic.tool_loop import requested_servers
from parley.logic.tool_turns import (
    check_no_call_unanswered,
    check_tool_call_answered,
    check_tool_reference,
    offered_tools,
)
from parley.models.api.conversations import (
    AppendMessageRequest,
    AppendMessageResponse,
    MessageHistory,
    RegenerateRequest,
    RegenerateResponse,
)
from parley.models.domain import UNKNOWN_PARENT, Branch, Message
from parley.models.tree import Head
from parley.store.branch_moves import BranchStore
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
    assistants: Assistants | None = None,
) -> AppendMessageResponse:
    """Store the message; in `chat-completion` mode also generate and store the reply. The two
    are written together after the provider answers, so a failed generation writes nothing. A
    listener receives the reply as it is generated (a streamed response). With a `parent_id`,
    the message goes under that message, on a branch of its own that becomes the active one."""
    principal.require(CONVERSATIONS_WRITE)
    conversation_id = require_uuid(conversation_id, "conversation_id")
    check_content_size(request.content, config.max_message_bytes)
    check_json_size(request.metadata, "metadata")
    check_json_size(request.tool_calls, "tool_calls")
    check_tool_reference(request)
    generating = request.mode == "chat-completion"
    if generating:
        principal.require(AI_CHAT)
    approvals = request.approvals()
    if approvals and (not generating or request.role != "user"):
        raise InvalidRequest(
            "mcp_approval_response goes on a user message with mode chat-completion: the answer "
            "continues with the approved calls run.",
            code="approval_response_misplaced",
            param="mcp_approval_response",
        )
    servers = requested_servers(request.tools, generator.remote_tools, config, where=None)
    metadata = {
        **(request.metadata or {}),
        **({"tool_call_id": request.tool_call_id} if request.tool_call_id else {}),
    }
    message = Message.new(
        conversation_id, request.role, request.content, tool_calls=request.tool_calls, metadata=metadata
    )
    under_parent = "parent_id" in request.model_fields_set
    if not generating and not under_parent:
        # Written without reading: the message follows whatever is newest on the active branch
        # when it lands, which only the history tells.
        if not store.append(conversation_id, principal.user_id, [message], now=message.created_at):
            raise ConversationNotFound(conversation_id)
        only_child = Branch(index=1, count=1)
        return AppendMessageResponse(
            message=message.model_copy(update={"parent_id": UNKNOWN_PARENT, "branch": only_child}),
            assistant_message=None,
        )
    if under_parent:
        parent = require_uuid(request.parent_id, "parent_id") if request.parent_id is not None else None
        conversation = CONVERSATIONS.require_access(conversation_id, store.get(conversation_id), principal)
        turns = Branching(store, branches, conversation, config).turns_under(parent, reading=generating)
        message.parent_id = parent
    else:
        context = store.completion_context(conversation_id, config.history_max_messages)
        CONVERSATIONS.require_access(conversation_id, context.conversation if context else None, principal)
        assert context is not None
        turns = at_the_end(store, context, principal.user_id, config)
        message.parent_id = turns.history[-1].id if turns.history else None
    if not generating:
        turns.store([message], None)
        return AppendMessageResponse(message=message, assistant_message=None)
    check_tool_call_answered(request, turns.history)
    approval = check_approval(approvals, turns.history) if approvals else None
    if approval is not None:
        message.metadata["mcp_approval_response"] = [a.model_dump(exclude_none=True) for a in approvals]
    turns.history.append(message)
    check_no_call_unanswered(turns.history)
    asking = Asking(
        principal,
        generator,
        config,
        model=request.model,
        tools=offered_tools(request, turns.conversation),
        servers=servers,
        listener=listener,
        assistants=assistants,
        approval=approval,
    )
    answer = complete(turns, [message], asking)
    return AppendMessageResponse(message=message, assistant_message=answer)


def regenerate_answer(
    principal: Principal,
    conversation_id: str,
    message_id: str,
    request: RegenerateRequest,
    *,
    store: ConversationStore,
    branches: BranchStore,
    generator: Generator,
    config: Settings,
    listener: Listener | None = None,
    assistants: Assistants | None = None,
) -> RegenerateResponse:
    """Another answer to the turns an assistant message answered: its sibling, made active (with
    the branch through it). A user or tool message is a 400."""
    principal.require(CONVERSATIONS_WRITE)
    principal.require(AI_CHAT)
    conversation_id = require_uuid(conversation_id, "conversation_id")
    message_id = require_uuid(message_id, "message_id")
    conversation = CONVERSATIONS.require_access(conversation_id, store.get(conversation_id), principal)
    answered = _answer(branches, conversation_id, message_id)
    if answered.role != "assistant":
        raise InvalidRequest(
            f"Message '{message_id}' is a {answered.role} message; only an assistant's answer is "
            "regenerated (to change a question, append a new one with its parent_id).",
            code="not_an_answer",
        )
    turns = Branching(store, branches, conversation, config).turns_under(answered.parent_id)
    tools = Tooling(conversation.tools) if conversation.tools else None
    asking = Asking(
        principal,
        generator,
        config,
        model=request.model,
        tools=tools,
        listener=listener,
        assistants=assistants,
    )
    return RegenerateResponse(assistant_message=complete(turns, [], asking, titled=False))


def _answer(branches: BranchStore, conversation_id: str, message_id: str) -> Message:
    """The message to regenerate, with its parent (404 when the conversation has none of that id)."""

    def read(head: Head) -> Message:
        found = TreeReader(branches, conversation_id, head).node(message_id)
        if found is None:
            raise MessageNotFound(message_id)
        if found.active:
            before = branches.active_before(conversation_id, message_id)
            found.message.parent_id = before
        return found.message

    return steady(branches, conversation_id, read)[0]
