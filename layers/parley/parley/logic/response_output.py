"""The Responses API's shapes of an answer (parley.logic.responses): the response object as it
starts, its output items and usage, the assistant message a stored one is, and its input items as
`input_items` lists them."""

from __future__ import annotations

import json
import uuid
from typing import Any

from parley.ids import created_at
from parley.logic.response_input import Plain
from parley.models.api.openai import ChatCompletion
from parley.models.api.responses import (
    AnyTool,
    FunctionCallItem,
    FunctionCallOutputItem,
    Response,
    ResponseRequest,
    ResponseUsage,
)
from parley.models.api.tools import McpTool
from parley.models.approvals import ROUND, ApprovalRound
from parley.models.domain import Message, TokenUsage, timestamp


def skeleton(request: ResponseRequest, response_id: str, created: int) -> Response:
    text_format = request.text.format if request.text and request.text.format else None
    return Response(
        id=response_id,
        created_at=created,
        status="in_progress",
        instructions=request.instructions,
        max_output_tokens=request.max_output_tokens,
        model=request.model,
        output=[],
        parallel_tool_calls=request.parallel_tool_calls is not False,
        previous_response_id=request.previous_response_id,
        store=request.store,
        background=request.background is True,
        temperature=request.temperature,
        text={"format": text_format.model_dump(by_alias=True, exclude_none=True)}
        if text_format
        else {"format": {"type": "text"}},
        tool_choice=request.tool_choice.model_dump()
        if request.tool_choice is not None and not isinstance(request.tool_choice, str)
        else request.tool_choice or "auto",
        tools=[_shown_tool(tool) for tool in request.tools or []],
        top_p=request.top_p,
        metadata=request.metadata or {},
    )


def _shown_tool(tool: AnyTool) -> dict[str, Any]:
    """A tool as the response echoes it: an MCP server's credentials never."""
    if isinstance(tool, McpTool):
        return tool.model_dump(exclude={"headers", "authorization"}, exclude_none=True)
    return tool.model_dump(exclude_none=True)


def output_items(answer: ChatCompletion, suffix: str) -> list[dict[str, Any]]:
    """The answer as output items: its text a `message`, each tool call a `function_call`."""
    message = answer.choices[0].message
    output: list[dict[str, Any]] = []
    if message.content:
        output.append(
            {
                "type": "message",
                "id": f"msg_{suffix}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": message.content, "annotations": []}],
            }
        )
    for run in message.tool_runs or []:  # the MCP calls Parley made, as OpenAI's mcp_call items
        output.append(_mcp_call(run))
    output += _requests(message.approval_round) or []
    for position, call in enumerate(message.tool_calls or []):
        output.append(
            {
                "type": "function_call",
                "id": f"fc_{suffix}_{position}",
                "call_id": call.id,
                "name": call.function.name,
                "arguments": call.function.arguments,
                "status": "completed",
            }
        )
    return output


def _requests(stopped: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """A stopped answer's calls, as a conversation's stopped answer lists them: its requests."""
    found = ApprovalRound.of({ROUND: stopped}) if stopped else None
    return found.requests() if found is not None else None


def _mcp_call(run: dict[str, Any]) -> dict[str, Any]:
    arguments = run.get("arguments")
    return {
        "type": "mcp_call",
        "id": f"mcp_{run['id']}",
        "server_label": run["server_label"],
        "name": run["name"],
        "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments or {}),
        "output": run.get("output"),
        "error": run.get("error"),
        "status": "failed" if run.get("error") else "completed",
    }


def usage_of(answer: ChatCompletion) -> ResponseUsage:
    usage = answer.usage
    return ResponseUsage.model_validate(
        {
            "input_tokens": usage.prompt_tokens,
            "input_tokens_details": {
                "cached_tokens": usage.prompt_tokens_details.cached_tokens
                if usage.prompt_tokens_details
                else 0
            },
            "output_tokens": usage.completion_tokens,
            "output_tokens_details": {
                "reasoning_tokens": usage.completion_tokens_details.reasoning_tokens
                if usage.completion_tokens_details
                else 0
            },
            "total_tokens": usage.total_tokens,
        }
    )


def assistant_message(
    conversation_id: str, answer: ChatCompletion, identifier: str, created: int, response_id: str
) -> Message:
    choice = answer.choices[0]
    usage = answer.usage
    return Message(
        id=identifier,
        conversation_id=conversation_id,
        role="assistant",
        content=choice.message.content or "",
        tool_calls=[call.model_dump() for call in choice.message.tool_calls]
        if choice.message.tool_calls
        else _requests(choice.message.approval_round),
        token_usage=TokenUsage(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
        ),
        metadata={
            "model": answer.model,
            "finish_reason": choice.finish_reason,
            "response_id": response_id,
            **({"tool_runs": choice.message.tool_runs} if choice.message.tool_runs else {}),
            **({ROUND: choice.message.approval_round} if choice.message.approval_round else {}),
        },
        created_at=timestamp(created_at(as_uuid(identifier))),
    )


def listed_item(item: Plain, suffix: str) -> dict[str, Any]:
    """An input item as GET .../input_items lists it, in OpenAI's item shape."""
    if isinstance(item, FunctionCallOutputItem):
        return {
            "type": "function_call_output",
            "id": f"fco_{suffix}",
            "call_id": item.call_id,
            "output": item.output,
            "status": "completed",
        }
    if isinstance(item, FunctionCallItem):
        return {
            "type": "function_call",
            "id": f"fc_{suffix}",
            "call_id": item.call_id,
            "name": item.name,
            "arguments": item.arguments,
            "status": "completed",
        }
    kind = "output_text" if item.role == "assistant" else "input_text"
    return {
        "type": "message",
        "id": f"msg_{suffix}",
        "role": item.role,
        "status": "completed",
        "content": [{"type": kind, "text": item.text()}],
    }


def as_uuid(identifier: str) -> uuid.UUID:
    return uuid.UUID(identifier)
