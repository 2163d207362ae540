"""The tool turns of a conversation, checked before a reply is asked for: which tools are
offered, and that every call a model made has its result (providers refuse a dangling one)."""

from __future__ import annotations

from parley.errors import InvalidRequest
from parley.logic.chat import Tooling
from parley.logic.prompt import issued_tool_call_ids
from parley.models.api.conversations import AppendMessageRequest
from parley.models.api.tools import NamedToolChoice, checked_tools, chosen_name, function_tools
from parley.models.approvals import is_approval_request
from parley.models.domain import Conversation, Message


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
    """The request's function tools, else the conversation's; the choice must name one of them
    (MCP servers' tools are Parley's to run: parley.logic.tool_loop)."""
    tools = checked_tools(function_tools(request.tools)) or conversation.tools
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
            # Approval requests are answered by the user's next message (parley.logic.approvals).
            issued = [
                str(call.get("id"))
                for call in messages[position].tool_calls or []
                if not is_approval_request(call)
            ]
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
