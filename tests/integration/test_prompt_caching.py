"""Prompt caching through the local gateway: Anthropic gets cache_control breakpoints and, from the
second turn of a long conversation, reports reading its prefix from the cache; OpenAI's automatic
caching and reasoning tokens are read from its usage details. Cached tokens are kept in the
reply's metadata, priced at the cache rates and shown in the usage report."""

from __future__ import annotations

import uuid

import httpx
import pytest

from parley.config import Settings
from parley.models.domain import TokenUsage
from parley.providers.registry import model_spec
from tests.conftest import TokenFactory
from tests.doubles.fake_providers import ANTHROPIC_PATH, OPENAI_PATH, ProviderServer, Scripted

pytestmark = pytest.mark.integration

LONG_SYSTEM_PROMPT = "You are the support assistant of a large retailer. " * 120  # about 6 KB


def test_a_long_conversation_reads_its_prefix_from_anthropics_cache(
    api: httpx.Client, auth: TokenFactory, providers: ProviderServer
) -> None:
    brand = f"cache-{uuid.uuid4().hex[:8]}"
    alice = auth("alice", brands=[brand])
    created = api.post(
        "/v1/conversations",
        json={"model": "claude-sonnet-4-6", "brand_id": brand, "system_prompt": LONG_SYSTEM_PROMPT},
        headers=alice,
    )
    url = f"/v1/conversations/{created.json()['conversation']['id']}/messages"

    first, second = (
        api.post(url, json={"role": "user", "content": text, "mode": "chat-completion"}, headers=alice).json()
        for text in ("Where is my parcel?", "And my refund?")
    )

    sent = providers.requests_to(ANTHROPIC_PATH)[0].body
    assert sent["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert sent["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    written = first["assistant_message"]["metadata"]
    assert written["cache_write_tokens"] > 1024 and "cached_tokens" not in written
    read = second["assistant_message"]["metadata"]
    assert read["cached_tokens"] >= written["cache_write_tokens"]
    usage = TokenUsage.model_validate(second["assistant_message"]["token_usage"])
    spec = model_spec("claude-sonnet-4-6", Settings())
    assert read["cost_usd"] < spec.cost_usd(usage)  # cheaper than the same prompt at full price
    assert read["cost_usd"] == spec.cost_usd(usage, read)

    report = api.get("/v1/usage", params={"brand_id": brand}, headers=alice).json()
    (model,) = report["days"][0]["models"]
    assert model["cached_tokens"] == read["cached_tokens"]
    assert model["cache_write_tokens"] == written["cache_write_tokens"] + read.get("cache_write_tokens", 0)


def test_openais_cached_and_reasoning_tokens_are_kept_and_priced(
    api: httpx.Client, auth: TokenFactory, providers: ProviderServer
) -> None:
    alice = auth("alice")
    created = api.post("/v1/conversations", json={"model": "gpt-4o"}, headers=alice)
    url = f"/v1/conversations/{created.json()['conversation']['id']}/messages"
    usage = {
        "prompt_tokens": 2000,
        "completion_tokens": 100,
        "total_tokens": 2100,
        "prompt_tokens_details": {"cached_tokens": 1536, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 40, "audio_tokens": 0},
    }
    providers.script(OPENAI_PATH, Scripted(reply={"usage": usage}))

    reply = api.post(
        url, json={"role": "user", "content": "hi", "mode": "chat-completion"}, headers=alice
    ).json()

    metadata = reply["assistant_message"]["metadata"]
    assert metadata["cached_tokens"] == 1536 and metadata["reasoning_tokens"] == 40
    assert reply["assistant_message"]["token_usage"]["prompt_tokens"] == 2000
    assert metadata["cost_usd"] == pytest.approx((464 * 2.50 + 1536 * 1.25 + 100 * 10.00) / 1e6)
