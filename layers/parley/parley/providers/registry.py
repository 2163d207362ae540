"""Every model id Parley accepts: the provider that serves it, its context window, the output
budget Parley asks for by default, and its list price per million tokens (USD)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Literal

from parley.config import Settings
from parley.endpoint_config import CompatibleEndpoint
from parley.errors import UnknownModel
from parley.models.domain import TokenUsage

ProviderName = Literal["offline", "openai", "anthropic", "bedrock", "endpoint"]
BEDROCK_PREFIX = "bedrock/"  # then a Bedrock model id or inference profile id


@dataclass(frozen=True)
class ModelSpec:
    id: str
    provider: ProviderName
    context_window: int
    max_output_tokens: int
    input_per_million: float
    output_per_million: float
    # Prompt tokens read from the provider's cache, and written to it, as fractions of the input
    # price (Anthropic: 0.1 and 1.25 for 5-minute caching; OpenAI: cached input at its own rate,
    # writing free; Bedrock: as the model's provider).
    cache_read_factor: float = 1.0
    cache_write_factor: float = 1.0
    # A model of an OpenAI-compatible endpoint: the endpoint's name, the id the endpoint knows it
    # by, and whether the endpoint runs tools and honours a json_schema response_format for it.
    endpoint: str | None = None
    upstream_id: str = ""
    tools: bool = True
    json_schema: bool = True

    def cost_usd(self, usage: TokenUsage, details: dict[str, Any] | None = None) -> float:
        """The list price of a call; `details` (the reply's metadata) may say how many of the
        prompt tokens were read from or written to the cache, which are priced at their rates."""
        cached = int((details or {}).get("cached_tokens") or 0)
        written = int((details or {}).get("cache_write_tokens") or 0)
        full = max(0, usage.prompt_tokens - cached - written)
        cost = (
            full * self.input_per_million
            + cached * self.input_per_million * self.cache_read_factor
            + written * self.input_per_million * self.cache_write_factor
            + usage.completion_tokens * self.output_per_million
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


# Cache prices as the providers publish them: Anthropic (direct or on Bedrock) reads at 10% of
# the input price and writes 5-minute entries at 125%; OpenAI caches automatically and bills
# cached input at 50% (gpt-4o family), 25% (gpt-4.1) or 10% (gpt-5); Nova reads at 25%.
_CACHE_FACTORS = {
    "claude": (0.10, 1.25),
    "gpt-4o": (0.50, 1.0),
    "gpt-4.1": (0.25, 1.0),
    "gpt-5": (0.10, 1.0),
    "nova": (0.25, 1.0),
}
for _id, _spec in MODELS.items():
    for _family, (_read, _write) in _CACHE_FACTORS.items():
        if _family in _id:
            MODELS[_id] = replace(_spec, cache_read_factor=_read, cache_write_factor=_write)
            break


def model_spec(model_id: str, config: Settings) -> ModelSpec:
    """The spec of `model_id`, Parley's own or an endpoint's (`<endpoint>/<id>`); an unknown id is
    the client's mistake (400 `unknown_model`), naming the endpoint's models when it names one."""
    if (found := MODELS.get(model_id)) is not None:
        return found
    served = endpoint_models(config.openai_compatible_endpoints)
    if (found := served.get(model_id)) is not None:
        return found
    name = model_id.split("/", 1)[0]
    if "/" in model_id and any(e.name == name for e in config.openai_compatible_endpoints):
        raise UnknownModel(
            model_id, sorted(i for i in served if i.startswith(f"{name}/")), f"endpoint '{name}'"
        )
    raise UnknownModel(model_id, sorted(known_models(config)))


def known_models(config: Settings) -> dict[str, ModelSpec]:
    """Every model id Parley accepts with these settings: its own, then the endpoints'."""
    return {**MODELS, **endpoint_models(config.openai_compatible_endpoints)}


@lru_cache(maxsize=16)
def endpoint_models(endpoints: tuple[CompatibleEndpoint, ...]) -> dict[str, ModelSpec]:
    return {
        f"{endpoint.name}/{model.id}": ModelSpec(
            f"{endpoint.name}/{model.id}",
            "endpoint",
            model.context_window,
            model.max_output,
            model.input_per_mtok,
            model.output_per_mtok,
            endpoint=endpoint.name,
            upstream_id=model.id,
            tools=model.tools,
            json_schema=model.json_schema,
        )
        for endpoint in endpoints
        for model in endpoint.models
    }
