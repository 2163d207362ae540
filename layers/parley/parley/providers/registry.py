"""Every model id Parley accepts, with the provider that serves it and its limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from parley.errors import UnknownModel

ProviderName = Literal["offline", "openai", "anthropic"]


@dataclass(frozen=True)
class ModelSpec:
    id: str
    provider: ProviderName
    context_window: int
    max_output_tokens: int


OFFLINE_MODEL = "parley-offline"

MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        ModelSpec(OFFLINE_MODEL, "offline", 32_000, 1_024),
        ModelSpec("claude-sonnet-4-6", "anthropic", 200_000, 8_192),
        ModelSpec("gpt-4o", "openai", 128_000, 4_096),
        ModelSpec("gpt-4o-mini", "openai", 128_000, 4_096),
        ModelSpec("gpt-4-turbo", "openai", 128_000, 4_096),
        ModelSpec("gpt-3.5-turbo", "openai", 16_385, 4_096),
    )
}


def model_spec(model_id: str) -> ModelSpec:
    """The spec of `model_id`; an unknown id is the client's mistake (400 `unknown_model`)."""
    try:
        return MODELS[model_id]
    except KeyError:
        raise UnknownModel(model_id, sorted(MODELS)) from None
