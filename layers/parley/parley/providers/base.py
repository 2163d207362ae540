"""The provider-neutral request and result of one chat completion. Tool calls use OpenAI's shape
(`{id, type: "function", function: {name, arguments}}`) everywhere; providers translate."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from parley.models.domain import Role, TokenUsage

FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


@dataclass(frozen=True)
class PromptMessage:
    role: Role
    content: str
    tool_calls: list[Any] | None = None
    tool_call_id: str | None = None  # on a `tool` message: the call it answers


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[PromptMessage]
    system_prompt: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    # OpenAI's function tools (`{type, function: {name, description?, parameters?}}`) and choice
    # ("auto" | "none" | "required" | {"type": "function", "function": {"name"}}); providers translate.
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    top_p: float | None = None
    stop: list[str] | None = None  # the answer ends before the first of these
    # OpenAI's response_format, passed only to OpenAI; for the other providers the OpenAI-compatible
    # route asks for structured output with a forced tool (parley.logic.structured_output).
    response_format: dict[str, Any] | None = None
    # What the answer is for: a reply, or a conversation's title (the offline provider answers
    # each as its own; the real ones only read the prompt).
    task: Literal["reply", "title", "summary"] = "reply"


@dataclass(frozen=True)
class Completion:
    content: str
    finish_reason: FinishReason
    usage: TokenUsage
    model: str
    tool_calls: list[Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delta:
    """A piece of a streamed answer: text, or tool-call fragments in OpenAI's delta shape
    (`{index, id?, type?, function: {name?, arguments}}`)."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class ChatProvider(Protocol):
    name: str

    def complete(self, request: ChatRequest) -> Completion: ...

    def stream(self, request: ChatRequest) -> Iterator[Delta | Completion]:
        """The answer in pieces as the model writes it, then the whole Completion (with the
        usage the provider reports at the end of its stream)."""
        ...
