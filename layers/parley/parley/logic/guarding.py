"""A generation's guardrail checks (GUARDRAIL_ID, any provider): the user's new input before the
model is called, the answer after it, or a streamed answer window by window.

A stream's text is held until its window is checked: each window is
`GUARDRAIL_STREAM_WINDOW_CHARS` characters or more, cut after a space (at the window if twice
its length has none), checked alone, then sent (masked, if the guardrail masked it). A blocked
window is never sent: the stream stops there, and the guardrail's message follows what was sent.
Tool-call fragments pass unheld (they are not text the user reads)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Protocol

from parley.errors import GuardrailBlocked
from parley.providers.base import ChatRequest, Completion, Delta, PromptMessage
from parley.providers.guardrail import Guardrail, Source, Verdict


class Listener(Protocol):
    def context(self, chunks: list[Any]) -> None: ...

    def delta(self, delta: Delta) -> None: ...


class OutputBlocked(Exception):  # a control-flow signal, caught by the generation
    """The guardrail blocked a window of a streamed answer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Screen:
    """The guardrail checks of one request: their text units and cost, and the inputs masked."""

    guardrail: Guardrail
    window: int
    text_units: int = 0
    cost_usd: float = 0.0
    masked: dict[str, str] = field(default_factory=dict)

    def check(self, source: Source, text: str) -> Verdict:
        verdict = self.guardrail.check(source, text)
        self.text_units += verdict.text_units
        self.cost_usd += verdict.cost_usd
        return verdict

    def screened_input(self, request: ChatRequest) -> ChatRequest:
        """The request with its new user turns (those after the last answer) checked: a block is
        a GuardrailBlocked, masked text replaces the original in what the model reads."""
        messages = list(request.messages)
        start = len(messages)
        while start > 0 and messages[start - 1].role != "assistant":
            start -= 1
        for index in range(start, len(messages)):
            message = messages[index]
            if message.role != "user" or not message.content.strip():
                continue
            verdict = self.check("INPUT", message.content)
            if verdict.blocked:
                raise GuardrailBlocked(verdict.text)
            if verdict.masked:
                self.masked[message.content] = verdict.text
                messages[index] = PromptMessage(
                    message.role, verdict.text, message.tool_calls, message.tool_call_id
                )
        return dataclasses.replace(request, messages=messages)

    def screened_output(self, completion: Completion) -> Completion:
        """A whole answer checked: blocked, it becomes the guardrail's message (`content_filter`)."""
        verdict = self.check("OUTPUT", completion.content)
        if verdict.blocked:
            return refusal(completion, verdict.text)
        if verdict.masked:
            return dataclasses.replace(completion, content=verdict.text)
        return completion

    def stored(self, content: str) -> str:
        """A user message as it is kept: masked if the guardrail masked it."""
        return self.masked.get(content, content)


def refusal(completion: Completion, message: str) -> Completion:
    return dataclasses.replace(
        completion,
        content=message,
        finish_reason="content_filter",
        tool_calls=None,
        metadata={**completion.metadata, "guardrail_intervened": True},
    )


class WindowedListener:
    """Passes a streamed answer on window by window, each checked before it is sent."""

    def __init__(self, listener: Listener, screen: Screen) -> None:
        self.listener = listener
        self.screen = screen
        self.pending = ""
        self.sent: list[str] = []
        self.masked = False

    def context(self, chunks: list[Any]) -> None:
        self.listener.context(chunks)

    def delta(self, delta: Delta) -> None:
        if delta.tool_calls:
            self.listener.delta(Delta(tool_calls=delta.tool_calls))
        self.pending += delta.content or ""
        window = self.screen.window
        while len(self.pending) >= window:
            space = self.pending.find(" ", window - 1)
            if space < 0 and len(self.pending) < 2 * window:
                return  # a word still coming: wait for its end
            cut = space + 1 if space >= 0 else window
            self._release(self.pending[:cut])
            self.pending = self.pending[cut:]

    def finish(self) -> None:
        """The last, shorter window, once the answer is whole."""
        if self.pending:
            self._release(self.pending)
            self.pending = ""

    def _release(self, text: str) -> None:
        verdict = self.screen.check("OUTPUT", text)
        if verdict.blocked:
            raise OutputBlocked(verdict.text)
        self.masked = self.masked or verdict.masked
        self.sent.append(verdict.text)
        self.listener.delta(Delta(content=verdict.text))
