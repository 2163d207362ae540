"""A provider that answers without a network: deterministic, for local development and tests.
It names itself in `model` and in the reply's metadata, so its answers are never mistaken for a
real model's."""

from __future__ import annotations

import hashlib

from parley.models.domain import TokenUsage
from parley.providers.base import ChatRequest, Completion
from parley.providers.registry import OFFLINE_MODEL
from parley.tokens import estimate_tokens

_PREVIEW_CHARS = 200


class OfflineProvider:
    name = "offline"

    def complete(self, request: ChatRequest) -> Completion:
        last_user = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        preview = " ".join(last_user.split())[:_PREVIEW_CHARS]
        digest = hashlib.sha256(last_user.encode()).hexdigest()[:8]
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
