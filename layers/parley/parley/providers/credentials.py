"""API keys of the real providers and the OpenAI-compatible endpoints: from the environment
locally, or from Secrets Manager / SSM Parameter Store in AWS (Powertools parameters, cached for a
few minutes per warm function)."""

from __future__ import annotations

import json
from typing import Literal

from parley.config import Settings
from parley.endpoint_config import CompatibleEndpoint
from parley.errors import ProviderNotConfigured

RemoteProvider = Literal["openai", "anthropic"]
_CACHE_SECONDS = 300

DEFAULT_MODELS: dict[RemoteProvider, str] = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-6"}


def setting_names(provider: RemoteProvider) -> str:
    prefix = provider.upper()
    return f"{prefix}_API_KEY (or {prefix}_API_KEY_SECRET / {prefix}_API_KEY_PARAMETER)"


def is_configured(config: Settings, provider: RemoteProvider) -> bool:
    return any(getattr(config, f"{provider}_api_key{suffix}") for suffix in ("", "_secret", "_parameter"))


def api_key(config: Settings, provider: RemoteProvider) -> str:
    """The provider's key; a 503 naming the missing setting when there is none."""
    direct = getattr(config, f"{provider}_api_key")
    if direct is not None:
        return str(direct.get_secret_value())
    secret_name, parameter_name = (
        getattr(config, f"{provider}_api_key_{kind}") for kind in ("secret", "parameter")
    )
    if secret_name or parameter_name:
        from aws_lambda_powertools.utilities import parameters  # only functions that generate pay for it

        if secret_name:
            return _unwrap(str(parameters.get_secret(secret_name, max_age=_CACHE_SECONDS)))
        return str(parameters.get_parameter(parameter_name, decrypt=True, max_age=_CACHE_SECONDS))
    raise ProviderNotConfigured(f"The {provider} provider is not configured: set {setting_names(provider)}.")


NO_KEY = "none"  # sent to an endpoint that takes no key (a local server): the SDK needs one


def endpoint_key(endpoint: CompatibleEndpoint) -> str:
    """An endpoint's key: its `api_key`, or the secret or SecureString its ARN names."""
    if endpoint.api_key is not None:
        return endpoint.api_key.get_secret_value()
    arn = endpoint.api_key_secret_arn
    if not arn:
        return NO_KEY
    from aws_lambda_powertools.utilities import parameters

    if ":secretsmanager:" in arn:
        return _unwrap(str(parameters.get_secret(arn, max_age=_CACHE_SECONDS)))
    name = "/" + arn.split(":parameter/", 1)[1]  # GetParameter takes the name (or the ARN, cross-account)
    return str(parameters.get_parameter(name, decrypt=True, max_age=_CACHE_SECONDS))


def default_model(config: Settings) -> str:
    """DEFAULT_MODEL if set; otherwise the first configured provider's model; otherwise the first
    model of the first OpenAI-compatible endpoint (`make dev`'s local model); otherwise the
    offline model, so a first chat-completion works with no account anywhere."""
    if configured := config.default_model:
        return configured
    for provider, model in DEFAULT_MODELS.items():
        if is_configured(config, provider):
            return model
    for endpoint in config.openai_compatible_endpoints:
        return f"{endpoint.name}/{endpoint.models[0].id}"
    return "parley-offline"


def _unwrap(secret: str) -> str:
    """A secret may hold the bare key or JSON such as {"api_key": "..."}."""
    if secret.lstrip().startswith("{"):
        value = json.loads(secret).get("api_key")
        if isinstance(value, str) and value:
            return value
    return secret.strip()
