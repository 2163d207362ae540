"""What Anthropic's Messages API and Bedrock's Converse both require of a conversation: the system
prompt apart, turns alternating from the user's (tool results travel in user turns), and tool
calls as blocks with their arguments parsed. Each provider names its own blocks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from parley.providers.base import ChatRequest, PromptMessage


def alternating_turns(
    request: ChatRequest, blocks_of: Callable[[PromptMessage], list[dict[str, Any]]]
) -> tuple[str, list[dict[str, Any]]]:
    """(system, turns): `system` messages of the history join the system prompt; consecutive
    messages of one role are merged into one turn; leading assistant turns are dropped."""
    system_parts = [request.system_prompt] if request.system_prompt else []
    turns: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            system_parts.append(message.content)
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = blocks_of(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    while turns and turns[0]["role"] != "user":
        turns.pop(0)
    return "\n\n".join(system_parts), turns


def tool_calls_of(message: PromptMessage) -> list[tuple[str, str, Any]]:
    """An assistant message's tool calls as (id, name, parsed arguments)."""
    if message.role != "assistant":
        return []
    calls = []
    for call in message.tool_calls or []:
        function = call.get("function", {})
        arguments = function.get("arguments") or "{}"
        parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
        calls.append((call.get("id", ""), function.get("name", ""), parsed))
    return calls
