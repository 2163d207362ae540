"""The real local model (SmolLM2-135M-Instruct on llama.cpp) behind Parley as the endpoint
`local`: a chat, a stream and a RAG answer, each through a real client. Its words are its own,
so the tests assert the shape of what it says, never the words."""

from __future__ import annotations

import json
import os
import uuid

import httpx
import openai
import pytest

from local.local_model import MODEL, LocalModel, with_local_endpoint
from local.token import mint
from parley.config import settings_from
from parley.providers.credentials import default_model
from tests.conftest import LocalStack, TokenFactory

pytestmark = pytest.mark.integration


@pytest.fixture
def local(local_model: LocalModel, monkeypatch: pytest.MonkeyPatch) -> LocalModel:
    monkeypatch.setenv("OPENAI_COMPATIBLE_ENDPOINTS", with_local_endpoint("", local_model.url))
    monkeypatch.setenv("PROVIDER_TIMEOUT_SECONDS", "25")  # one CPU thread, shared with the suite
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "DEFAULT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return local_model


@pytest.fixture
def client(local_stack: LocalStack) -> openai.OpenAI:
    token = mint("local-user", [f"lm-{uuid.uuid4().hex[:8]}"])
    return openai.OpenAI(base_url=f"{local_stack.url}/v1", api_key=token, max_retries=0, timeout=60)


def test_with_no_provider_key_the_local_model_is_the_default(local: LocalModel) -> None:
    assert default_model(settings_from(os.environ)) == MODEL


def test_the_local_model_answers_a_chat_with_usage(client: openai.OpenAI, local: LocalModel) -> None:
    answer = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "What is the capital of France?"}], max_tokens=24
    )

    choice = answer.choices[0]
    assert choice.message.content and choice.message.content.strip()
    assert choice.finish_reason in ("stop", "length")
    assert answer.usage is not None and answer.usage.prompt_tokens > 5 and answer.usage.completion_tokens > 0
    assert answer.model == "smollm2-135m-instruct"  # the model that answered, as the server names it


def test_a_conversation_streams_the_local_models_answer_in_pieces(
    api: httpx.Client, auth: TokenFactory, local: LocalModel
) -> None:
    headers = auth("local-streamer")
    conversation = api.post("/v1/conversations", json={}, headers=headers).json()["conversation"]
    assert conversation["model"] == MODEL  # the default with no key

    with api.stream(
        "POST",
        f"/v1/conversations/{conversation['id']}/messages",
        json={"role": "user", "content": "Name three colors.", "mode": "chat-completion", "stream": True},
        headers=headers,
    ) as response:
        body = "".join(response.iter_text())

    assert response.status_code == 200
    events = [line.removeprefix("event: ") for line in body.splitlines() if line.startswith("event: ")]
    assert events.count("delta") > 1 and events[-1] == "done"
    done = json.loads(body.rsplit("data: ", 1)[1].split("\n", 1)[0])
    reply = done["assistant_message"]
    assert reply["content"].strip() and reply["token_usage"]["completion_tokens"] > 0
    assert reply["metadata"]["requested_model"] == MODEL


def test_the_local_model_answers_from_retrieved_documents(
    api: httpx.Client, auth: TokenFactory, local: LocalModel
) -> None:
    headers = auth("local-reader", brands=["acme"])
    scope = f"lm-{uuid.uuid4().hex[:8]}"
    document = {
        "brand_id": "acme",
        "rag_scope": scope,
        "document_id": "vacation",
        "title": "Vacation",
        "content": "Every employee gets 25 vacation days a year. Unused days expire in March.",
    }
    assert api.post("/v1/ai/documents", json={"documents": [document]}, headers=headers).status_code == 201

    response = api.post(
        "/v1/ai/chat",
        json={
            "messages": [{"role": "user", "content": "How many vacation days do I get?"}],
            "brand_id": "acme",
            "user_id": "local-reader",
            "rag_scope": scope,  # no model: the document's enum names no endpoint's; the default answers
        },
        headers=headers,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["content"].strip() and body["rag_context"][0]["id"] == "vacation:0"
    assert body["usage"]["completion_tokens"] > 0
