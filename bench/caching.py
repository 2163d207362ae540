"""Prompt caching: a 20-turn conversation with a 3 KB system prompt sent to Claude through
Parley's Anthropic adapter, against the provider server's simulation of Anthropic's cache (a
prefix of 1,024 tokens or more, ending at a block boundary, is read back if an earlier request
wrote it). Prompt tokens billed at full price with caching against without, and the cost."""

from __future__ import annotations

from bench.report import Report
from parley.models.domain import TokenUsage
from parley.providers.anthropic_chat import AnthropicProvider
from parley.providers.base import ChatRequest, PromptMessage
from parley.providers.registry import MODELS
from tests.doubles.fake_providers import ANTHROPIC_KEY, ProviderServer

TURNS = 20
MODEL = "claude-sonnet-4-6"
SYSTEM_PROMPT = ("Answer as the support assistant of Parley Outfitters; cite the policy you use. " * 40)[
    :3072
]


def run(report: Report, providers: ProviderServer) -> None:
    provider = AnthropicProvider.create(ANTHROPIC_KEY, providers.anthropic_url, 10, 0)
    spec = MODELS[MODEL]
    history: list[PromptMessage] = []
    full_price = cached = written = prompt = 0
    cost = cost_without = 0.0
    for turn in range(TURNS):
        history.append(
            PromptMessage("user", f"Question {turn}: where is order {1000 + turn}, and when will it ship?")
        )
        completion = provider.complete(ChatRequest(MODEL, list(history), SYSTEM_PROMPT, max_tokens=256))
        history.append(PromptMessage("assistant", completion.content))
        read = int(completion.metadata.get("cached_tokens", 0))
        wrote = int(completion.metadata.get("cache_write_tokens", 0))
        prompt += completion.usage.prompt_tokens
        cached, written = cached + read, written + wrote
        full_price += completion.usage.prompt_tokens - read - wrote
        cost += spec.cost_usd(completion.usage, completion.metadata)
        cost_without += spec.cost_usd(TokenUsage.model_validate(completion.usage.model_dump()))
    shared = {"turns": TURNS, "system_prompt_bytes": len(SYSTEM_PROMPT), "model": MODEL}
    report.figure("caching.prompt_tokens_full_price.without", prompt, "tokens", **shared)
    report.figure(
        "caching.prompt_tokens_full_price.with",
        full_price,
        "tokens",
        cache_read=cached,
        cache_write=written,
        **shared,
    )
    report.figure("caching.cost_usd.without", cost_without, "USD", **shared)
    report.figure("caching.cost_usd.with", cost, "USD", **shared)
