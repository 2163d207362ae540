"""Which provider serves a model. A real provider's module (and its SDK) is imported on first use,
so functions and requests that never reach it never pay its import time."""

from __future__ import annotations

import os
from collections.abc import Callable

from parley.config import Settings
from parley.providers.base import ChatProvider
from parley.providers.credentials import RemoteProvider, api_key, endpoint_key
from parley.providers.offline import OfflineProvider
from parley.providers.registry import ModelSpec


class ProviderPool:
    """The providers of one container: one SDK client per provider and key, made on first use and
    kept for the life of the warm function."""

    def __init__(self, config: Settings) -> None:
        self.config = config
        self._clients: dict[tuple[str, str], ChatProvider] = {}

    def provider_for(self, spec: ModelSpec) -> ChatProvider:
        if spec.provider == "offline":
            return OfflineProvider(self.config.offline_stream_delay_ms / 1000)
        if spec.provider == "bedrock":
            return self._client("bedrock", "", self._bedrock)  # credentials: the execution role
        if spec.endpoint is not None:
            return self._endpoint(spec.endpoint)
        # The key is looked up per request (cached by Powertools), so a rotated key takes effect.
        provider: RemoteProvider = "openai" if spec.provider == "openai" else "anthropic"
        key = api_key(self.config, provider)
        return self._client(provider, key, lambda: self._remote(provider, key))

    def _client(self, provider: str, key: str, make: Callable[[], ChatProvider]) -> ChatProvider:
        found = self._clients.get((provider, key))
        if found is None:
            found = self._clients[(provider, key)] = make()
        return found

    def _endpoint(self, name: str) -> ChatProvider:
        endpoint = next(e for e in self.config.openai_compatible_endpoints if e.name == name)
        key = endpoint_key(endpoint)

        def make() -> ChatProvider:
            from parley.providers.openai_chat import OpenAIProvider

            config = self.config
            timeout, retries = config.provider_timeout_seconds, config.provider_max_retries
            return OpenAIProvider.for_endpoint(endpoint, key, timeout, retries)

        return self._client(f"endpoint:{name}", key, make)

    def _remote(self, provider: RemoteProvider, key: str) -> ChatProvider:
        config = self.config
        timeout, retries = config.provider_timeout_seconds, config.provider_max_retries
        if provider == "openai":
            from parley.providers.openai_chat import OpenAIProvider

            return OpenAIProvider.create(key, config.openai_base_url, timeout, retries)
        from parley.providers.anthropic_chat import AnthropicProvider

        return AnthropicProvider.create(key, config.anthropic_base_url, timeout, retries)

    def _bedrock(self) -> ChatProvider:
        from parley.providers.bedrock_chat import BedrockProvider

        config = self.config
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
