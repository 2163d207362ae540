"""`OPENAI_COMPATIBLE_ENDPOINTS`: what the setting accepts and refuses, the model ids it adds,
and where an endpoint's key comes from."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from parley.config import ConfigurationError, settings_from
from parley.errors import UnknownModel
from parley.providers.credentials import NO_KEY, endpoint_key
from parley.providers.registry import known_models, model_spec

MODEL = {"id": "llama-3.1-8b", "context_window": 8192, "max_output": 1024, "input_per_mtok": 0.1}


def endpoints(*entries: dict[str, Any]) -> dict[str, str]:
    return {"OPENAI_COMPATIBLE_ENDPOINTS": json.dumps(list(entries))}


def endpoint(**fields: Any) -> dict[str, Any]:
    return {"name": "vllm", "base_url": "http://10.0.0.5:8000/v1", "models": [MODEL], **fields}


def test_an_endpoints_models_join_parleys_own_under_its_name() -> None:
    config = settings_from(endpoints(endpoint(), endpoint(name="gw", models=[{**MODEL, "id": "a/b"}])))

    spec = model_spec("vllm/llama-3.1-8b", config)

    assert (spec.provider, spec.endpoint, spec.upstream_id) == ("endpoint", "vllm", "llama-3.1-8b")
    assert (spec.context_window, spec.max_output_tokens, spec.input_per_million) == (8192, 1024, 0.1)
    assert (spec.tools, spec.json_schema) == (False, False)  # unless the endpoint says so
    assert model_spec("gw/a/b", config).upstream_id == "a/b"  # gateways name models with slashes
    assert {"gpt-4o", "parley-offline", "vllm/llama-3.1-8b", "gw/a/b"} <= set(known_models(config))


def test_an_unknown_model_of_a_named_endpoint_lists_only_that_endpoints_models() -> None:
    config = settings_from(endpoints(endpoint(models=[MODEL, {**MODEL, "id": "qwen"}])))

    with pytest.raises(UnknownModel) as unknown:
        model_spec("vllm/mistral", config)

    assert unknown.value.endpoint_models == ["vllm/llama-3.1-8b", "vllm/qwen"]
    assert "gpt-4o" not in unknown.value.message
    with pytest.raises(UnknownModel) as elsewhere:
        model_spec("other/mistral", config)
    assert elsewhere.value.endpoint_models is None and "vllm/qwen" in elsewhere.value.message


@pytest.mark.parametrize(
    ("entries", "named"),
    [
        ([endpoint(name="Upper")], "NAME"),
        ([endpoint(name="bedrock")], "NAME"),
        ([endpoint(base_url="ftp://host/v1")], "BASE_URL"),
        ([endpoint(models=[])], "MODELS"),
        ([endpoint(models=[MODEL, MODEL])], "twice"),
        ([endpoint(), endpoint()], "twice"),
        (
            [
                endpoint(
                    api_key="sk-1",
                    api_key_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:k",
                )
            ],
            "not both",
        ),
        ([endpoint(api_key_secret_arn="sk-plain-key-here")], "API_KEY_SECRET_ARN"),
        ([endpoint(models=[{**MODEL, "context_window": 0}])], "CONTEXT_WINDOW"),
        ([endpoint(surprise=True)], "SURPRISE"),
    ],
)
def test_a_wrong_endpoint_setting_is_a_configuration_error_naming_it(entries: list[Any], named: str) -> None:
    with pytest.raises(ConfigurationError) as wrong:
        settings_from(endpoints(*entries))

    assert named in str(wrong.value)


def test_a_configuration_error_never_shows_a_key() -> None:
    with pytest.raises(ConfigurationError) as wrong:
        settings_from(endpoints(endpoint(name="Bad", api_key="sk-very-secret-123")))

    assert "sk-very-secret-123" not in str(wrong.value)


def test_in_aws_an_endpoint_key_comes_only_from_an_arn() -> None:
    in_lambda = {"AWS_LAMBDA_FUNCTION_NAME": "parley-chat"}

    with pytest.raises(ConfigurationError, match="api_key_secret_arn"):
        settings_from({**in_lambda, **endpoints(endpoint(api_key="sk-1"))})
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:vllm-key-AbCdEf"
    assert settings_from({**in_lambda, **endpoints(endpoint(api_key_secret_arn=arn))})


def test_an_endpoint_key_comes_from_its_secret_or_parameter_by_arn(dynamodb: Any) -> None:
    secret = boto3.client("secretsmanager").create_secret(
        Name="vllm-key", SecretString='{"api_key": "sk-vllm"}'
    )
    boto3.client("ssm").put_parameter(Name="/parley/gw-key", Value="sk-gw", Type="SecureString")
    config = settings_from(
        endpoints(
            endpoint(api_key_secret_arn=secret["ARN"]),
            endpoint(
                name="gw", api_key_secret_arn="arn:aws:ssm:us-east-1:123456789012:parameter/parley/gw-key"
            ),
            endpoint(name="local", base_url="http://127.0.0.1:8080/v1"),
        )
    )
    vllm, gw, local = config.openai_compatible_endpoints

    assert (endpoint_key(vllm), endpoint_key(gw), endpoint_key(local)) == ("sk-vllm", "sk-gw", NO_KEY)
