"""The OpenSearch vector store against the stand-in (tests/doubles/fake_opensearch.py), only for
what one local OpenSearch node cannot show; everything OpenSearch itself does (mappings, k-NN with
filters, BM25, _bulk item errors, refresh visibility, a missing index) is tested against a real
node in test_opensearch_node.py. Each test here says which of these it is for:

- Serverless refusals: a custom `_id`, the faiss engine with cosine before k-NN 2.19;
- SigV4: requests signed for the collection's service and region, and refused otherwise;
- load: `_bulk` items rejected with 429, as a busy cluster rejects them, injected at will."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from opensearchpy.exceptions import RequestError

from parley.errors import StoreUnavailable
from parley.rag.opensearch_index import opensearch_client
from parley.rag.opensearch_store import OpenSearchVectorStore
from tests.doubles.fake_opensearch import FakeOpenSearch, SigningKey
from tests.integration.vector_chunks import EMBED, chunks

pytestmark = pytest.mark.integration


@pytest.fixture
def fake() -> Iterator[FakeOpenSearch]:
    server = FakeOpenSearch(refresh_interval=None)  # a test calls refresh() when a second has passed
    yield server
    server.stop()


@pytest.fixture
def store(fake: FakeOpenSearch) -> OpenSearchVectorStore:
    return OpenSearchVectorStore(
        opensearch_client(fake.url, "none", "us-east-1"), "parley-test", EMBED.dimension
    )


def test_bulk_items_rejected_for_load_are_sent_again_without_duplicates(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
    """For load: which items a busy cluster rejects cannot be chosen on a real node."""
    fake.item_rejections.append(
        {1: (429, "es_rejected_execution_exception"), 3: (429, "es_rejected_execution_exception")}
    )

    store.replace_document("acme", "docs", "d", chunks("acme", "docs", "d", [f"part {n}" for n in range(5)]))

    stored = sorted(d["content"] for d in fake.indices["parley-test"].documents.values())
    assert stored == [f"part {n}" for n in range(5)]  # each once: only the rejected two were resent
    resent = [body for body in fake.requests_to("POST", "_bulk") if '"index"' in body.split("\n")[0]]
    assert [len(body.rstrip("\n").split("\n")) for body in resent] == [10, 4]


def test_bulk_rejections_past_the_attempts_are_a_503_and_leave_nothing(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
    """For load: rejections that never stop."""
    fake.item_rejections.extend({0: (429, "es_rejected_execution_exception")} for _ in range(4))

    with pytest.raises(StoreUnavailable):
        store.replace_document("acme", "docs", "d", chunks("acme", "docs", "d", ["a", "b"]))

    assert fake.indices["parley-test"].documents == {}


@pytest.fixture
def signed_collection(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenSearch]:
    """A stand-in that verifies SigV4 as Amazon OpenSearch Serverless does, for known credentials."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSIGNINGTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "signing-test-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    server = FakeOpenSearch(
        SigningKey("AKIDSIGNINGTEST", "signing-test-secret", "eu-west-1", "aoss"), refresh_interval=None
    )
    yield server
    server.stop()


def test_requests_are_signed_with_sigv4_for_the_collection(signed_collection: FakeOpenSearch) -> None:
    """For SigV4: the local node takes no signatures."""
    store = OpenSearchVectorStore(
        opensearch_client(signed_collection.url, "aoss", "eu-west-1"), "parley-test", EMBED.dimension
    )

    store.replace_document("acme", "docs", "d", chunks("acme", "docs", "d", ["signed text"]))
    signed_collection.refresh()
    hits = store.search("acme", "docs", EMBED.embed(["signed text"])[0], top_k=1, threshold=0.0)

    assert [h.content for h in hits] == ["signed text"]


@pytest.mark.parametrize(("service", "region"), [("es", "eu-west-1"), ("aoss", "us-east-1")])
def test_a_request_signed_for_another_service_or_region_is_refused(
    signed_collection: FakeOpenSearch, service: str, region: str
) -> None:
    """For SigV4."""
    store = OpenSearchVectorStore(
        opensearch_client(signed_collection.url, service, region), "parley-test", EMBED.dimension
    )

    with pytest.raises(Exception, match="403"):
        store.replace_document("acme", "docs", "d", chunks("acme", "docs", "d", ["x"]))


def test_a_request_signed_with_another_secret_is_refused(
    signed_collection: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    """For SigV4."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "a-guessed-secret")
    store = OpenSearchVectorStore(
        opensearch_client(signed_collection.url, "aoss", "eu-west-1"), "parley-test", EMBED.dimension
    )

    with pytest.raises(Exception, match="403"):
        store.search("acme", "docs", EMBED.embed(["x"])[0], top_k=1, threshold=0.0)
    assert signed_collection.indices == {}


def test_faiss_with_cosine_is_refused_before_knn_2_19_as_serverless_runs_it(fake: FakeOpenSearch) -> None:
    """For Serverless refusals: its k-NN version; the local node has no faiss libraries at all."""
    store = OpenSearchVectorStore(
        opensearch_client(fake.url, "none", "us-east-1"), "parley-faiss", EMBED.dimension, engine="faiss"
    )

    with pytest.raises(RequestError) as refused:
        store.replace_document("acme", "docs", "d", chunks("acme", "docs", "d", ["x"]))

    assert "does not support space type [cosinesimil]" in json.dumps(refused.value.info)
    assert fake.indices == {}


def test_faiss_with_cosine_is_accepted_from_knn_2_19() -> None:
    """For Serverless refusals: from k-NN 2.19 on."""
    newer = FakeOpenSearch(version=(2, 19))
    try:
        store = OpenSearchVectorStore(
            opensearch_client(newer.url, "none", "us-east-1"), "parley-faiss", EMBED.dimension, engine="faiss"
        )
        store.replace_document("acme", "docs", "d", chunks("acme", "docs", "d", ["x"]))
    finally:
        newer.stop()

    assert "parley-faiss" in newer.indices


def test_a_custom_document_id_is_refused_as_a_vector_collection_refuses_it(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
    """For Serverless refusals: a vector collection takes no ids of ours; a node does."""
    store.ensure_index()
    document = {"embedding": EMBED.embed(["x"])[0], "brand_id": "acme", "content": "x"}
    body = (
        json.dumps({"index": {"_index": "parley-test", "_id": "chosen"}}) + "\n" + json.dumps(document) + "\n"
    )

    answer = store.client.bulk(body=body)

    assert answer["errors"] is True
    assert answer["items"][0]["index"]["error"]["type"] == "illegal_argument_exception"
    assert fake.indices["parley-test"].documents == {}
