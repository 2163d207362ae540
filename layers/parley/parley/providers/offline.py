"""A provider that answers without a network: deterministic, for local development and tests.
It names itself in `model` and in the reply's metadata, so its answers are never mistaken for a
real model's. Given numbered sources in its system prompt (`[1] ...`), it answers from the ones
that share the most words with the question and cites them, as a RAG model would."""

from __future__ import annotations

import hashlib
import re

from parley.models.domain import TokenUsage
from parley.providers.base import ChatRequest, Completion
from parley.providers.registry import OFFLINE_MODEL
from parley.tokens import estimate_tokens

_PREVIEW_CHARS = 200
_SOURCE = re.compile(r"^\[(\d+)\] (.+)$", re.MULTILINE)
_WORD = re.compile(r"\w{3,}")


class OfflineProvider:
    name = "offline"

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
    """The first sentence of the (up to two) sources sharing most words with the question."""
    asked = {w.lower() for w in _WORD.findall(question)}
    overlap = sorted(
        ((len(asked & {w.lower() for w in _WORD.findall(text)}), int(n), text) for n, text in sources),
        key=lambda entry: (-entry[0], entry[1]),
    )
    best = [entry for entry in overlap if entry[0] > 0][:2] or overlap[:1]
    parts = [f"{text.split('. ')[0].rstrip('.')} [{n}]." for _, n, text in sorted(best, key=lambda e: e[1])]
    return "Offline answer from your documents: " + " ".join(parts)
