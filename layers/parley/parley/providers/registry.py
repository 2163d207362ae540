"""Every model id Parley accepts: the provider that serves it, its context window, the output
budget Parley asks for by default, and its list price per million tokens (USD)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from parley.errors import UnknownModel
from parley.models.domain import TokenUsage

ProviderName = Literal["offline", "openai", "anthropic", "bedrock"]
BEDROCK_PREFIX = "bedrock/"  # then a Bedrock model id or inference profile id


@dataclass(frozen=True)
class ModelSpec:
    id: str
    provider: ProviderName
    context_window: int
    max_output_tokens: int
    input_per_million: float
    output_per_million: float

    def cost_usd(self, usage: TokenUsage) -> float:
        cost = (
            usage.prompt_tokens * self.input_per_million + usage.completion_tokens * self.output_per_million
        )
        return round(cost / 1_000_000, 8)


OFFLINE_MODEL = "parley-offline"

# List prices as published by the providers; update them here when they change.
MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        ModelSpec(OFFLINE_MODEL, "offline", 32_000, 1_024, 0.0, 0.0),
        # The five models of the API documents.
        ModelSpec("claude-sonnet-4-6", "anthropic", 200_000, 8_192, 3.00, 15.00),
        ModelSpec("gpt-4o", "openai", 128_000, 4_096, 2.50, 10.00),
        ModelSpec("gpt-4o-mini", "openai", 128_000, 4_096, 0.15, 0.60),
        ModelSpec("gpt-4-turbo", "openai", 128_000, 4_096, 10.00, 30.00),
        ModelSpec("gpt-3.5-turbo", "openai", 16_385, 4_096, 0.50, 1.50),
        # The chats document's example model.
        ModelSpec("gpt-4", "openai", 8_192, 2_048, 30.00, 60.00),
        # Current models users ask for.
        ModelSpec("gpt-4.1", "openai", 1_047_576, 8_192, 2.00, 8.00),
        ModelSpec("gpt-4.1-mini", "openai", 1_047_576, 8_192, 0.40, 1.60),
        ModelSpec("gpt-5", "openai", 400_000, 8_192, 1.25, 10.00),
        ModelSpec("gpt-5-mini", "openai", 400_000, 8_192, 0.25, 2.00),
        ModelSpec("claude-opus-4-5", "anthropic", 200_000, 8_192, 5.00, 25.00),
        ModelSpec("claude-sonnet-4-5", "anthropic", 200_000, 8_192, 3.00, 15.00),
        ModelSpec("claude-haiku-4-5", "anthropic", 200_000, 8_192, 1.00, 5.00),
        # Amazon Bedrock (Converse): on-demand prices in us-east-1.
        ModelSpec("bedrock/amazon.nova-lite-v1:0", "bedrock", 300_000, 4_096, 0.06, 0.24),
        ModelSpec("bedrock/amazon.nova-pro-v1:0", "bedrock", 300_000, 4_096, 0.80, 3.20),
        ModelSpec("bedrock/us.amazon.nova-lite-v1:0", "bedrock", 300_000, 4_096, 0.06, 0.24),
        ModelSpec("bedrock/us.amazon.nova-pro-v1:0", "bedrock", 300_000, 4_096, 0.80, 3.20),
        # Claude on Bedrock: the model id and its cross-region inference profiles.
        *(
            ModelSpec(
                f"bedrock/{prefix}anthropic.claude-sonnet-4-5-20250929-v1:0",
                "bedrock",
                200_000,
                8_192,
                3.00,
                15.00,
            )
            for prefix in ("", "us.", "eu.", "apac.", "global.")
        ),
        *(
            ModelSpec(
                f"bedrock/{prefix}anthropic.claude-haiku-4-5-20251001-v1:0",
                "bedrock",
                200_000,
                8_192,
                1.00,
                5.00,
            )
            for prefix in ("", "us.", "eu.", "global.")
        ),
    )
}


def model_spec(model_id: str) -> ModelSpec:
    """The spec of `model_id`; an unknown id is the client's mistake (400 `unknown_model`)."""
    try:
        return MODELS[model_id]
    except KeyError:
        raise UnknownModel(model_id, sorted(MODELS)) from None
