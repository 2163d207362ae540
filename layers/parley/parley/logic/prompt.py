"""Which part of a conversation's history goes to the model: the newest messages that fit its
context window after the system prompt and the reply's budget, counted conservatively."""

from __future__ import annotations

import json
from typing import Any, Protocol, TypeVar

from parley.errors import InvalidRequest
from parley.models.approvals import is_approval_request
from parley.providers.base import PromptMessage
from parley.providers.registry import ModelSpec
from parley.tokens import estimate_tokens

MESSAGE_OVERHEAD_TOKENS = 8  # role markers and separators each provider adds per message


class Turn(Protocol):
    """A stored message or one sent in a request: whatever has a role, content and tool calls."""

    @property
    def role(self) -> str: ...
    @property
    def content(self) -> str: ...
    @property
    def tool_calls(self) -> list[Any] | None: ...


T = TypeVar("T", bound=Turn)


def message_tokens(message: Turn) -> int:
    calls = json.dumps(message.tool_calls) if message.tool_calls else ""
    return estimate_tokens(message.content) + estimate_tokens(calls) + MESSAGE_OVERHEAD_TOKENS


def fit_history(spec: ModelSpec, system_prompt: str | None, history: list[T], max_output: int) -> list[T]:
    """The newest suffix of `history` (chronological) that fits; never one the provider would
    reject for length. The newest message must fit, or the request is refused (400)."""
    budget = spec.context_window - max_output - estimate_tokens(system_prompt or "") - MESSAGE_OVERHEAD_TOKENS
    kept: list[T] = []
    for message in reversed(history):
        cost = message_tokens(message)
        if cost > budget:
            break
        budget -= cost
        kept.append(message)
    if history and not kept:
        raise InvalidRequest(
            f"The message needs about {message_tokens(history[-1])} tokens, more than {spec.id}'s context "
            f"window of {spec.context_window} leaves after the system prompt and a {max_output}-token reply.",
            code="context_too_long",
        )
    kept.reverse()
    # A tool result whose calling assistant turn was trimmed away is rejected by both providers.
    while len(kept) > 1 and kept[0].role == "tool":
        kept.pop(0)
    return kept


def issued_tool_call_ids(messages: list[T]) -> set[str]:
    """The ids of the tool calls the assistant messages among `messages` made."""
    return {
        str(call.get("id"))
        for message in messages
        if message.role == "assistant"
        for call in message.tool_calls or []
        if isinstance(call, dict) and not is_approval_request(call)
    }


def without_dangling_tool_results(messages: list[PromptMessage]) -> list[PromptMessage]:
    """The prompt without tool results that answer no call of an earlier assistant turn (appended
    without an id, or naming one that was never issued): providers refuse those outright."""
    issued: set[str] = set()
    kept = []
    for message in messages:
        issued |= issued_tool_call_ids([message])
        if message.role == "tool" and (message.tool_call_id is None or message.tool_call_id not in issued):
            continue
        kept.append(message)
    return kept
