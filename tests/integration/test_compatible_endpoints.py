"""OpenAI-compatible endpoints as providers (`OPENAI_COMPATIBLE_ENDPOINTS`): their models named
`<endpoint>/<id>` on every route, sent to the endpoint by the ids it knows, with its key, and held
to what the endpoint says its models can do. The endpoint is the local OpenAI wire server."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import openai
import pytest

from local.token import mint
from tests.conftest import LocalStack, TokenFactory
from tests.doubles.fake_providers import OPENAI_KEY, OPENAI_PATH, ProviderServer
from tests.integration.test_tools import WEATHER as WEATHER_TOOL

pytestmark = pytest.mark.integration

LLAMA = "acme-vllm/llama-3.1-8b"  # runs tools, honours json_schema
TINY = "acme-vllm/tiny"  # neither: structured output and tools are refused
PHI = "acme-vllm/phi-4"  # tools only: structured output through a forced tool


@pytest.fixture
def endpoint(providers: ProviderServer, monkeypatch: pytest.MonkeyPatch) -> ProviderServer:
    models: list[dict[str, Any]] = [
        {
            "id": "llama-3.1-8b",
            "context_window": 131_072,
            "max_output": 4_096,
            "input_per_mtok": 0.2,
            "output_per_mtok": 0.6,
            "tools": True,
            "json_schema": True,
        },
        {"id": "tiny", "context_window": 2_048, "max_output": 256},
        {"id": "phi-4", "context_window": 16_384, "max_output": 2_048, "tools": True},
    ]
    setting = [
        {"name": "acme-vllm", "base_url": providers.openai_url, "api_key": OPENAI_KEY, "models": models}
    ]
    monkeypatch.setenv("OPENAI_COMPATIBLE_ENDPOINTS", json.dumps(setting))
    monkeypatch.delenv("OPENAI_API_KEY")  # the endpoint's key is its own, not OpenAI's
    return providers


@pytest.fixture
def client(local_stack: LocalStack) -> openai.OpenAI:
    token = mint("endpoint-user", [f"ep-{uuid.uuid4().hex[:8]}"])
    return openai.OpenAI(base_url=f"{local_stack.url}/v1", api_key=token, max_retries=0, timeout=60)


def test_the_endpoints_models_are_listed_under_its_name(
    client: openai.OpenAI, api: httpx.Client, endpoint: ProviderServer
) -> None:
    listed = {model.id: model.owned_by for model in client.models.list()}
    # A path parameter ends at a '/': the id's slash is sent encoded.
    bearer = {"Authorization": f"Bearer {client.api_key}"}
    retrieved = api.get("/v1/models/acme-vllm%2Fllama-3.1-8b", headers=bearer)

    assert {listed[LLAMA], listed[TINY], listed[PHI]} == {"acme-vllm"}
    assert "gpt-4o-mini" not in listed  # no OpenAI key in this deployment
    assert retrieved.status_code == 200, retrieved.text
    assert retrieved.json()["id"] == LLAMA


def test_a_chat_completion_goes_to_the_endpoint_by_its_own_model_id_with_its_key(
    client: openai.OpenAI, endpoint: ProviderServer
) -> None:
    answer = client.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "Hi there"}])

    (sent,) = endpoint.requests_to(OPENAI_PATH)
    assert sent.body["model"] == "llama-3.1-8b"
    assert {k.lower(): v for k, v in sent.headers.items()}["authorization"] == f"Bearer {OPENAI_KEY}"
    assert answer.model.startswith("llama-3.1-8b") and answer.choices[0].message.content == "Echo: Hi there"
    assert answer.usage is not None and answer.usage.total_tokens > 0


def test_a_stream_from_an_endpoint_arrives_in_pieces_with_its_usage(
    client: openai.OpenAI, endpoint: ProviderServer
) -> None:
    stream = client.chat.completions.create(
        model=LLAMA,
        messages=[{"role": "user", "content": "Tell me about the fjords of Norway"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 1 and "".join(pieces) == "Echo: Tell me about the fjords of Norway"
    assert endpoint.requests_to(OPENAI_PATH)[0].body["stream"] is True
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_a_conversation_on_an_endpoint_model_costs_its_configured_prices(
    api: httpx.Client, auth: TokenFactory, endpoint: ProviderServer
) -> None:
    headers = auth("endpoint-owner")
    created = api.post("/v1/conversations", json={"model": LLAMA}, headers=headers)
    assert created.status_code == 201, created.text

    answered = api.post(
        f"/v1/conversations/{created.json()['conversation']['id']}/messages",
        json={"role": "user", "content": "Hello there", "mode": "chat-completion"},
        headers=headers,
    )

    assert answered.status_code == 200, answered.text
    reply = answered.json()["assistant_message"]
    usage = reply["token_usage"]
    expected = (usage["prompt_tokens"] * 0.2 + usage["completion_tokens"] * 0.6) / 1e6
    assert reply["metadata"]["cost_usd"] == pytest.approx(expected) and expected > 0


def test_a_model_the_endpoint_does_not_list_is_refused_naming_its_models(
    client: openai.OpenAI, api: httpx.Client, auth: TokenFactory, endpoint: ProviderServer
) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="acme-vllm/gpt-9", messages=[{"role": "user", "content": "hi"}])
    refused = api.post("/v1/conversations", json={"model": "acme-vllm/gpt-9"}, headers=auth("endpoint-owner"))

    assert missing.value.code == "model_not_found"
    assert all(model in missing.value.message for model in (LLAMA, TINY, PHI))
    assert refused.status_code == 400 and refused.json()["error"] == "unknown_model"
    assert f"Models of endpoint 'acme-vllm': {LLAMA}" in refused.json()["message"]
    assert "gpt-4o" not in refused.json()["message"]
    assert endpoint.requests_to(OPENAI_PATH) == []


def test_tools_go_to_a_model_that_runs_them_and_are_refused_for_one_that_does_not(
    client: openai.OpenAI, endpoint: ProviderServer
) -> None:
    question: Any = [{"role": "user", "content": "What is the weather in Oslo?"}]
    called = client.chat.completions.create(model=LLAMA, messages=question, tools=[WEATHER_TOOL])  # type: ignore[list-item]
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=TINY, messages=question, tools=[WEATHER_TOOL])  # type: ignore[list-item]

    assert called.choices[0].finish_reason == "tool_calls"
    assert endpoint.requests_to(OPENAI_PATH)[0].body["tools"] == [WEATHER_TOOL]
    assert refused.value.code == "unsupported_parameter" and TINY in refused.value.message
    assert len(endpoint.requests_to(OPENAI_PATH)) == 1  # the refused request reached nothing


SCHEMA = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
LOOKUP = {"type": "json_schema", "json_schema": {"name": "lookup", "schema": SCHEMA}}


def test_structured_output_as_the_endpoint_can_or_a_clear_400(
    client: openai.OpenAI, endpoint: ProviderServer
) -> None:
    question: Any = [{"role": "user", "content": "Look up Lisbon"}]

    client.chat.completions.create(model=LLAMA, messages=question, response_format=LOOKUP)  # type: ignore[arg-type]
    emulated = client.chat.completions.create(model=PHI, messages=question, response_format=LOOKUP)  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=TINY, messages=question, response_format=LOOKUP)  # type: ignore[arg-type]

    native, forced = (r.body for r in endpoint.requests_to(OPENAI_PATH))
    assert native["response_format"] == LOOKUP and "tools" not in native
    assert forced["tool_choice"] == {"type": "function", "function": {"name": "lookup"}}
    assert "response_format" not in forced
    assert json.loads(emulated.choices[0].message.content or "") == {"query": "Echo: Look up Lisbon"}
    assert refused.value.code == "unsupported_parameter" and refused.value.param == "response_format"


def test_an_endpoint_refusing_the_key_is_a_502_naming_the_endpoint(
    client: openai.OpenAI, endpoint: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    setting = [
        {
            "name": "acme-vllm",
            "base_url": endpoint.openai_url,
            "api_key": "sk-wrong",
            "models": [{"id": "tiny", "context_window": 2048, "max_output": 256}],
        }
    ]
    monkeypatch.setenv("OPENAI_COMPATIBLE_ENDPOINTS", json.dumps(setting))

    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model=TINY, messages=[{"role": "user", "content": "hi"}])

    assert failed.value.status_code == 502 and "endpoint 'acme-vllm'" in failed.value.message
    assert "sk-wrong" not in failed.value.message
