"""The OpenAI-compatible routes through the local gateway, driven by the `openai` Python SDK
(sync and async, streaming, tools, structured output, typed exceptions) with Parley's offline
model and the OpenAI wire server behind; every response also checked against the SDK's own
types, which OpenAI generates from its published API reference."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import numpy
import openai
import pytest
from openai.types import CreateEmbeddingResponse, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import BaseModel

from local.token import mint
from parley.providers.minilm import MiniLMEmbedder
from tests.conftest import LocalStack, TokenFactory, VectorBackend
from tests.doubles.fake_providers import ANTHROPIC_PATH, OPENAI_PATH, ProviderServer, Scripted, openai_error
from tests.integration.test_tools import WEATHER as WEATHER_TOOL

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def functions_at_noon(monkeypatch: pytest.MonkeyPatch) -> None:
    """Budgets and the usage report count by UTC day: the functions' clock stands at noon, so no
    exchange and its report or its refusal fall on either side of a midnight."""
    monkeypatch.setenv("CLOCK_FROZEN_AT", datetime(2031, 3, 14, 12, tzinfo=UTC).isoformat())


@pytest.fixture
def brand() -> str:
    return f"oai-{uuid.uuid4().hex[:8]}"  # budgets, usage and assistants of this test's own


@pytest.fixture
def token(brand: str) -> str:
    return mint("oai-user", [brand])


@pytest.fixture
def client(local_stack: LocalStack, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{local_stack.url}/v1", api_key=token, max_retries=0, timeout=60)


def strictly(model: type[BaseModel], body: dict[str, Any], extensions: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """`body` parses as the SDK's type of it with no field the type does not know (but Parley's
    documented extensions), at any depth."""
    parsed = model.model_validate(body)
    pending: list[Any] = [parsed]
    while pending:
        item = pending.pop()
        if isinstance(item, BaseModel):
            assert not set(item.model_extra or {}) - extensions, (type(item).__name__, item.model_extra)
            pending += [getattr(item, name) for name in type(item).model_fields]
        elif isinstance(item, list):
            pending += item


def test_models_lists_the_servable_models_and_the_brands_assistants(
    client: openai.OpenAI, api: httpx.Client, auth: TokenFactory, brand: str
) -> None:
    admin = auth("ops", brands=[brand], scopes=["admin", "ai:chat"])
    mine = api.post("/v1/ai/assistants", json={"brand_id": brand, "name": "Support"}, headers=admin).json()
    other = api.post(
        "/v1/ai/assistants",
        json={"brand_id": "globex", "name": "Theirs"},
        headers=auth("ops", brands=["globex"], scopes=["admin"]),
    ).json()

    models = client.models.list()
    ids = [m.id for m in models.data]
    one = client.models.retrieve("parley-offline")

    assert "parley-offline" in ids and "minilm-l6-v2" in ids
    assert f"assistant:{mine['assistant']['assistant_id']}" in ids
    assert f"assistant:{other['assistant']['assistant_id']}" not in ids
    assert [m.owned_by for m in models.data if m.id.startswith("assistant:")] == [brand]
    assert [m.name for m in models.data if m.id.startswith("assistant:")] == ["Support"]  # type: ignore[attr-defined]
    assert (one.id, one.object, one.owned_by) == ("parley-offline", "model", "parley")
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve(f"assistant:{other['assistant']['assistant_id']}")
    assert missing.value.code == "model_not_found"
    for card in models.data:  # an assistant's card names it: Parley's one extension of a model card
        strictly(Model, card.model_dump(), {"name"} if card.id.startswith("assistant:") else set())


def test_a_chat_completion_answers_in_openais_shape_and_counts_in_the_usage_report(
    client: openai.OpenAI, api: httpx.Client, auth: TokenFactory, brand: str
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="parley-offline",
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": [{"type": "text", "text": "Where should I go in May?"}]},
        ],
        temperature=0.2,
        max_completion_tokens=200,
    )
    completion = raw.parse()
    report = api.get(
        "/v1/usage", params={"brand_id": brand}, headers=auth("ops", brands=[brand], scopes=["admin"])
    )

    strictly(ChatCompletion, raw.http_response.json())
    assert completion.id.startswith("chatcmpl-") and completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert "Where should I go in May?" in (completion.choices[0].message.content or "")
    assert completion.choices[0].finish_reason == "stop" and completion.choices[0].message.refusal is None
    usage = completion.usage
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens > 0
    assert report.json()["requests"] == 1 and report.json()["total_tokens"] == usage.total_tokens


def test_streaming_sends_the_role_the_pieces_the_finish_and_the_usage(client: openai.OpenAI) -> None:
    question = [{"role": "user", "content": "Tell me about Lisbon in spring."}]
    whole = client.chat.completions.create(model="parley-offline", messages=question)  # type: ignore[arg-type]

    chunks = list(
        client.chat.completions.create(
            model="parley-offline",
            messages=question,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert len([p for p in pieces if p]) > 3  # it came in pieces
    assert "".join(pieces) == whole.choices[0].message.content
    finishing = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishing == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == whole.usage.total_tokens  # type: ignore[union-attr]
    assert len({c.id for c in chunks}) == 1
    for chunk in chunks:
        strictly(ChatCompletionChunk, chunk.model_dump())


def test_a_tool_call_round_trip(client: openai.OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Oslo?"}]
    first = client.chat.completions.create(model="parley-offline", messages=messages, tools=[WEATHER_TOOL])  # type: ignore[list-item]
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]

    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "-3C and snow"},
    ]
    second = client.chat.completions.create(model="parley-offline", messages=messages, tools=[WEATHER_TOOL])  # type: ignore[list-item]

    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and "Oslo" in call.function.arguments
    assert "-3C and snow" in (second.choices[0].message.content or "")


def test_streamed_tool_calls_arrive_as_fragments(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="parley-offline",
        messages=[{"role": "user", "content": "Weather in Bergen please"}],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        stream=True,
    )
    fragments = [c.choices[0].delta.tool_calls for c in stream if c.choices and c.choices[0].delta.tool_calls]

    assert fragments and fragments[0][0].function.name == "get_weather"  # type: ignore[union-attr]


class Trip(BaseModel):
    city: str
    days: int
    sights: list[str]


def test_parse_returns_a_document_valid_against_the_pydantic_model(client: openai.OpenAI) -> None:
    parsed = client.chat.completions.parse(
        model="parley-offline",
        messages=[{"role": "user", "content": "Plan 4 days in Porto"}],
        response_format=Trip,
    )

    trip = parsed.choices[0].message.parsed
    assert isinstance(trip, Trip) and trip.days == 4 and trip.sights
    assert parsed.choices[0].finish_reason == "stop" and parsed.choices[0].message.tool_calls is None


def test_openai_models_get_the_response_format_and_parameters_as_sent(
    client: openai.OpenAI, providers: ProviderServer
) -> None:
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "A JSON object, please"}],
        response_format={"type": "json_object"},
        top_p=0.5,
        stop=["END"],
    )

    sent = providers.requests_to(OPENAI_PATH)[-1].body
    assert sent["response_format"] == {"type": "json_object"}
    assert (sent["top_p"], sent["stop"]) == (0.5, ["END"])


def test_errors_are_openais_typed_exceptions(
    local_stack: LocalStack, client: openai.OpenAI, brand: str
) -> None:
    question: Any = [{"role": "user", "content": "hi"}]

    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-nonexistent", messages=question)
    with pytest.raises(openai.BadRequestError) as several:
        client.chat.completions.create(model="parley-offline", messages=question, n=2)
    with pytest.raises(openai.BadRequestError) as unrecognized:
        client.chat.completions.create(
            model="parley-offline", messages=question, extra_body={"frobnicate": 1}
        )
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{local_stack.url}/v1", api_key="not-a-token", max_retries=0).models.list()

    assert unknown.value.code == "model_not_found" and unknown.value.body["param"] == "model"  # type: ignore[index]
    assert several.value.body["param"] == "n" and several.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    assert unrecognized.value.body["param"] == "frobnicate"  # type: ignore[index]
    assert "Unrecognized request argument supplied: frobnicate" in unrecognized.value.message


def test_a_spent_budget_is_a_rate_limit_error_with_retry_after(
    client: openai.OpenAI, api: httpx.Client, auth: TokenFactory, brand: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUOTA_CACHE_SECONDS", "0")
    admin = auth("ops", brands=[brand], scopes=["admin"])
    assert api.put(f"/v1/quotas/{brand}", json={"user_daily_tokens": 1}, headers=admin).status_code == 200
    question: Any = [{"role": "user", "content": "hi"}]
    client.chat.completions.create(model="parley-offline", messages=question)  # crosses the budget

    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="parley-offline", messages=question)

    assert refused.value.code == "quota_exceeded" and int(refused.value.response.headers["Retry-After"]) >= 1


def test_the_brand_is_the_tokens_or_the_header_names_one_of_its_brands(local_stack: LocalStack) -> None:
    several = mint("oai-user", ["acme", "globex"])
    client = openai.OpenAI(base_url=f"{local_stack.url}/v1", api_key=several, max_retries=0)
    question: Any = [{"role": "user", "content": "hi"}]

    with pytest.raises(openai.BadRequestError) as unnamed:
        client.chat.completions.create(model="parley-offline", messages=question)
    named = client.chat.completions.create(
        model="parley-offline", messages=question, extra_headers={"X-Parley-Brand": "globex"}
    )
    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(
            model="parley-offline", messages=question, extra_headers={"X-Parley-Brand": "initech"}
        )

    assert unnamed.value.code == "brand_required" and "X-Parley-Brand" in unnamed.value.message
    assert named.choices[0].message.content


def test_an_idempotency_key_replays_the_first_answer(client: openai.OpenAI) -> None:
    question: Any = [{"role": "user", "content": "Replay me"}]
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = client.chat.completions.create(model="parley-offline", messages=question, extra_headers=key)
    again = client.chat.completions.create(model="parley-offline", messages=question, extra_headers=key)

    assert again.id == first.id and again.choices[0].message.content == first.choices[0].message.content


def test_an_assistant_answers_from_its_documents_with_citations(
    client: openai.OpenAI,
    api: httpx.Client,
    auth: TokenFactory,
    brand: str,
    vector_backend: VectorBackend,
) -> None:
    ops = auth("ops", brands=[brand], scopes=["admin", "ai:ingest", "ai:chat"])
    api.post(
        "/v1/ai/documents",
        json={
            "brand_id": brand,
            "rag_scope": "hr",
            "document_id": "leave",
            "title": "Leave",
            "content": "Parental leave lasts sixteen weeks at full pay.",
        },
        headers=ops,
    )
    vector_backend.settle()
    assistant = api.post(
        "/v1/ai/assistants", json={"brand_id": brand, "name": "HR", "rag_scope": "hr"}, headers=ops
    ).json()["assistant"]

    raw = client.chat.completions.with_raw_response.create(
        model=f"assistant:{assistant['assistant_id']}",
        messages=[{"role": "user", "content": "How long is parental leave?"}],
    )
    body = raw.http_response.json()

    strictly(ChatCompletion, body, extensions={"citations"})
    assert "sixteen weeks" in body["choices"][0]["message"]["content"]
    assert body["choices"][0]["message"]["citations"][0]["document_id"] == "leave"


def test_embeddings_are_the_deployments_embedder_in_floats_and_base64(client: openai.OpenAI) -> None:
    texts = ["Parental leave lasts sixteen weeks.", "The office opens at nine."]
    expected = MiniLMEmbedder().embed(texts)

    floats = client.embeddings.with_raw_response.create(
        model="minilm-l6-v2", input=texts, encoding_format="float"
    )
    packed = client.embeddings.with_raw_response.create(
        model="minilm-l6-v2", input=texts, encoding_format="base64"
    )
    decoded = [
        list(struct.unpack(f"<{len(expected[0])}f", base64.b64decode(item["embedding"])))
        for item in packed.http_response.json()["data"]
    ]
    via_sdk = client.embeddings.create(model="minilm-l6-v2", input=texts)  # asks for base64 and decodes

    strictly(CreateEmbeddingResponse, floats.http_response.json())
    for vectors in ([d.embedding for d in floats.parse().data], decoded, [d.embedding for d in via_sdk.data]):
        assert numpy.allclose(vectors, expected, atol=1e-6)
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="text-embedding-3-small", input=texts)


def test_the_async_client_streams_too(local_stack: LocalStack, token: str) -> None:
    async def talk() -> tuple[str, str]:
        client = openai.AsyncOpenAI(base_url=f"{local_stack.url}/v1", api_key=token, max_retries=0)
        question: Any = [{"role": "user", "content": "Async hello"}]
        whole = await client.chat.completions.create(model="parley-offline", messages=question)
        stream = await client.chat.completions.create(model="parley-offline", messages=question, stream=True)
        pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        await client.close()
        return whole.choices[0].message.content or "", "".join(pieces)

    whole, streamed = asyncio.run(talk())

    assert whole and streamed == whole


def test_anthropic_models_answer_a_json_schema_through_a_forced_tool(
    client: openai.OpenAI, providers: ProviderServer
) -> None:
    schema = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}

    answer = client.chat.completions.create(
        model="claude-sonnet-4-6",
        messages=[{"role": "user", "content": "Look up Lisbon"}],
        response_format={"type": "json_schema", "json_schema": {"name": "lookup", "schema": schema}},
    )

    sent = providers.requests_to(ANTHROPIC_PATH)[-1].body
    assert sent["tool_choice"] == {"type": "tool", "name": "lookup"}
    assert [(t["name"], t["input_schema"]) for t in sent["tools"]] == [("lookup", schema)]
    assert json.loads(answer.choices[0].message.content or "") == {"query": "Echo: Look up Lisbon"}
    assert answer.choices[0].finish_reason == "stop" and answer.choices[0].message.tool_calls is None


def test_a_failing_provider_is_a_502_server_error(client: openai.OpenAI, providers: ProviderServer) -> None:
    providers.script(
        OPENAI_PATH,
        *[Scripted(status=500, body=openai_error("boom", "server_error"), headers={"retry-after-ms": "10"})]
        * 3,
    )

    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])

    assert failed.value.status_code == 502 and failed.value.body["type"] == "server_error"  # type: ignore[index]
    assert failed.value.code == "provider_error"
