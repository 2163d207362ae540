"""Time to first token: what Parley adds to the provider's own, measured side by side in one run,
on a conversation's chat-completion and on the OpenAI- and Anthropic-compatible routes (Chat
Completions, Responses, Messages).
The provider's: the OpenAI SDK streaming straight from the provider server. Parley's: a streamed
chat-completion through the local gateway (auth, the conversation read, the quota check, the
provider call) to the first `delta` event, against the same server. Warm: after one request that
starts the function's container."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator

import anthropic
import httpx
import openai

from bench.report import Report
from local.dynamodb import free_port
from local.gateway import LocalServer
from local.token import mint
from tests.doubles.fake_providers import OPENAI_KEY, ProviderServer

REQUESTS = 30
MODEL = "gpt-4o"


def _provider_first_token(sdk: openai.OpenAI) -> float:
    started = time.perf_counter()
    chunks = sdk.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "a question for the bench"}], stream=True
    )
    first = None
    for chunk in chunks:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - started
    assert first is not None
    return first * 1000


def _parley_first_token(http: httpx.Client, url: str, headers: dict[str, str]) -> float:
    body = {"role": "user", "content": "a question for the bench", "mode": "chat-completion", "stream": True}
    started = time.perf_counter()
    first = None
    with http.stream("POST", url, json=body, headers=headers) as response:
        lines: Iterator[str] = response.iter_lines()
        for line in lines:
            if first is None and line == "event: delta":
                first = time.perf_counter() - started
    assert first is not None, "no delta event"
    return first * 1000


def _responses_first_token(sdk: openai.OpenAI) -> float:
    """POST /v1/responses with the OpenAI SDK, to its first `response.output_text.delta`."""
    started = time.perf_counter()
    first = None
    with sdk.responses.stream(model=MODEL, input="a question for the bench") as events:
        for event in events:
            if first is None and event.type == "response.output_text.delta":
                first = time.perf_counter() - started
    assert first is not None, "no output_text.delta"
    return first * 1000


def _messages_first_token(sdk: anthropic.Anthropic) -> float:
    """POST /v1/messages with the Anthropic SDK, to its first `text_delta`."""
    started = time.perf_counter()
    first = None
    with sdk.messages.stream(
        model=MODEL, max_tokens=200, messages=[{"role": "user", "content": "a question for the bench"}]
    ) as events:
        for event in events:
            if first is None and event.type == "content_block_delta" and event.delta.type == "text_delta":
                first = time.perf_counter() - started
    assert first is not None, "no text_delta"
    return first * 1000


def run(report: Report, providers: ProviderServer, provider_env: dict[str, str]) -> None:
    os.environ.update(provider_env)
    server = LocalServer(free_port()).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            headers = {"Authorization": f"Bearer {mint('bench-stream', brands=['acme'])}"}
            created = http.post(
                "/v1/conversations", json={"model": MODEL, "brand_id": "acme"}, headers=headers
            )
            url = f"/v1/conversations/{created.json()['conversation']['id']}/messages"
            _parley_first_token(http, url, headers)  # starts the container: the figures are warm
            sdk = openai.OpenAI(api_key=OPENAI_KEY, base_url=providers.openai_url, max_retries=0)
            token = headers["Authorization"].removeprefix("Bearer ")
            compatible = openai.OpenAI(api_key=token, base_url=f"{server.url}/v1", max_retries=0)
            claude = anthropic.Anthropic(base_url=server.url, auth_token=token, api_key=None, max_retries=0)
            # POST /v1/chat/completions, /v1/responses and /v1/messages with their SDKs, timed the
            # same way (warm, as above).
            _provider_first_token(compatible)
            _responses_first_token(compatible)
            _messages_first_token(claude)
            provider, parley, through_openai_route, responses, messages = [], [], [], [], []
            for _ in range(REQUESTS):
                provider.append(_provider_first_token(sdk))
                parley.append(_parley_first_token(http, url, headers))
                through_openai_route.append(_provider_first_token(compatible))
                responses.append(_responses_first_token(compatible))
                messages.append(_messages_first_token(claude))
            sdk.close()
            compatible.close()
            claude.close()
    finally:
        server.stop()
    provider_ms, parley_ms = statistics.median(provider), statistics.median(parley)
    openai_route_ms = statistics.median(through_openai_route)
    report.figure("stream.first_token.openai_route", openai_route_ms, "ms", requests=REQUESTS, model=MODEL)
    report.figure(
        "stream.first_token.added_by_openai_route",
        openai_route_ms - provider_ms,
        "ms",
        requests=REQUESTS,
        note="POST /v1/chat/completions with the OpenAI SDK, minus the SDK straight from the provider server",
    )
    for route, figures, client in (
        ("responses", responses, "POST /v1/responses with the OpenAI SDK"),
        ("messages", messages, "POST /v1/messages with the Anthropic SDK"),
    ):
        route_ms = statistics.median(figures)
        report.figure(f"stream.first_token.{route}_route", route_ms, "ms", requests=REQUESTS, model=MODEL)
        report.figure(
            f"stream.first_token.added_by_{route}_route",
            route_ms - provider_ms,
            "ms",
            requests=REQUESTS,
            note=f"{client} (the model behind it: {MODEL}), minus the OpenAI SDK straight from the provider",
        )
    report.figure("stream.first_token.provider", provider_ms, "ms", requests=REQUESTS, model=MODEL)
    report.figure("stream.first_token.parley", parley_ms, "ms", requests=REQUESTS, model=MODEL)
    report.figure(
        "stream.first_token.added_by_parley",
        parley_ms - provider_ms,
        "ms",
        requests=REQUESTS,
        note="median through the local gateway minus the median straight from the provider server",
    )
