"""Which provider serves a model. Real providers are imported here, on first use, not before."""

from __future__ import annotations

from parley.errors import ProviderNotConfigured
from parley.providers.base import ChatProvider
from parley.providers.offline import OfflineProvider
from parley.providers.registry import ModelSpec

_SETTING_FOR = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


def provider_for(spec: ModelSpec) -> ChatProvider:
    if spec.provider == "offline":
        return OfflineProvider()
    raise ProviderNotConfigured(
        f"Model '{spec.id}' needs the {spec.provider} provider, which is not configured: "
        f"set {_SETTING_FOR[spec.provider]}."
    )
