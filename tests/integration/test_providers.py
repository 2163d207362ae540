"""The OpenAI and Anthropic providers: the real SDKs over HTTP to the local provider server."""

from __future__ import annotations

import json

import pytest

from parley.errors import InvalidRequest, ProviderError, ProviderTimeout
from parley.providers.anthropic_chat import AnthropicProvider, accepted_arguments
from parley.providers.base import ChatRequest, PromptMessage
from parley.providers.embedders import OPENAI_BATCH, OpenAIEmbedder
from parley.providers.openai_chat import OpenAIProvider
from tests.doubles.fake_providers import (
    ANTHROPIC_KEY,
    ANTHROPIC_PATH,
    EMBEDDINGS_PATH,
    OPENAI_KEY,
    OPENAI_PATH,
    ProviderServer,
    Scripted,
    anthropic_error,
    openai_error,
)

pytestmark = pytest.mark.integration

CALL = {
    "id": "call_abc",
    "type": "function",
    "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
}


@pytest.fixture
def server(provider_server: ProviderServer) -> ProviderServer:
    provider_server.reset()
    return provider_server


def openai(server: ProviderServer, key: str = OPENAI_KEY, timeout: float = 5) -> OpenAIProvider:
    return OpenAIProvider.create(key, server.openai_url, timeout=timeout, max_retries=2)


def anthropic(server: ProviderServer, key: str = ANTHROPIC_KEY, timeout: float = 5) -> AnthropicProvider:
    return AnthropicProvider.create(key, server.anthropic_url, timeout=timeout, max_retries=2)


def request(model: str, *messages: PromptMessage, system: str | None = "Be brief.") -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=list(messages) or [PromptMessage("user", "Hello")],
        system_prompt=system,
        max_tokens=256,
    )


def test_openai_answers_with_usage_and_the_model_that_answered(server: ProviderServer) -> None:
    completion = openai(server).complete(request("gpt-4o", PromptMessage("user", "Hi there")))

    sent = server.requests_to(OPENAI_PATH)[0].body
    assert completion.content == "Echo: Hi there"
    assert completion.finish_reason == "stop"
    assert completion.model == "gpt-4o-2024-08-06"
    assert (
        completion.usage.total_tokens
        == completion.usage.prompt_tokens + completion.usage.completion_tokens
        > 0
    )
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["max_completion_tokens"] == 256


def test_anthropic_gets_the_system_apart_merged_turns_and_max_tokens(server: ProviderServer) -> None:
    completion = anthropic(server).complete(
        request(
            "claude-sonnet-4-6",
            PromptMessage("assistant", "A leading assistant turn is dropped"),
            PromptMessage("user", "First"),
            PromptMessage("user", "Second"),
            PromptMessage("system", "Answer in French."),
            PromptMessage("assistant", "D'accord"),
            PromptMessage("user", "Third"),
        )
    )

    received = server.requests_to(ANTHROPIC_PATH)[0]
    sent = received.body
    assert completion.content == "Echo: Third"
    assert sent["system"] == [
        {"type": "text", "text": "Be brief.\n\nAnswer in French.", "cache_control": {"type": "ephemeral"}}
    ]
    assert [turn["role"] for turn in sent["messages"]] == ["user", "assistant", "user"]
    assert [b["text"] for b in sent["messages"][0]["content"]] == ["First", "Second"]
    assert sent["max_tokens"] == 256
    assert "anthropic-version" in {k.lower() for k in received.headers}


def test_anthropic_is_sent_only_what_the_pinned_sdk_takes(server: ProviderServer) -> None:
    """The pinned SDK's `messages.create` has no `temperature` (a TypeError before any request);
    a request with every option still completes, whole and streamed."""
    sampled = ChatRequest(
        model="claude-sonnet-4-6",
        messages=[PromptMessage("user", "Hi")],
        max_tokens=24,
        temperature=0,
        top_p=0.5,
        stop=["END"],
        tools=[{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}],
        tool_choice="auto",
    )

    whole = anthropic(server).complete(sampled)
    streamed = list(anthropic(server).stream(sampled))

    sent = [r.body for r in server.requests_to(ANTHROPIC_PATH)]
    assert whole.content and whole.content == streamed[-1].content  # type: ignore[union-attr]
    assert len(sent) == 2
    assert all(set(body) - {"stream"} <= accepted_arguments() for body in sent)
    assert all(body["stop_sequences"] == ["END"] and body["tool_choice"] == {"type": "auto"} for body in sent)


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),  # a server tool paused the turn: what was written so far is the reply
        ("model_context_window_exceeded", "length"),
    ],
)
def test_anthropic_stop_reasons_map_to_openai_finish_reasons(
    server: ProviderServer, stop_reason: str, finish_reason: str
) -> None:
    server.script(ANTHROPIC_PATH, Scripted(reply={"stop_reason": stop_reason}))

    assert anthropic(server).complete(request("claude-sonnet-4-6")).finish_reason == finish_reason


@pytest.mark.parametrize("finish_reason", ["stop", "length", "tool_calls", "content_filter"])
def test_openai_finish_reasons_pass_through(server: ProviderServer, finish_reason: str) -> None:
    reply = {
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": finish_reason}
        ]
    }
    server.script(OPENAI_PATH, Scripted(reply=reply))

    assert openai(server).complete(request("gpt-4o")).finish_reason == finish_reason


def test_anthropic_cache_tokens_count_as_prompt_tokens(server: ProviderServer) -> None:
    usage = {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 1000,
    }
    server.script(ANTHROPIC_PATH, Scripted(reply={"usage": usage}))

    completion = anthropic(server).complete(request("claude-sonnet-4-6"))

    assert completion.usage.model_dump() == {
        "prompt_tokens": 1110,
        "completion_tokens": 5,
        "total_tokens": 1115,
    }


@pytest.mark.parametrize("path", [OPENAI_PATH, ANTHROPIC_PATH])
def test_a_429_with_retry_after_is_retried_by_the_sdk_and_succeeds(server: ProviderServer, path: str) -> None:
    error = (
        openai_error("Rate limit reached", "requests")
        if path == OPENAI_PATH
        else anthropic_error("rate_limit_error", "Rate limited")
    )
    server.script(path, Scripted(status=429, body=error, headers={"retry-after": "0.2"}))
    provider = openai(server) if path == OPENAI_PATH else anthropic(server)

    completion = provider.complete(request("gpt-4o" if path == OPENAI_PATH else "claude-sonnet-4-6"))

    assert completion.content == "Echo: Hello"
    assert len(server.requests_to(path)) == 2


@pytest.mark.parametrize(
    ("path", "status"), [(OPENAI_PATH, 500), (ANTHROPIC_PATH, 500), (ANTHROPIC_PATH, 529)]
)
def test_persistent_server_errors_become_provider_errors_after_the_sdk_retries(
    server: ProviderServer, path: str, status: int
) -> None:
    body = (
        openai_error("boom", "server_error")
        if path == OPENAI_PATH
        else anthropic_error("overloaded_error", "x")
    )
    server.script(path, *[Scripted(status=status, body=body, headers={"retry-after-ms": "10"})] * 3)
    provider = openai(server) if path == OPENAI_PATH else anthropic(server)

    with pytest.raises(ProviderError, match=f"HTTP {status} after retries"):
        provider.complete(request("gpt-4o" if path == OPENAI_PATH else "claude-sonnet-4-6"))

    assert len(server.requests_to(path)) == 3  # the first try and the SDK's two retries, nothing more


def test_a_provider_400_is_a_client_error_that_keeps_the_providers_words_out(
    server: ProviderServer,
) -> None:
    reason = "This model's maximum context length is 16385 tokens."
    server.script(
        OPENAI_PATH,
        Scripted(status=400, body=openai_error(reason, "invalid_request_error", "context_length_exceeded")),
    )

    with pytest.raises(InvalidRequest) as refusal:
        openai(server).complete(request("gpt-3.5-turbo"))

    assert refusal.value.code == "provider_rejected_request"
    assert "HTTP 400" in refusal.value.message
    assert reason not in refusal.value.message  # it goes to the log, not to the client


@pytest.mark.parametrize("which", ["openai", "anthropic"])
def test_a_rejected_key_names_the_setting_but_never_the_key(server: ProviderServer, which: str) -> None:
    wrong = "sk-wrong-key-4242424242"
    provider = openai(server, key=wrong) if which == "openai" else anthropic(server, key=wrong)

    with pytest.raises(ProviderError) as failure:
        provider.complete(request("gpt-4o" if which == "openai" else "claude-sonnet-4-6"))

    assert f"{which.upper()}_API_KEY" in failure.value.message
    assert wrong not in failure.value.message and "4242" not in failure.value.message


def test_a_slow_server_is_a_timeout(server: ProviderServer) -> None:
    server.script(OPENAI_PATH, *[Scripted(delay=2)] * 3)
    provider = OpenAIProvider.create(OPENAI_KEY, server.openai_url, timeout=0.5, max_retries=0)

    with pytest.raises(ProviderTimeout):
        provider.complete(request("gpt-4o"))


def test_openai_tool_calls_and_results_round_trip(server: ProviderServer) -> None:
    server.script(
        OPENAI_PATH,
        Scripted(
            reply={
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls",
                        "message": {"role": "assistant", "content": None, "tool_calls": [CALL]},
                    }
                ]
            }
        ),
    )
    provider = openai(server)

    first = provider.complete(request("gpt-4o", PromptMessage("user", "Weather in Oslo?")))
    provider.complete(
        request(
            "gpt-4o",
            PromptMessage("user", "Weather in Oslo?"),
            PromptMessage("assistant", "", first.tool_calls),
            PromptMessage("tool", '{"temp": 21}', tool_call_id="call_abc"),
        )
    )

    assert first.finish_reason == "tool_calls"
    assert first.tool_calls == [CALL]
    sent = server.requests_to(OPENAI_PATH)[1].body["messages"]
    assert sent[2] == {"role": "assistant", "content": None, "tool_calls": [CALL]}
    assert sent[3] == {"role": "tool", "content": '{"temp": 21}', "tool_call_id": "call_abc"}


def test_anthropic_tool_use_and_results_round_trip(server: ProviderServer) -> None:
    server.script(
        ANTHROPIC_PATH,
        Scripted(
            reply={
                "stop_reason": "tool_use",
                "content": [
                    {"type": "text", "text": "Let me check."},
                    {"type": "tool_use", "id": "toolu_01", "name": "weather", "input": {"city": "Oslo"}},
                ],
            }
        ),
    )
    provider = anthropic(server)

    first = provider.complete(request("claude-sonnet-4-6", PromptMessage("user", "Weather in Oslo?")))
    provider.complete(
        request(
            "claude-sonnet-4-6",
            PromptMessage("user", "Weather in Oslo?"),
            PromptMessage("assistant", first.content, first.tool_calls),
            PromptMessage("tool", '{"temp": 21}', tool_call_id="toolu_01"),
        )
    )

    assert first.tool_calls is not None
    assert first.tool_calls[0]["id"] == "toolu_01"
    assert json.loads(first.tool_calls[0]["function"]["arguments"]) == {"city": "Oslo"}
    turns = server.requests_to(ANTHROPIC_PATH)[1].body["messages"]
    assert turns[1]["content"][1] == {
        "type": "tool_use",
        "id": "toolu_01",
        "name": "weather",
        "input": {"city": "Oslo"},
    }
    assert turns[2] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01",
                "content": '{"temp": 21}',
                "cache_control": {"type": "ephemeral"},  # the conversation so far is a cached prefix
            }
        ],
    }


def test_openai_embeddings_are_batched_and_unit_length(server: ProviderServer) -> None:
    embedder = OpenAIEmbedder("text-embedding-3-small", OPENAI_KEY, server.openai_url, timeout=5, retries=2)
    texts = [f"chunk {n}" for n in range(OPENAI_BATCH * 2 + 5)]

    vectors = embedder.embed(texts)

    batches = server.requests_to(EMBEDDINGS_PATH)
    assert [len(b.body["input"]) for b in batches] == [OPENAI_BATCH, OPENAI_BATCH, 5]
    assert len(vectors) == len(texts) and len(vectors[0]) == embedder.dimension == 1536
    assert all(abs(sum(x * x for x in v) - 1.0) < 1e-9 for v in vectors[:3])


def test_an_embeddings_failure_is_a_provider_error(server: ProviderServer) -> None:
    server.script(
        EMBEDDINGS_PATH,
        *[Scripted(status=500, body=openai_error("boom", "server_error"), headers={"retry-after-ms": "10"})]
        * 3,
    )
    embedder = OpenAIEmbedder("text-embedding-3-small", OPENAI_KEY, server.openai_url, timeout=5, retries=2)

    with pytest.raises(ProviderError, match="OpenAI embeddings"):
        embedder.embed(["x"])
