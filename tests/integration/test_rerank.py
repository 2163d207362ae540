"""Reranking with Amazon Bedrock's Rerank: the functions' real boto3 against the local Rerank server
(tests.doubles.fake_rerank), which ranks by the share of the question's words a chunk holds, so
its order differs from the fused one in a way a test can predict. Metered per 100 documents; a
failing or slow reranker leaves the fused order, never an error."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from parley.rag.rerank import BedrockReranker, RerankChoice
from parley.rag.vectors import ScoredChunk
from tests.conftest import TokenFactory
from tests.doubles.fake_rerank import RerankFaults, RerankServer

pytestmark = pytest.mark.integration

# The fused search puts the long "travel" chunk first; every word of the question is only in "b".
DOCUMENTS = {
    "a": "Travel and hotel: travel, hotel, travel, hotel.",  # two of the question's words, often
    "b": (  # three of them, once each, among many others
        "Rooms near the venue for the yearly gathering of the partners are arranged well ahead by staff, "
        "who also keep the receipts, the guest lists and the seating plans; the conference fees and "
        "the booking go through the office."
    ),
    "c": "The canteen opens at noon.",
}
QUESTION = "travel hotel conference booking office"


@pytest.fixture(scope="module")
def rerank_server() -> Iterator[RerankServer]:
    server = RerankServer()
    yield server
    server.stop()


@pytest.fixture
def reranking(rerank_server: RerankServer, monkeypatch: pytest.MonkeyPatch) -> RerankServer:
    rerank_server.faults = RerankFaults()
    for name, value in {
        "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME": rerank_server.url,
        "RAG_RERANK_MODEL": "amazon.rerank-v1:0",
        "RAG_RERANK_REGION": "eu-central-1",
        "RAG_RERANK_TOP_N": "5",
        "RAG_RERANK_TIMEOUT_SECONDS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    return rerank_server


@pytest.fixture
def brand(api: httpx.Client, auth: TokenFactory) -> str:
    own = f"rr-{uuid.uuid4().hex[:8]}"
    documents = [
        {"brand_id": own, "rag_scope": "hr", "document_id": name, "content": text}
        for name, text in DOCUMENTS.items()
    ]
    stored = api.post(
        "/v1/ai/documents", json={"documents": documents}, headers=auth("ingester", brands=[own])
    )
    assert stored.status_code == 201, stored.text
    return own


def ask(api: httpx.Client, auth: TokenFactory, brand: str, **body: Any) -> httpx.Response:
    payload = {
        "messages": [{"role": "user", "content": QUESTION}],
        "brand_id": brand,
        "user_id": "reader",
        "rag_scope": "hr",
        "top_k": 2,
        "threshold": 0,
        **body,
    }
    return api.post("/v1/ai/chat", json=payload, headers=auth("reader", brands=[brand]))


def test_without_a_rerank_model_the_fused_order_stands(
    api: httpx.Client, auth: TokenFactory, brand: str, rerank_server: RerankServer
) -> None:
    rerank_server.faults = RerankFaults()
    answered = ask(api, auth, brand)

    assert answered.status_code == 200, answered.text
    assert next(c["id"] for c in answered.json()["rag_context"]) == "a:0"
    assert rerank_server.faults.calls == []


def test_the_reranker_orders_the_fused_top_n_and_its_queries_are_metered(
    api: httpx.Client, auth: TokenFactory, brand: str, reranking: RerankServer
) -> None:
    answered = ask(api, auth, brand)

    assert answered.status_code == 200, answered.text
    context = answered.json()["rag_context"]
    assert [c["id"] for c in context] == ["b:0", "a:0"]  # the reranker's order, top_k of it
    assert context[0]["score"] == pytest.approx(3 / 5)  # its relevance: 3 of the 5 words
    (call,) = reranking.faults.calls
    assert len(call["sources"]) == 3  # the fused top 5, of which the brand has 3
    configuration = call["rerankingConfiguration"]["bedrockRerankingConfiguration"]
    arn = "arn:aws:bedrock:eu-central-1::foundation-model/amazon.rerank-v1:0"
    assert configuration["modelConfiguration"]["modelArn"] == arn
    admin = auth("ops", brands=[brand], scopes=["admin"])
    [day] = api.get("/v1/usage", params={"brand_id": brand}, headers=admin).json()["days"]
    [reranked] = [m for m in day["models"] if m["model"] == "bedrock/amazon.rerank-v1:0"]
    assert reranked["rerank_queries"] == 1 and reranked["cost_usd"] == pytest.approx(0.001)


@pytest.mark.parametrize("fault", ["slow", "failing", "throttled"])
def test_a_slow_or_failing_reranker_leaves_the_fused_order(
    api: httpx.Client, auth: TokenFactory, brand: str, reranking: RerankServer, fault: str
) -> None:
    reranking.faults.delay = 2.0 if fault == "slow" else 0.0  # RAG_RERANK_TIMEOUT_SECONDS is 1
    reranking.faults.status = {"slow": 200, "failing": 500, "throttled": 429}[fault]

    answered = ask(api, auth, brand)

    assert answered.status_code == 200, answered.text
    assert next(c["id"] for c in answered.json()["rag_context"]) == "a:0"
    admin = auth("ops", brands=[brand], scopes=["admin"])
    [day] = api.get("/v1/usage", params={"brand_id": brand}, headers=admin).json()["days"]
    assert not [m for m in day["models"] if m["model"].startswith("bedrock/amazon.rerank")]


def test_a_brand_reranks_with_its_own_model_or_not_at_all_over_the_deployments(
    api: httpx.Client,
    auth: TokenFactory,
    brand: str,
    rerank_server: RerankServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", rerank_server.url)
    monkeypatch.setenv("RAG_RERANK_REGION", "us-east-1")
    monkeypatch.setenv("RAG_RERANK_MODEL", "")  # the deployment reranks nothing
    monkeypatch.setenv(
        "RAG_RERANK_BY_BRAND", f'{{"{brand}": {{"model": "cohere.rerank-v3-5:0", "top_n": 4}}}}'
    )
    rerank_server.faults = RerankFaults()

    own = ask(api, auth, brand)

    assert own.status_code == 200, own.text
    assert next(c["id"] for c in own.json()["rag_context"]) == "b:0"
    (call,) = rerank_server.faults.calls
    model_arn = call["rerankingConfiguration"]["bedrockRerankingConfiguration"]["modelConfiguration"][
        "modelArn"
    ]
    assert model_arn.endswith("cohere.rerank-v3-5:0")

    # The deployment reranks every brand but this one, which turned it off.
    monkeypatch.setenv("RAG_RERANK_MODEL", "cohere.rerank-v3-5:0")
    monkeypatch.setenv("RAG_RERANK_BY_BRAND", f'{{"{brand}": {{"model": ""}}}}')
    rerank_server.faults = RerankFaults()

    off = ask(api, auth, brand)

    assert off.status_code == 200, off.text
    assert next(c["id"] for c in off.json()["rag_context"]) == "a:0"
    assert rerank_server.faults.calls == []


def test_an_assistant_names_its_own_rerank_model_where_the_region_serves_it(
    api: httpx.Client,
    auth: TokenFactory,
    brand: str,
    rerank_server: RerankServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", rerank_server.url)
    monkeypatch.setenv("RAG_RERANK_REGION", "us-east-1")  # Cohere Rerank 3.5 only, of the two
    rerank_server.faults = RerankFaults()
    admin = auth("ops", brands=[brand], scopes=["admin"])
    assistant = {"brand_id": brand, "name": "Ranked", "rag_scope": "hr", "top_k": 2, "threshold": 0}

    refused = api.post(
        "/v1/ai/assistants", json={**assistant, "rerank": {"model": "amazon.rerank-v1:0"}}, headers=admin
    )
    created = api.post(
        "/v1/ai/assistants",
        json={**assistant, "rerank": {"model": "cohere.rerank-v3-5:0", "top_n": 3}},
        headers=admin,
    )
    answered = ask(api, auth, brand, assistant_id=created.json()["assistant"]["assistant_id"])

    assert refused.status_code == 400 and "eu-central-1" in refused.json()["message"]
    assert answered.status_code == 200, answered.text
    assert next(c["id"] for c in answered.json()["rag_context"]) == "b:0"
    (call,) = rerank_server.faults.calls
    model_arn = call["rerankingConfiguration"]["bedrockRerankingConfiguration"]["modelConfiguration"][
        "modelArn"
    ]
    assert model_arn.endswith("us-east-1::foundation-model/cohere.rerank-v3-5:0")


def test_at_most_1000_documents_of_32000_characters_go_and_each_100_is_a_query(
    rerank_server: RerankServer,
) -> None:
    rerank_server.faults = RerankFaults()
    client = boto3.client(
        "bedrock-agent-runtime",
        region_name="us-west-2",
        endpoint_url=rerank_server.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    chunks = [
        ScoredChunk(id=f"d{n}:0", document_id=f"d{n}", content=("word " * 7000) + str(n), score=0.5)
        for n in range(1200)
    ]

    reranked = BedrockReranker(client, "us-west-2").rerank(
        "word 7", chunks, RerankChoice("cohere.rerank-v3-5:0")
    )

    sent = rerank_server.faults.calls[-1]["sources"]
    assert len(sent) == 1000 and not reranked.fell_back
    assert max(len(s["inlineDocumentSource"]["textDocument"]["text"]) for s in sent) == 32_000
    assert reranked.queries == 10 and reranked.cost_usd == pytest.approx(10 * 2.00 / 1000)
