"""A provider that answers without a network: deterministic, for local development and tests.
It names itself in `model` and in the reply's metadata, so its answers are never mistaken for a
real model's. Given numbered sources in its system prompt (`[1] ...`), it answers from the ones
that share the most words with the question and cites them, as a RAG model would."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator

from parley.models.domain import TokenUsage
from parley.providers.base import ChatRequest, Completion, Delta
from parley.providers.registry import OFFLINE_MODEL
from parley.tokens import estimate_tokens

_PREVIEW_CHARS = 200
_SOURCE = re.compile(r"^\[(\d+)\] (.+?)(?=^\[\d+\] |\Z)", re.MULTILINE | re.DOTALL)
_WORD = re.compile(r"\w{3,}")
_TITLE = re.compile(r"^\([^)]*\)\s*")
_STOPWORDS = frozenset(
    [
        "the",
        "and",
        "are",
        "for",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "how",
        "does",
        "did",
        "has",
        "have",
        "had",
        "not",
        "but",
        "with",
        "from",
        "this",
        "that",
        "these",
        "those",
        "you",
        "your",
        "our",
        "their",
        "its",
        "into",
        "about",
        "there",
        "than",
        "then",
        "them",
        "they",
        "can",
        "will",
        "would",
        "should",
    ]
)


class OfflineProvider:
    """`delay_seconds`: the pause before each streamed piece (OFFLINE_STREAM_DELAY_MS), so a
    stream can be watched growing."""

    name = "offline"

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds

    def stream(self, request: ChatRequest) -> Iterator[Delta | Completion]:
        completion = self.complete(request)
        for piece in re.findall(r"\S+\s*|\s+", completion.content):
            if self.delay_seconds:
                time.sleep(self.delay_seconds)
            yield Delta(content=piece)
        yield completion

    def complete(self, request: ChatRequest) -> Completion:
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
        prompt_text = (request.system_prompt or "") + "".join(m.content for m in request.messages)
        prompt_tokens = estimate_tokens(prompt_text) + 4 * len(request.messages)
        completion_tokens = estimate_tokens(content)
        return Completion(
            content=content,
            finish_reason="stop",
            usage=TokenUsage(
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                total_tokens=prompt_tokens + completion_tokens,
            ),
            model=OFFLINE_MODEL,
            metadata={"provider": self.name},
        )


def _cited_answer(question: str, sources: list[tuple[str, str]]) -> str:
    """Source [1] (the best-ranked), and the next source sharing the most content words with the
    question, each quoted by its first sentence."""
    asked = _content_words(question)
    first, rest = sources[0], sources[1:]
    ranked = sorted(rest, key=lambda source: -len(asked & _content_words(source[1])))
    chosen = [first, *(ranked[:1] if ranked and asked & _content_words(ranked[0][1]) else [])]
    parts = [
        f"{_first_sentence(text)} [{n}]." for n, text in sorted(chosen, key=lambda source: int(source[0]))
    ]
    return "Offline answer from your documents: " + " ".join(parts)


def _content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOPWORDS


def _first_sentence(source: str) -> str:
    """The first sentence of a source, without its `(title)` prefix and Markdown headings."""
    text = _TITLE.sub("", source, count=1)
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    body = " ".join(lines) or text
    return body.split(". ")[0].strip().rstrip(".")
