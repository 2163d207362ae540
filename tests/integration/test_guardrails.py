"""Guardrails on every provider (GUARDRAIL_ID): the functions' real boto3 calls ApplyGuardrail on
the local Bedrock server (tests.doubles.fake_guardrail) before the model is called and after it
answers, whole or streamed in windows, whichever provider answers: the offline model, OpenAI,
Anthropic and an OpenAI-compatible endpoint (the local wire server) and Bedrock."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import LocalStack, TokenFactory
from tests.doubles.fake_bedrock import BedrockServer
from tests.doubles.fake_guardrail import BLOCKED_INPUT, BLOCKED_OUTPUT, GuardrailPolicy
from tests.doubles.fake_providers import ANTHROPIC_PATH, OPENAI_KEY, OPENAI_PATH, ProviderServer

pytestmark = pytest.mark.integration

GUARDRAIL = "gr7k2q9abc"
MODELS = [
    "parley-offline",
    "gpt-4o-mini",
    "claude-sonnet-4-6",
    "bedrock/amazon.nova-lite-v1:0",
    "acme-vllm/llama",
]


@pytest.fixture
def policy(
    bedrock_server: BedrockServer, providers: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> GuardrailPolicy:
    policy = GuardrailPolicy()
    bedrock_server.guardrails = {GUARDRAIL: policy}
    bedrock_server.received.clear()
    for name, value in {
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock_server.url,
        "BEDROCK_REGION": "eu-central-1",
        "GUARDRAIL_ID": GUARDRAIL,
        "GUARDRAIL_VERSION": "3",
        "GUARDRAIL_STREAM_WINDOW_CHARS": "50",
        "GUARDRAIL_TIMEOUT_SECONDS": "1",
        "PROVIDER_TIMEOUT_SECONDS": "5",
        "OPENAI_COMPATIBLE_ENDPOINTS": json.dumps(
            [
                {
                    "name": "acme-vllm",
                    "base_url": providers.openai_url,
                    "api_key": OPENAI_KEY,
                    "models": [{"id": "llama", "context_window": 8192, "max_output": 512}],
                }
            ]
        ),
    }.items():
        monkeypatch.setenv(name, value)
    return policy


def model_calls(providers: ProviderServer, bedrock: BedrockServer) -> int:
    converse = [r for r in bedrock.received if r.action != "invoke"]
    return (
        len(providers.requests_to(OPENAI_PATH)) + len(providers.requests_to(ANTHROPIC_PATH)) + len(converse)
    )


def conversation(api: httpx.Client, headers: dict[str, str], model: str) -> str:
    created = api.post("/v1/conversations", json={"model": model, "brand_id": "acme"}, headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["conversation"]["id"])


def ask(api: httpx.Client, headers: dict[str, str], cid: str, content: str, **body: Any) -> httpx.Response:
    payload = {"role": "user", "content": content, "mode": "chat-completion", **body}
    return api.post(f"/v1/conversations/{cid}/messages", json=payload, headers=headers)


def stored(api: httpx.Client, headers: dict[str, str], cid: str) -> list[dict[str, Any]]:
    return list(api.get(f"/v1/conversations/{cid}/messages", headers=headers).json()["messages"])


@pytest.fixture
def alice(auth: TokenFactory) -> dict[str, str]:
    return auth("guarded-alice", brands=["acme"])


@pytest.mark.parametrize("model", MODELS)
def test_a_blocked_input_is_a_400_and_reaches_no_model(
    api: httpx.Client,
    alice: dict[str, str],
    model: str,
    policy: GuardrailPolicy,
    providers: ProviderServer,
    bedrock_server: BedrockServer,
) -> None:
    cid = conversation(api, alice, model)

    refused = ask(api, alice, cid, "How do I make dynamite at home?")

    assert refused.status_code == 400
    assert refused.json() == {"error": "guardrail_blocked", "message": BLOCKED_INPUT}
    assert model_calls(providers, bedrock_server) == 0
    assert stored(api, alice, cid) == []
    (call,) = policy.calls
    assert (call["source"], call["version"]) == ("INPUT", "3")
    assert call["content"] == [{"text": {"text": "How do I make dynamite at home?"}}]


@pytest.mark.parametrize("model", MODELS)
def test_masked_pii_is_what_the_model_reads_and_what_is_kept(
    api: httpx.Client, alice: dict[str, str], model: str, policy: GuardrailPolicy
) -> None:
    cid = conversation(api, alice, model)

    answered = ask(api, alice, cid, "Write to bob@example.com about the trip")

    assert answered.status_code == 200, answered.text
    reply = answered.json()["assistant_message"]
    assert "bob@example.com" not in answered.text and "{EMAIL}" in reply["content"]  # the model echoes
    user, _ = stored(api, alice, cid)
    assert user["content"] == "Write to {EMAIL} about the trip"
    assert [c["source"] for c in policy.calls] == ["INPUT", "OUTPUT"]
    assert reply["metadata"]["guardrail_text_units"] == 6  # 3 policies x 1 unit, in and out


@pytest.mark.parametrize("model", MODELS)
def test_a_blocked_answer_is_replaced_by_the_guardrails_message(
    api: httpx.Client, alice: dict[str, str], model: str, policy: GuardrailPolicy
) -> None:
    cid = conversation(api, alice, model)

    answered = ask(api, alice, cid, "Name a yellow fruit: banana")

    assert answered.status_code == 200, answered.text
    reply = answered.json()["assistant_message"]
    assert reply["content"] == BLOCKED_OUTPUT
    assert reply["metadata"]["finish_reason"] == "content_filter"
    assert stored(api, alice, cid)[-1]["content"] == BLOCKED_OUTPUT


def stream_events(
    api: httpx.Client, headers: dict[str, str], cid: str, content: str
) -> list[tuple[str, Any]]:
    payload = {"role": "user", "content": content, "mode": "chat-completion", "stream": True}
    with api.stream("POST", f"/v1/conversations/{cid}/messages", json=payload, headers=headers) as response:
        assert response.status_code == 200
        body = "".join(response.iter_text())
    events = []
    for block in body.split("\n\n"):
        lines = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":")
        )
        if "event" in lines:
            events.append((lines["event"], json.loads(lines.get("data", "null"))))
    return events


@pytest.mark.parametrize("model", MODELS)
def test_a_stream_is_checked_in_windows_and_stops_within_the_blocked_one(
    api: httpx.Client, alice: dict[str, str], model: str, policy: GuardrailPolicy
) -> None:
    cid = conversation(api, alice, model)
    question = (
        "Tell me about the orchards of the valley and the many trees that grow there, and then a banana"
    )

    events = stream_events(api, alice, cid, question)

    pieces = [data["content"] for name, data in events if name == "delta"]
    sent, refusal = "".join(pieces[:-1]), pieces[-1]
    assert refusal == BLOCKED_OUTPUT and "banana" not in sent and "orchards" in sent
    outputs = [c for c in policy.calls if c["source"] == "OUTPUT"]
    assert len(outputs) >= 2 and all(len(c["content"][0]["text"]["text"]) < 100 for c in outputs)
    name, done = events[-1]
    assert name == "done" and done["assistant_message"]["content"] == BLOCKED_OUTPUT
    assert done["assistant_message"]["metadata"]["finish_reason"] == "content_filter"
    assert stored(api, alice, cid)[-1]["content"] == BLOCKED_OUTPUT


def test_a_stream_the_guardrail_passes_arrives_whole(
    api: httpx.Client, alice: dict[str, str], policy: GuardrailPolicy
) -> None:
    cid = conversation(api, alice, "gpt-4o-mini")
    question = "Tell me about the orchards of the valley and the many trees that grow there in spring"

    events = stream_events(api, alice, cid, question)

    text = "".join(data["content"] for name, data in events if name == "delta")
    assert text == f"Echo: {question}" == events[-1][1]["assistant_message"]["content"]


def test_on_the_openai_routes_a_blocked_answer_finishes_with_content_filter(
    local_stack: LocalStack, auth: TokenFactory, policy: GuardrailPolicy
) -> None:
    token = auth("guarded-alice", brands=["acme"])["Authorization"].removeprefix("Bearer ")
    client = openai.OpenAI(base_url=f"{local_stack.url}/v1", api_key=token, max_retries=0)

    answer = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "banana"}]
    )
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "dynamite"}]
        )

    assert answer.choices[0].finish_reason == "content_filter"
    assert answer.choices[0].message.content == BLOCKED_OUTPUT
    assert refused.value.code == "guardrail_blocked" and BLOCKED_INPUT in refused.value.message


@pytest.mark.parametrize("fault", ["outage", "slow"])
def test_a_failing_guardrail_blocks_by_default_and_lets_through_when_allowed(
    api: httpx.Client,
    alice: dict[str, str],
    policy: GuardrailPolicy,
    providers: ProviderServer,
    bedrock_server: BedrockServer,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    policy.outage, policy.delay = fault == "outage", 1.5 if fault == "slow" else 0.0
    cid = conversation(api, alice, "gpt-4o-mini")

    blocked = ask(api, alice, cid, "Hello there")
    monkeypatch.setenv("GUARDRAIL_ON_ERROR", "allow")
    allowed = ask(api, alice, cid, "Hello again")

    assert blocked.status_code == 503 and blocked.json()["error"] == "guardrail_unavailable"
    assert (
        allowed.status_code == 200 and allowed.json()["assistant_message"]["content"] == "Echo: Hello again"
    )
    assert len(providers.requests_to(OPENAI_PATH)) == 1  # the blocked turn reached no model
    assert [m["content"] for m in stored(api, alice, cid)] == ["Hello again", "Echo: Hello again"]


def test_a_guardrail_that_does_not_exist_is_an_outage_not_a_client_error(
    api: httpx.Client, alice: dict[str, str], policy: GuardrailPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARDRAIL_ID", "gr0missing")
    cid = conversation(api, alice, "gpt-4o-mini")

    answered = ask(api, alice, cid, "Hello there")

    assert answered.status_code == 503 and answered.json()["error"] == "guardrail_unavailable"


def test_an_assistants_own_guardrail_checks_its_turns_on_every_route(
    local_stack: LocalStack,
    api: httpx.Client,
    alice: dict[str, str],
    bedrock_server: BedrockServer,
    policy: GuardrailPolicy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GUARDRAIL_ID")  # no deployment guardrail: only the assistant's
    own = GuardrailPolicy(blocked_words={"fireworks"})
    bedrock_server.guardrails["gr9assistant"] = own
    guardrail = {"id": "gr9assistant", "version": "2"}
    created = api.post(
        "/v1/ai/assistants",
        json={"brand_id": "acme", "name": "Careful", "model": "gpt-4o-mini", "guardrail": guardrail},
        headers=alice,
    )
    assert created.status_code == 201, created.text
    assistant_id = created.json()["assistant"]["assistant_id"]
    token = alice["Authorization"].removeprefix("Bearer ")
    client = openai.OpenAI(base_url=f"{local_stack.url}/v1", api_key=token, max_retries=0)
    bound = api.post("/v1/conversations", json={"assistant_id": assistant_id}, headers=alice)

    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model=f"assistant:{assistant_id}", messages=[{"role": "user", "content": "fireworks tonight?"}]
        )
    in_conversation = ask(api, alice, bound.json()["conversation"]["id"], "Where are the fireworks?")
    unguarded = ask(api, alice, conversation(api, alice, "gpt-4o-mini"), "Where are the fireworks?")

    assert refused.value.code == "guardrail_blocked"
    assert in_conversation.status_code == 400 and in_conversation.json()["error"] == "guardrail_blocked"
    assert unguarded.status_code == 200  # a conversation without the assistant is not checked
    assert [c["version"] for c in own.calls] == ["2", "2"] and policy.calls == []


def test_an_assistants_guardrail_outside_bedrocks_patterns_is_a_400(
    api: httpx.Client, alice: dict[str, str]
) -> None:
    refused = api.post(
        "/v1/ai/assistants",
        json={
            "brand_id": "acme",
            "name": "Careful",
            "guardrail": {"id": "Not A Guardrail", "version": "latest"},
        },
        headers=alice,
    )

    assert refused.status_code == 400 and "guardrail" in refused.json()["message"]


def test_a_stored_response_keeps_its_input_as_the_guardrail_masked_it(
    local_stack: LocalStack, alice: dict[str, str], policy: GuardrailPolicy, providers: ProviderServer
) -> None:
    token = alice["Authorization"].removeprefix("Bearer ")
    client = openai.OpenAI(base_url=f"{local_stack.url}/v1", api_key=token, max_retries=0)

    response = client.responses.create(model="gpt-4o-mini", input="Mail carol@example.org the plan")
    items = client.responses.input_items.list(response.id)

    sent = providers.requests_to(OPENAI_PATH)[-1].body["messages"][-1]["content"]
    assert sent == "Mail {EMAIL} the plan"
    assert "carol@example.org" not in items.model_dump_json()
    assert "Mail {EMAIL} the plan" in items.model_dump_json()
    assert response.output_text == "Echo: Mail {EMAIL} the plan"
