"""What a Responses request means as the Chat Completions request that answers it, and its input
items as a conversation's new messages (parley.logic.responses)."""

from __future__ import annotations

from typing import Any

from parley.logic.approvals import prompt_turns
from parley.logic.openai_chat import completion_request
from parley.logic.prompt import without_dangling_tool_results
from parley.models.api.openai import ChatCompletionRequest
from parley.models.api.responses import (
    AnyTool,
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    FunctionTool,
    InputItem,
    InputMessageItem,
    McpApprovalResponseItem,
    NamespaceTool,
    ReasoningItem,
    ResponseRequest,
)
from parley.models.api.tools import McpTool
from parley.models.domain import Message
from parley.providers.base import PromptMessage

MAX_DESCRIPTION = 1024  # of a tool's description, what every provider takes

Plain = InputMessageItem | FunctionCallItem | FunctionCallOutputItem


def plain(item: InputItem) -> Plain:
    """An input item as one of the three kinds a conversation holds: a free-form tool's call and
    output (Codex's) as a function call and its output."""
    if isinstance(item, CustomToolCallItem):
        return FunctionCallItem(
            type="function_call", call_id=item.call_id, name=item.name, arguments=item.input
        )
    if isinstance(item, CustomToolCallOutputItem):
        return FunctionCallOutputItem(type="function_call_output", call_id=item.call_id, output=item.output)
    assert not isinstance(item, ReasoningItem | McpApprovalResponseItem)
    return item


def chat_request(
    request: ResponseRequest, history: list[Message], items: list[Plain], summary: str | None = None
) -> ChatCompletionRequest:
    """The Chat Completions request the response means: the instructions (this response's only,
    as OpenAI's) and the running summary of what the turns no longer hold, the turns it
    continues, then its input items."""
    messages: list[dict[str, Any]] = []
    if request.instructions:
        messages.append({"role": "system", "content": request.instructions})
    if summary:
        messages.append({"role": "system", "content": summary})
    messages += [
        _chat_message(turn)
        for turn in without_dangling_tool_results(prompt_turns(history))
        if turn.role != "user" or turn.content  # an approval's own message says nothing
    ]
    for item in items:
        messages.append(_item_message(item))
    body: dict[str, Any] = {"model": request.model, "messages": _merged_calls(messages)}
    if offered := _offered(request.tools or []):
        body["tools"] = offered
    if request.tool_choice is not None:
        choice = request.tool_choice
        body["tool_choice"] = (
            choice if isinstance(choice, str) else {"type": "function", "function": {"name": choice.name}}
        )
    if request.text and request.text.format and request.text.format.type != "text":
        wanted = request.text.format
        body["response_format"] = (
            {"type": "json_object"}
            if wanted.type == "json_object"
            else {
                "type": "json_schema",
                "json_schema": {
                    "name": wanted.name or "response",
                    "schema": wanted.schema_ or {"type": "object"},
                    **({"description": wanted.description} if wanted.description else {}),
                    **({"strict": wanted.strict} if wanted.strict is not None else {}),
                },
            }
        )
    for name, value in (
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("max_completion_tokens", request.max_output_tokens),
        ("parallel_tool_calls", request.parallel_tool_calls),
        ("stream", True if request.stream else None),
    ):
        if value is not None:
            body[name] = value
    return completion_request(body)


def _offered(tools: list[AnyTool]) -> list[dict[str, Any]]:
    """The tools as Chat Completions takes them: function tools (a namespace's too) and MCP
    servers; hosted tools, which Parley does not run, left out."""
    offered: list[dict[str, Any]] = []
    for tool in tools:
        functions = (
            [tool]
            if isinstance(tool, FunctionTool)
            else tool.tools
            if isinstance(tool, NamespaceTool)
            else []
        )
        for function in functions:
            dumped = function.model_dump(exclude={"type", "strict"}, exclude_none=True)
            if function.description:
                dumped["description"] = function.description[:MAX_DESCRIPTION]
            offered.append({"type": "function", "function": dumped})
        if isinstance(tool, McpTool):
            offered.append(tool.model_dump(exclude_none=True))
    return offered


def _chat_message(turn: PromptMessage) -> dict[str, Any]:
    """A turn of the conversation (as parley.logic.approvals replays it) as a Chat Completions message."""
    chat: dict[str, Any] = {"role": turn.role, "content": turn.content}
    if turn.role == "assistant" and turn.tool_calls:
        chat["tool_calls"] = turn.tool_calls
        chat["content"] = turn.content or None
    if turn.role == "tool":
        chat["tool_call_id"] = turn.tool_call_id
    return chat


def _item_message(item: Plain) -> dict[str, Any]:
    if isinstance(item, FunctionCallOutputItem):
        return {"role": "tool", "tool_call_id": item.call_id, "content": item.output}
    if isinstance(item, FunctionCallItem):
        return {"role": "assistant", "content": None, "tool_calls": [_call(item)]}
    return {"role": item.role, "content": item.text()}


def _merged_calls(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive function calls (one assistant turn's parallel calls, sent as items) as one
    assistant message, as Chat Completions has them."""
    merged: list[dict[str, Any]] = []
    for message in messages:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and message["role"] == "assistant"
            and message.get("tool_calls")
            and previous["role"] == "assistant"
            and previous.get("tool_calls")
            and not message.get("content")
        ):
            previous["tool_calls"] = [*previous["tool_calls"], *message["tool_calls"]]
            continue
        merged.append(dict(message))
    return merged


def new_message(conversation_id: str, item: Plain) -> Message:
    """An input item as the conversation's new message."""
    if isinstance(item, FunctionCallOutputItem):
        return Message.new(conversation_id, "tool", item.output, metadata={"tool_call_id": item.call_id})
    if isinstance(item, FunctionCallItem):
        return Message.new(conversation_id, "assistant", "", tool_calls=[_call(item)])
    role = "system" if item.role == "developer" else item.role
    return Message.new(conversation_id, role, item.text())


def _call(item: FunctionCallItem) -> dict[str, Any]:
    return {
        "id": item.call_id,
        "type": "function",
        "function": {"name": item.name, "arguments": item.arguments},
    }
