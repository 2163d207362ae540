"""Provider logic that needs no network: prompt fitting, turn conversion, keys, default model."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from parley.config import Settings, settings_from
from parley.errors import InvalidRequest, ProviderNotConfigured
from parley.logic.prompt import fit_history
from parley.models.domain import Message, TokenUsage, timestamp
from parley.providers.anthropic_chat import to_anthropic_turns
from parley.providers.base import ChatRequest, PromptMessage
from parley.providers.credentials import api_key, default_model
from parley.providers.openai_chat import to_openai_messages
from parley.providers.registry import MODELS, ModelSpec, model_spec

TINY = ModelSpec(
    "tiny", "openai", context_window=200, max_output_tokens=50, input_per_million=1, output_per_million=2
)


def message(content: str, role: str = "user") -> Message:
    return Message.model_validate(
        {
            "id": "0192f5c8-0000-7000-8000-000000000000",
            "conversation_id": "c",
            "role": role,
            "content": content,
            "tool_calls": None,
            "token_usage": None,
            "metadata": {},
            "created_at": timestamp(),
        }
    )


def test_fit_history_keeps_the_newest_messages_within_the_window() -> None:
    history = [message(f"{n}" + "x" * 90) for n in range(6)]  # ~39 tokens each with overhead

    kept = fit_history(TINY, "sys", history, max_output=50)

    assert [m.content[0] for m in kept] == ["3", "4", "5"]


def test_fit_history_drops_a_leading_tool_result_whose_call_was_trimmed() -> None:
    history = [message("x" * 500), message("result", role="tool"), message("next")]

    kept = fit_history(TINY, None, history, max_output=50)

    assert [m.content for m in kept] == ["next"]


def test_fit_history_refuses_a_message_that_can_never_fit() -> None:
    with pytest.raises(InvalidRequest) as refusal:
        fit_history(TINY, None, [message("x" * 1000)], max_output=50)

    assert refusal.value.code == "context_too_long"


def test_every_model_has_a_provider_window_and_price() -> None:
    for spec in MODELS.values():
        assert spec.context_window > spec.max_output_tokens > 0
    for seed_model in ("claude-sonnet-4-6", "gpt-4o", "gpt-4o-mini", "gpt-4-turbo", "gpt-3.5-turbo"):
        assert model_spec(seed_model, Settings()).input_per_million > 0


def test_cost_is_tokens_times_price() -> None:
    usage = TokenUsage(prompt_tokens=1_000_000, completion_tokens=500_000, total_tokens=1_500_000)

    assert model_spec("gpt-4o", Settings()).cost_usd(usage) == 2.50 + 5.00


def test_openai_messages_put_the_system_prompt_first_and_keep_history_system_messages() -> None:
    request = ChatRequest(
        "gpt-4o", [PromptMessage("user", "a"), PromptMessage("system", "b")], system_prompt="s"
    )

    assert to_openai_messages(request) == [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "a"},
        {"role": "system", "content": "b"},
    ]


def test_anthropic_turns_alternate_and_start_with_the_user() -> None:
    request = ChatRequest(
        "claude-sonnet-4-6",
        [
            PromptMessage("assistant", "dropped"),
            PromptMessage("user", "a"),
            PromptMessage("user", "b"),
            PromptMessage("assistant", "c"),
            PromptMessage("assistant", "d"),
            PromptMessage("user", ""),
        ],
    )

    system, turns = to_anthropic_turns(request)

    assert system == ""
    assert turns == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "c"}, {"type": "text", "text": "d"}]},
    ]


def test_api_keys_come_from_secrets_manager_or_ssm(dynamodb: Any) -> None:
    boto3.client("secretsmanager").create_secret(
        Name="parley/openai", SecretString='{"api_key": "sk-from-secret"}'
    )
    boto3.client("ssm").put_parameter(Name="/parley/anthropic", Value="sk-ant-from-ssm", Type="SecureString")
    config = Settings(openai_api_key_secret="parley/openai", anthropic_api_key_parameter="/parley/anthropic")

    assert api_key(config, "openai") == "sk-from-secret"
    assert api_key(config, "anthropic") == "sk-ant-from-ssm"


def test_a_missing_key_names_the_settings() -> None:
    with pytest.raises(ProviderNotConfigured, match="OPENAI_API_KEY"):
        api_key(Settings(), "openai")


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, "parley-offline"),
        ({"ANTHROPIC_API_KEY": "k"}, "claude-sonnet-4-6"),
        ({"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k"}, "gpt-4o-mini"),
        ({"OPENAI_API_KEY": "k", "DEFAULT_MODEL": "gpt-4.1"}, "gpt-4.1"),
    ],
)
def test_the_default_model_follows_the_configured_providers(variables: dict[str, str], expected: str) -> None:
    assert default_model(settings_from(variables)) == expected
