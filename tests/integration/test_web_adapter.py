"""The streaming functions' web app as the Lambda Web Adapter calls it in AWS: an HTTP request
carrying the API Gateway request context and the Lambda context in `x-amzn-*` headers, answered
by the function's own stream handler, chunk by chunk."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.dynamodb import free_port
from local.lambda_runtime import load_handler
from local.template import load
from parley.edge.web_adapter import READY_PATH, api_gateway_event, path_parameters, serve
from tests.conftest import LocalStack

pytestmark = pytest.mark.integration

CALLER = {
    "sub": "adapter-user",
    "brands": json.dumps(["acme"]),
    "scope": "conversations:read conversations:write ai:chat",
}


@pytest.fixture
def web_app(local_stack: LocalStack, api: httpx.Client) -> Iterator[str]:
    """The conversation-append function served by parley.edge.web_adapter, in this process."""
    spec = load().functions["ConversationMessagesAppendFunction"]
    assert spec.streaming and spec.stream_handler == "app.stream_handler"
    port = free_port()
    threading.Thread(target=serve, args=(load_handler(spec, streaming=True), port), daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + READY_PATH, timeout=1)
            break
        except httpx.TransportError:
            threading.Event().wait(0.05)
    yield url


def adapter_headers(resource: str, method: str = "POST") -> dict[str, str]:
    context = {
        "resourcePath": resource,
        "httpMethod": method,
        "requestId": str(uuid.uuid4()),
        "stage": "dev",
        "identity": {"sourceIp": "127.0.0.1"},
        "authorizer": CALLER,
    }
    lambda_context = {
        "request_id": str(uuid.uuid4()),
        "deadline": 0,
        "invoked_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:append",
        "env_config": {"function_name": "append", "memory": 1024, "version": "$LATEST"},
    }
    return {
        "x-amzn-request-context": json.dumps(context),
        "x-amzn-lambda-context": json.dumps(lambda_context),
    }


def test_the_readiness_path_answers_before_any_invocation(web_app: str) -> None:
    assert httpx.get(web_app + READY_PATH).status_code == 200


def test_an_invocation_streams_its_events_with_the_callers_identity(web_app: str, api: httpx.Client) -> None:
    from local.token import mint

    token = {"Authorization": f"Bearer {mint('adapter-user', brands=['acme'])}"}
    conversation_id = api.post("/v1/conversations", json={"brand_id": "acme"}, headers=token).json()[
        "conversation"
    ]["id"]

    with httpx.stream(
        "POST",
        f"{web_app}/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "content": "hello", "mode": "chat-completion", "stream": True},
        headers=adapter_headers("/v1/conversations/{conversation_id}/messages"),
    ) as response:
        text = "".join(response.iter_text())

    assert response.status_code == 200 and response.headers["transfer-encoding"] == "chunked"
    assert response.headers["content-type"].startswith("text/event-stream")
    assert text.count("event: delta") > 1 and "event: done" in text
    stored = api.get(f"/v1/conversations/{conversation_id}/messages", headers=token).json()
    assert stored["total"] == 2


def test_a_request_without_a_caller_is_refused_as_json(web_app: str) -> None:
    headers = adapter_headers("/v1/conversations/{conversation_id}/messages")
    context = json.loads(headers["x-amzn-request-context"])
    context.pop("authorizer")
    headers["x-amzn-request-context"] = json.dumps(context)

    response = httpx.post(
        f"{web_app}/v1/conversations/{uuid.uuid4()}/messages",
        json={"role": "user", "content": "hello", "mode": "chat-completion", "stream": True},
        headers=headers,
    )

    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


def test_the_event_rebuilt_from_the_request_is_api_gateways() -> None:
    event: dict[str, Any] = api_gateway_event(
        "POST",
        "/v1/conversations/abc%2Fdef/messages?limit=5&limit=6",
        {"Accept": ["text/event-stream"]},
        b'{"x": 1}',
        {"resourcePath": "/v1/conversations/{conversation_id}/messages"},
    )

    assert event["pathParameters"] == {"conversation_id": "abc/def"}
    assert event["queryStringParameters"] == {"limit": "6"}
    assert event["multiValueQueryStringParameters"] == {"limit": ["5", "6"]}
    assert event["headers"] == {"Accept": "text/event-stream"} and event["body"] == '{"x": 1}'
    assert path_parameters("/v1/ai/chat", "/v1/ai/chat") is None
