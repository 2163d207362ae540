"""What Parley writes to its logs and metrics: JSON lines carrying the API Gateway request id as
correlation id, EMF metrics for tokens, cost and latency per model and brand and for errors by
code, and never a token, an API key or a message's content."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.token import mint
from parley.observability import logger
from tests.doubles.fake_providers import (
    ANTHROPIC_KEY,
    OPENAI_KEY,
    OPENAI_PATH,
    ProviderServer,
    Scripted,
    openai_error,
)

pytestmark = pytest.mark.integration

SECRET_CONTENT = "my-confidential-plan-7431"


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """What Parley's logger writes (at INFO, as deployed), whatever stream it was given at import."""
    buffer, level = io.StringIO(), logger.log_level
    handler = logger.registered_handler
    stream = handler.setStream(buffer)  # type: ignore[attr-defined]
    logger.setLevel("INFO")
    yield buffer
    logger.setLevel(level)
    handler.setStream(stream)  # type: ignore[attr-defined]


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            lines.append(parsed)
    return lines


def metrics_named(lines: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [line for line in lines if "_aws" in line and name in line]


def test_logs_and_metrics_carry_what_operations_need_and_no_secrets(
    api: httpx.Client, providers: ProviderServer, capfd: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    token = mint("observer", ["acme"])
    headers = {"Authorization": f"Bearer {token}"}
    conversation = api.post(
        "/v1/conversations", json={"model": "gpt-4o", "brand_id": "acme"}, headers=headers
    )
    url = f"/v1/conversations/{conversation.json()['conversation']['id']}/messages"
    capfd.readouterr()

    answered = api.post(
        url, json={"role": "user", "content": SECRET_CONTENT, "mode": "chat-completion"}, headers=headers
    )
    providers.script(
        OPENAI_PATH,
        *[Scripted(status=500, body=openai_error("boom", "server_error"), headers={"retry-after-ms": "10"})]
        * 3,
    )
    failed = api.post(
        url, json={"role": "user", "content": SECRET_CONTENT, "mode": "chat-completion"}, headers=headers
    )
    refused = api.get("/v1/conversations", headers={"Authorization": "Bearer not-a-token"})

    output = capfd.readouterr()
    everything = output.out + output.err + logs.getvalue()
    lines = json_lines(everything)
    assert answered.status_code == 200 and failed.status_code == 502 and refused.status_code == 401
    assert "Traceback" not in everything  # an expected refusal (the 401) is one line, not a stack
    assert any("Exception: Unauthorized" in line for line in everything.splitlines())

    tokens = metrics_named(lines, "PromptTokens")
    assert tokens and tokens[0]["model"] == "gpt-4o-2024-08-06" and tokens[0]["brand"] == "acme"
    assert sum(tokens[0]["PromptTokens"]) > 0 and "CostUSD" in tokens[0] and "ProviderLatency" in tokens[0]
    assert [m["code"] for m in metrics_named(lines, "Errors")] == ["provider_error"]

    failure_logs = [line for line in lines if line.get("message") == "request failed"]
    assert failure_logs and failure_logs[0]["correlation_id"] == failed.headers["x-amzn-RequestId"]
    function_logs = [
        line
        for line in lines
        if "level" in line and line.get("service") == "parley" and "function_request_id" in line
    ]
    assert function_logs and all("correlation_id" in line for line in function_logs)

    for secret in (token, OPENAI_KEY, ANTHROPIC_KEY, SECRET_CONTENT):
        assert secret not in everything
