"""Which provider serves a model. A real provider's module (and its SDK) is imported on first use,
so functions and requests that never reach it never pay its import time."""

from __future__ import annotations

import functools
import os

from parley.config import settings
from parley.providers.base import ChatProvider
from parley.providers.credentials import RemoteProvider, api_key
from parley.providers.offline import OfflineProvider
from parley.providers.registry import ModelSpec


def provider_for(spec: ModelSpec) -> ChatProvider:
    if spec.provider == "offline":
        return OfflineProvider(settings().offline_stream_delay_ms / 1000)
    if spec.provider == "bedrock":
        return _bedrock()  # credentials: the execution role, as boto3 finds them
    # The key is looked up per request (cached by Powertools), so a rotated key takes effect.
    return _remote(spec.provider, api_key(spec.provider))


@functools.cache
def _remote(provider: RemoteProvider, key: str) -> ChatProvider:
    """One SDK client per provider and key for the life of the warm function."""
    config = settings()
    timeout, retries = config.provider_timeout_seconds, config.provider_max_retries
    if provider == "openai":
        from parley.providers.openai_chat import OpenAIProvider

        return OpenAIProvider.create(key, config.openai_base_url, timeout, retries)
    from parley.providers.anthropic_chat import AnthropicProvider

    return AnthropicProvider.create(key, config.anthropic_base_url, timeout, retries)


@functools.cache
def _bedrock() -> ChatProvider:
    from parley.providers.bedrock_chat import BedrockProvider

    config = settings()
    guardrail = (
        {
            "guardrailIdentifier": config.bedrock_guardrail_id,
            "guardrailVersion": config.bedrock_guardrail_version,
        }
        if config.bedrock_guardrail_id
        else None
    )
    return BedrockProvider.create(
        config.bedrock_region or os.environ.get("AWS_REGION"),
        config.provider_timeout_seconds,
        config.provider_max_retries,
        guardrail,
    )


def forget_clients() -> None:
    """Drop cached SDK clients (tests change the environment between cases)."""
    _remote.cache_clear()
    _bedrock.cache_clear()
