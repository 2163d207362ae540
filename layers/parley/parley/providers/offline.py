"""A provider that answers without a network: deterministic, for local development and tests.
It names itself in `model` and in the reply's metadata, so its answers are never mistaken for a
real model's. Given numbered sources in its system prompt (`[1] ...`), it answers from the ones
that share the most words with the question and cites them, as a RAG model would."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from typing import Any

from parley.models.domain import TokenUsage
from parley.providers.base import ChatRequest, Completion, Delta, FinishReason, PromptMessage
from parley.providers.offline_tools import content_words, tool_call
from parley.providers.registry import OFFLINE_MODEL
from parley.tokens import estimate_tokens

_PREVIEW_CHARS = 200
_SOURCE = re.compile(r"^\[(\d+)\] (.+?)(?=^\[\d+\] |\Z)", re.MULTILINE | re.DOTALL)
_TITLE = re.compile(r"^\([^)]*\)\s*")


class OfflineProvider:
    """`delay_seconds`: the pause before each streamed piece (OFFLINE_STREAM_DELAY_MS), so a
    stream can be watched growing."""

    name = "offline"

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds

    def stream(self, request: ChatRequest) -> Iterator[Delta | Completion]:
        completion = self.complete(request)
        for index, call in enumerate(completion.tool_calls or []):
            yield Delta(tool_calls=[{"index": index, **call}])
        for piece in re.findall(r"\S+\s*|\s+", completion.content):
            if self.delay_seconds:
                time.sleep(self.delay_seconds)
            yield Delta(content=piece)
        yield completion

    def complete(self, request: ChatRequest) -> Completion:
        if request.task == "title":  # the first words of the excerpt's first line ("user: ...")
            excerpt = next((m.content for m in request.messages if m.role == "user"), "")
            first = excerpt.split("\n", 1)[0].removeprefix("user: ")
            return self._completion(request, " ".join(first.split()[:6]).rstrip("?.!,;:") or "Conversation")
        if request.task == "summary":
            return self._completion(
                request, _summary(request.messages[-1].content if request.messages else "")
            )
        last = request.messages[-1] if request.messages else None
        if last is not None and last.role == "tool":
            results = [m.content for m in reversed(request.messages) if m.role == "tool"][::-1]
        else:
            results = _results_before_a_note(request.messages)
        if results:
            return self._completion(request, "Offline answer from the tool result: " + " ".join(results))
        if last is not None and last.role == "user" and (made := tool_call(request, last.content)):
            call, cut = made
            return self._completion(request, "", [call], finish="length" if cut else None)
        last_user = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        preview = " ".join(last_user.split())[:_PREVIEW_CHARS]
        digest = hashlib.sha256(last_user.encode()).hexdigest()[:8]
        sources = _SOURCE.findall(request.system_prompt or "")
        if sources:
            content = _cited_answer(last_user, sources)
        else:
            content = (
                f'Offline reply ({digest}): you said "{preview}". This conversation has '
                f"{len(request.messages)} message(s) in context. Configure an OpenAI or Anthropic "
                "key to talk to a real model."
            )
        return self._completion(request, content)

    def _completion(
        self,
        request: ChatRequest,
        content: str,
        tool_calls: list[dict[str, Any]] | None = None,
        finish: FinishReason | None = None,
    ) -> Completion:
        stopped = _before_stop(content, request.stop)
        content = stopped if stopped is not None else content
        finish = finish or ("tool_calls" if tool_calls and stopped is None else "stop")
        prompt_text = (request.system_prompt or "") + "".join(m.content for m in request.messages)
        prompt_tokens = estimate_tokens(prompt_text) + 4 * len(request.messages)
        written = "".join(c["function"]["name"] + c["function"]["arguments"] for c in tool_calls or [])
        completion_tokens = estimate_tokens(content + written)
        return Completion(
            content=content,
            finish_reason=finish,
            tool_calls=tool_calls,
            usage=TokenUsage(
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                total_tokens=prompt_tokens + completion_tokens,
            ),
            model=OFFLINE_MODEL,
            metadata={"provider": self.name},
        )


def _summary(prompt: str) -> str:
    """A running summary without a model: the summary so far, then the first words of each new
    message ("role: words…"), the newest 1,500 characters of that."""
    so_far, _, new = prompt.partition("\n\nNew messages:\n")
    so_far = so_far.removeprefix("Summary so far:\n")
    lines = [" ".join(line.split()[:10]) for line in new.splitlines() if line.strip()]
    kept = [] if so_far.startswith("(none yet") else [so_far]
    return " | ".join([*kept, *lines])[-1_500:]


def _before_stop(content: str, stop: list[str] | None) -> str | None:
    """The content up to the first stop sequence in it, or None when none occurs."""
    ends = [content.index(sequence) for sequence in stop or [] if sequence and sequence in content]
    return content[: min(ends)] if ends else None


def _cited_answer(question: str, sources: list[tuple[str, str]]) -> str:
    """Source [1] (the best-ranked), and the next source sharing the most content words with the
    question, each quoted by its first sentence."""
    asked = content_words(question)
    first, rest = sources[0], sources[1:]
    ranked = sorted(rest, key=lambda source: -len(asked & content_words(source[1])))
    chosen = [first, *(ranked[:1] if ranked and asked & content_words(ranked[0][1]) else [])]
    parts = [
        f"{_first_sentence(text)} [{n}]." for n, text in sorted(chosen, key=lambda source: int(source[0]))
    ]
    return "Offline answer from your documents: " + " ".join(parts)


def _first_sentence(source: str) -> str:
    """The first sentence of a source, without its `(title)` prefix and Markdown headings."""
    text = _TITLE.sub("", source, count=1)
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    body = " ".join(lines) or text
    return body.split(". ")[0].strip().rstrip(".")


def _results_before_a_note(messages: list[PromptMessage]) -> list[str]:
    """The tool results just before the prompt's last message when it is a user's note (sent
    with an approval: parley.logic.approvals), oldest first."""
    if len(messages) < 2 or messages[-1].role != "user":
        return []
    start = len(messages) - 1
    while start > 0 and messages[start - 1].role == "tool":
        start -= 1
    return [message.content for message in messages[start:-1]]
