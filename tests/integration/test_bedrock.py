"""Amazon Bedrock through the local gateway: the functions' real boto3 against a server that
speaks Converse, ConverseStream (the AWS event-stream framing) and Titan embeddings, checks the
requests are SigV4-signed for the configured region, and plays throttling and failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TokenFactory
from tests.doubles.fake_bedrock import TITAN, BedrockScript, BedrockServer

pytestmark = pytest.mark.integration

NOVA = "bedrock/amazon.nova-lite-v1:0"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
def bedrock(bedrock_server: BedrockServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[BedrockServer]:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock_server.url)
    monkeypatch.setenv("BEDROCK_REGION", "eu-central-1")
    monkeypatch.setenv("PROVIDER_TIMEOUT_SECONDS", "5")
    bedrock_server.received.clear()
    bedrock_server.scripts.clear()
    yield bedrock_server
    monkeypatch.undo()


@pytest.fixture
def alice(auth: TokenFactory) -> dict[str, str]:
    return auth("alice", brands=["acme"])


def conversation(api: httpx.Client, headers: dict[str, str], **body: object) -> str:
    response = api.post(
        "/v1/conversations", json={"model": NOVA, "brand_id": "acme", **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["conversation"]["id"])


def ask(api: httpx.Client, headers: dict[str, str], conversation_id: str, **body: object) -> httpx.Response:
    payload = {"role": "user", "content": "Hello Nova", "mode": "chat-completion", **body}
    return api.post(f"/v1/conversations/{conversation_id}/messages", json=payload, headers=headers)


def test_nova_lite_answers_through_converse_with_the_system_prompt_apart(
    api: httpx.Client, alice: dict[str, str], bedrock: BedrockServer
) -> None:
    conversation_id = conversation(api, alice, system_prompt="You are terse.")

    response = ask(api, alice, conversation_id)

    assert response.status_code == 200, response.text
    reply = response.json()["assistant_message"]
    assert reply["content"] == "Echo: Hello Nova"
    (sent,) = bedrock.received
    assert (sent.model, sent.action, sent.region) == ("amazon.nova-lite-v1:0", "converse", "eu-central-1")
    cache_point = {"cachePoint": {"type": "default"}}  # Nova caches prompts: after the system and the turns
    assert sent.body["system"] == [{"text": "You are terse."}, cache_point]
    assert sent.body["messages"] == [{"role": "user", "content": [{"text": "Hello Nova"}, cache_point]}]
    assert reply["token_usage"] == {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
    assert reply["metadata"]["finish_reason"] == "stop" and reply["metadata"]["model"] == NOVA
    assert reply["metadata"]["cost_usd"] == pytest.approx((12 * 0.06 + 3 * 0.24) / 1e6)


def test_a_tool_round_trip_on_bedrock_keeps_the_tool_use_id(
    api: httpx.Client, alice: dict[str, str], bedrock: BedrockServer
) -> None:
    conversation_id = conversation(api, alice)

    asked = ask(
        api, alice, conversation_id, content="Weather in Bonn?", tools=[WEATHER], tool_choice="required"
    )
    (call,) = asked.json()["assistant_message"]["tool_calls"]
    answered = ask(api, alice, conversation_id, role="tool", content="12C", tool_call_id=call["id"])

    assert asked.json()["assistant_message"]["metadata"]["finish_reason"] == "tool_calls"
    assert call["id"].startswith("tooluse_") and call["function"]["name"] == "get_weather"
    first, second = bedrock.received
    assert first.body["toolConfig"]["toolChoice"] == {"any": {}}
    assert first.body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"] == {
        "json": WEATHER["function"]["parameters"]
    }  # type: ignore[index]
    assert second.body["messages"][-2]["content"][-1]["toolUse"]["toolUseId"] == call["id"]
    assert second.body["messages"][-1]["content"][0] == {
        "toolResult": {"toolUseId": call["id"], "content": [{"text": "12C"}]}
    }
    assert first.body["toolConfig"]["tools"][-1] == {"cachePoint": {"type": "default"}}
    assert answered.json()["assistant_message"]["content"] == "Echo: tool said 12C"


def test_a_streamed_answer_comes_through_converse_stream_with_the_same_usage(
    api: httpx.Client, alice: dict[str, str], bedrock: BedrockServer
) -> None:
    streamed_id, whole_id = conversation(api, alice), conversation(api, alice)

    with api.stream(
        "POST",
        f"/v1/conversations/{streamed_id}/messages",
        json={"role": "user", "content": "Hello Nova", "mode": "chat-completion", "stream": True},
        headers=alice,
    ) as response:
        data = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    whole = ask(api, alice, whole_id).json()["assistant_message"]

    assert [r.action for r in bedrock.received] == ["converse-stream", "converse"]
    assert "".join(d["content"] for d in data[:-1]) == "Echo: Hello Nova" and len(data) > 2
    assert data[-1]["assistant_message"]["token_usage"] == whole["token_usage"]


def test_throttling_is_retried_by_boto3_then_a_502(
    api: httpx.Client, alice: dict[str, str], bedrock: BedrockServer
) -> None:
    conversation_id = conversation(api, alice)
    bedrock.script(BedrockScript(status=429, error_type="ThrottlingException"))

    recovered = ask(api, alice, conversation_id)
    bedrock.script(*[BedrockScript(status=429, error_type="ThrottlingException")] * 3)
    refused = ask(api, alice, conversation_id)

    assert recovered.status_code == 200
    assert refused.status_code == 502 and refused.json()["error"] == "provider_error"
    assert "ThrottlingException" in refused.json()["message"]
    assert len(bedrock.received) == 2 + 3  # one retry, then three attempts
    total = api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice).json()["total"]
    assert total == 2


def test_a_throttling_exception_mid_stream_ends_with_an_error_event_and_stores_nothing(
    api: httpx.Client, alice: dict[str, str], bedrock: BedrockServer
) -> None:
    conversation_id = conversation(api, alice)
    bedrock.script(BedrockScript(fail_after=1))

    with api.stream(
        "POST",
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "content": "one two three", "mode": "chat-completion", "stream": True},
        headers=alice,
    ) as response:
        events = [line[7:] for line in response.iter_lines() if line.startswith("event: ")]

    assert events == ["delta", "error"]
    assert api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice).json()["total"] == 0


def test_a_guardrail_is_sent_and_its_intervention_is_stored_as_such(
    api: httpx.Client, alice: dict[str, str], bedrock: BedrockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEDROCK_GUARDRAIL_ID", "gr-123")
    monkeypatch.setenv("BEDROCK_GUARDRAIL_VERSION", "2")
    conversation_id = conversation(api, alice)
    bedrock.script(BedrockScript(stop_reason="guardrail_intervened"))

    reply = ask(api, alice, conversation_id).json()["assistant_message"]

    assert bedrock.received[0].body["guardrailConfig"] == {
        "guardrailIdentifier": "gr-123",
        "guardrailVersion": "2",
        "trace": "enabled",
    }
    assert reply["metadata"]["finish_reason"] == "content_filter"
    assert reply["metadata"]["guardrail_intervened"] is True and reply["metadata"]["guardrail_trace"]


def test_cache_tokens_bedrock_reports_are_kept_in_metadata(
    api: httpx.Client, alice: dict[str, str], bedrock: BedrockServer
) -> None:
    conversation_id = conversation(api, alice)
    bedrock.script(BedrockScript(usage={"cacheReadInputTokens": 100, "cacheWriteInputTokens": 20}))

    reply = ask(api, alice, conversation_id).json()["assistant_message"]

    assert reply["metadata"]["cached_tokens"] == 100 and reply["metadata"]["cache_write_tokens"] == 20
    assert reply["token_usage"]["prompt_tokens"] == 12 + 100 + 20


def test_titan_embeddings_ingest_and_retrieve(
    api: httpx.Client,
    alice: dict[str, str],
    bedrock: BedrockServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "titan")
    monkeypatch.setenv("RAG_TITAN_DIMENSIONS", "512")
    monkeypatch.setenv("RAG_LOCAL_PATH", str(tmp_path / "titan.sqlite3"))
    documents = [
        {
            "brand_id": "acme",
            "rag_scope": "titan",
            "document_id": "refunds",
            "content": "Refunds are paid in 14 days.",
        },
        {
            "brand_id": "acme",
            "rag_scope": "titan",
            "document_id": "shipping",
            "content": "Parcels ship within 2 days.",
        },
    ]

    ingested = api.post("/v1/ai/documents", json={"documents": documents}, headers=alice)
    answer = api.post(
        "/v1/ai/chat",
        json={
            "brand_id": "acme",
            "user_id": "alice",
            "rag_scope": "titan",
            "messages": [{"role": "user", "content": "When are refunds paid?"}],
        },
        headers=alice,
    )

    assert ingested.status_code == 201, ingested.text
    invocations = [r for r in bedrock.received if r.action == "invoke"]
    assert {r.model for r in invocations} == {TITAN} and len(invocations) == 3
    assert all(r.body["dimensions"] == 512 and r.body["normalize"] is True for r in invocations)
    assert answer.status_code == 200, answer.text
    assert answer.json()["rag_context"][0]["id"] == "refunds:0"


def test_an_unknown_bedrock_model_is_a_400(api: httpx.Client, alice: dict[str, str]) -> None:
    response = api.post("/v1/conversations", json={"model": "bedrock/not-a-model"}, headers=alice)

    assert response.status_code == 400 and response.json()["error"] == "unknown_model"


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("content_filtered", "content_filter"),
    ],
)
def test_bedrock_stop_reasons_map_to_openai_finish_reasons(
    api: httpx.Client, alice: dict[str, str], bedrock: BedrockServer, stop_reason: str, finish_reason: str
) -> None:
    bedrock.script(BedrockScript(stop_reason=stop_reason))

    reply = ask(api, alice, conversation(api, alice)).json()["assistant_message"]

    assert reply["metadata"]["finish_reason"] == finish_reason
    assert reply["metadata"]["stop_reason"] == stop_reason
