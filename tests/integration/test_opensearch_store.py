"""The OpenSearch vector store, through opensearch-py, against a local server that checks every
request against OpenSearch's documented formats; and the same checks against a real cluster when
OPENSEARCH_URL is set (skipped otherwise)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator

import pytest
from opensearchpy.exceptions import RequestError

from parley.errors import StoreUnavailable
from parley.providers.embedders import HashingEmbedder
from parley.rag.local_store import LocalVectorStore
from parley.rag.opensearch_store import (
    BULK_CHUNKS,
    CANDIDATE_FACTOR,
    OpenSearchVectorStore,
    opensearch_client,
)
from parley.rag.vectors import ChunkRecord, ScoredChunk
from tests.doubles.fake_opensearch import FakeOpenSearch, SigningKey

pytestmark = pytest.mark.integration

EMBED = HashingEmbedder(64)


def chunks(brand: str, scope: str, document: str, texts: list[str]) -> list[ChunkRecord]:
    return [
        ChunkRecord(
            brand_id=brand,
            rag_scope=scope,
            document_id=document,
            chunk_index=n,
            content=text,
            embedding=vector,
        )
        for n, (text, vector) in enumerate(zip(texts, EMBED.embed(texts), strict=True))
    ]


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


def test_the_index_is_created_once_with_a_cosine_hnsw_knn_vector(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
    store.replace_document("acme", "docs", "a", chunks("acme", "docs", "a", ["one"]))
    store.replace_document("acme", "docs", "b", chunks("acme", "docs", "b", ["two"]))

    created = fake.requests_to("PUT", "parley-test")
    assert len(created) == 1
    vector = created[0]["mappings"]["properties"]["embedding"]
    assert vector["type"] == "knn_vector" and vector["dimension"] == 64
    assert vector["method"]["name"] == "hnsw" and vector["method"]["space_type"] == "cosinesimil"


def test_chunks_are_bulk_indexed_in_ndjson_batches(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
    texts = [f"chunk number {n}" for n in range(BULK_CHUNKS * 2 + 10)]

    store.replace_document("acme", "docs", "big", chunks("acme", "docs", "big", texts))

    bulks = [body for body in fake.requests_to("POST", "_bulk") if '"index"' in body.split("\n")[0]]
    assert len(bulks) == 3
    first = bulks[0].rstrip("\n").split("\n")
    assert len(first) == BULK_CHUNKS * 2
    assert json.loads(first[0]) == {"index": {"_index": "parley-test"}}
    assert json.loads(first[1])["brand_id"] == "acme"


def test_reingesting_replaces_every_old_chunk_however_many_without_a_search(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
    old = store.replace_document(
        "acme", "docs", "doc", chunks("acme", "docs", "doc", [f"old {n}" for n in range(1200)])
    )
    store.replace_document("acme", "docs", "keep", chunks("acme", "docs", "keep", ["unrelated"]))

    new = store.replace_document("acme", "docs", "doc", chunks("acme", "docs", "doc", ["new text"]), old)

    remaining = fake.indices["parley-test"].documents
    assert sorted(d["content"] for d in remaining.values()) == ["new text", "unrelated"]
    assert len(old) == 1200 and set(new) <= set(remaining)
    assert fake.requests_to("POST", "_search") == []  # found by id: nothing waited for a refresh


def test_search_is_one_knn_query_with_the_tenant_filter_inside(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
    store.replace_document("acme", "docs", "a", chunks("acme", "docs", "a", ["vacation days policy"]))
    before = len(fake.requests)

    store.search("acme", "docs", EMBED.embed(["vacation"])[0], top_k=3, threshold=0.0)

    sent = fake.requests[before:]
    assert len(sent) == 1  # no words given: the dense half alone
    knn = sent[0][2]["query"]["knn"]["embedding"]
    assert knn["k"] == 3 * CANDIDATE_FACTOR  # candidates for the fusion
    filters = knn["filter"]["bool"]["filter"]
    assert {"term": {"brand_id": "acme"}} in filters and {"term": {"rag_scope": "docs"}} in filters


def test_a_hybrid_search_adds_a_bm25_match_with_the_same_server_side_filter(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
    for name, text in {
        "refunds": "refunds are paid within 14 days",
        "shipping": "parcels ship in two days",
    }.items():
        store.replace_document("acme", "docs", name, chunks("acme", "docs", name, [text]))
    store.replace_document(
        "globex", "docs", "theirs", chunks("globex", "docs", "theirs", ["refunds refunds refunds"])
    )
    fake.refresh()
    before = len(fake.requests)

    hits = store.search(
        "acme", "docs", EMBED.embed(["refunds"])[0], top_k=2, threshold=0.0, text="How long do refunds take?"
    )

    match = [body["query"]["bool"] for _, _, body in fake.requests[before:] if "bool" in body["query"]]
    assert len(match) == 1 and match[0]["must"] == [{"match": {"content": "long refunds take"}}]
    assert {"term": {"brand_id": "acme"}} in match[0]["filter"]
    found = [h.document_id for h in hits]
    assert found[0] == "refunds" and "theirs" not in found
    assert hits and all(0 <= h.score <= 1 for h in hits)


def test_scores_top_k_and_threshold_match_the_local_store(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
    local = LocalVectorStore(":memory:")
    texts = [
        "vacation days carry over",
        "expense reports are due monthly",
        "the office opens at nine",
        "vacation requests need approval",
    ]
    for target in (store, local):
        target.replace_document("acme", "hr", "handbook", chunks("acme", "hr", "handbook", texts))
    fake.refresh()
    query = EMBED.embed(["how many vacation days"])[0]

    remote_hits = store.search("acme", "hr", query, top_k=2, threshold=0.1)
    local_hits = local.search("acme", "hr", query, top_k=2, threshold=0.1)

    assert [h.id for h in remote_hits] == [h.id for h in local_hits]
    assert [h.score for h in remote_hits] == pytest.approx([h.score for h in local_hits], abs=1e-6)
    assert 0 < len(remote_hits) <= 2 and all(h.score >= 0.1 for h in remote_hits)


def test_brands_never_see_each_others_chunks(fake: FakeOpenSearch, store: OpenSearchVectorStore) -> None:
    store.replace_document(
        "acme", "hr", "handbook", chunks("acme", "hr", "handbook", ["acme vacation policy"])
    )
    store.replace_document(
        "globex", "hr", "handbook", chunks("globex", "hr", "handbook", ["globex vacation policy"])
    )
    fake.refresh()

    hits = store.search("acme", None, EMBED.embed(["globex vacation policy"])[0], top_k=10, threshold=0.0)

    assert [h.content for h in hits] == ["acme vacation policy"]


def test_delete_counts_what_it_removed(fake: FakeOpenSearch, store: OpenSearchVectorStore) -> None:
    keys = store.replace_document("acme", "hr", "doc", chunks("acme", "hr", "doc", ["a", "b", "c"]))

    assert store.delete_document("acme", "hr", "doc", keys) == 3  # before any refresh: by id
    fake.refresh()
    assert store.delete_document("acme", "hr", "doc", keys) == 0
    assert store.delete_document("globex", "hr", "doc") == 0


def test_a_delete_without_keys_finds_what_a_search_sees(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
    store.replace_document("acme", "hr", "doc", chunks("acme", "hr", "doc", ["a", "b"]))
    fake.refresh()

    assert store.delete_document("acme", "hr", "doc") == 2
    assert fake.indices["parley-test"].documents == {}


@pytest.mark.skipif(
    not os.environ.get("OPENSEARCH_URL"), reason="set OPENSEARCH_URL to run against a real cluster"
)
def test_against_a_real_cluster() -> None:
    """Nothing forces a refresh: a replacement and a deletion right after an ingestion act by id,
    and the search waits for the cluster's own refresh."""
    client = opensearch_client(
        os.environ["OPENSEARCH_URL"],
        os.environ.get("OPENSEARCH_SERVICE", "none"),
        os.environ.get("AWS_REGION", "us-east-1"),
    )
    live = OpenSearchVectorStore(client, f"parley-live-test-{os.getpid()}", EMBED.dimension)
    try:
        first = live.replace_document("acme", "hr", "doc", chunks("acme", "hr", "doc", ["old", "older"]))
        live.replace_document(
            "acme", "hr", "doc", chunks("acme", "hr", "doc", ["vacation days", "expenses"]), first
        )
        gone = live.replace_document("acme", "hr", "gone", chunks("acme", "hr", "gone", ["vacation gone"]))
        assert live.delete_document("acme", "hr", "gone", gone) == 1
        hits = eventually(
            lambda: live.search("acme", "hr", EMBED.embed(["vacation"])[0], top_k=5, threshold=0.0),
            until=lambda found: len(found) == 2,
        )
        assert sorted(h.content for h in hits) == ["expenses", "vacation days"]
    finally:
        client.indices.delete(index=live.index, ignore_unavailable=True)


def eventually(
    read: Callable[[], list[ScoredChunk]], until: Callable[[list[ScoredChunk]], bool]
) -> list[ScoredChunk]:
    """`read()` once it satisfies `until`, polling across refreshes (at most about 30 s)."""
    found = read()
    for _ in range(300):
        if until(found):
            return found
        time.sleep(0.1)
        found = read()
    return found


def test_the_read_path_never_creates_the_index(fake: FakeOpenSearch, store: OpenSearchVectorStore) -> None:
    hits = store.search("acme", "docs", EMBED.embed(["vacation"])[0], top_k=3, threshold=0.0)
    removed = store.delete_document("acme", "docs", "nothing") + store.delete_expired(
        "2030-01-01T00:00:00+00:00"
    )

    assert hits == [] and removed == 0
    assert fake.requests_to("PUT", "parley-test") == [] and fake.indices == {}


def test_two_cold_starts_creating_the_index_at_once_both_go_on(fake: FakeOpenSearch) -> None:
    first, second = (
        OpenSearchVectorStore(
            opensearch_client(fake.url, "none", "us-east-1"), "parley-test", EMBED.dimension
        )
        for _ in range(2)
    )
    first.ensure_index()
    second.client.indices.exists = lambda **_: False  # it looked before the first one created it

    second.replace_document("acme", "docs", "d", chunks("acme", "docs", "d", ["after the race"]))
    fake.refresh()

    assert len(fake.requests_to("PUT", "parley-test")) == 2  # the second create was refused ...
    hits = second.search("acme", "docs", EMBED.embed(["after the race"])[0], top_k=1, threshold=0.0)
    assert [h.content for h in hits] == ["after the race"]  # ... and its chunks were indexed


def test_bulk_items_rejected_for_load_are_sent_again_without_duplicates(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
    fake.item_rejections.append(
        {1: (429, "es_rejected_execution_exception"), 3: (429, "es_rejected_execution_exception")}
    )

    store.replace_document("acme", "docs", "d", chunks("acme", "docs", "d", [f"part {n}" for n in range(5)]))

    stored = sorted(d["content"] for d in fake.indices["parley-test"].documents.values())
    assert stored == [f"part {n}" for n in range(5)]  # each once: only the rejected two were resent
    resent = [body for body in fake.requests_to("POST", "_bulk") if '"index"' in body.split("\n")[0]]
    assert [len(body.rstrip("\n").split("\n")) for body in resent] == [10, 4]


def test_a_refused_replacement_leaves_the_old_version_whole_and_nothing_of_the_new(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
    store.replace_document("acme", "docs", "d", chunks("acme", "docs", "d", ["old one", "old two"]))
    fake.item_rejections.append({2: (400, "mapper_parsing_exception")})

    with pytest.raises(RuntimeError, match="mapper_parsing_exception"):
        store.replace_document("acme", "docs", "d", chunks("acme", "docs", "d", ["new 1", "new 2", "new 3"]))

    stored = sorted(d["content"] for d in fake.indices["parley-test"].documents.values())
    assert stored == ["old one", "old two"]


def test_bulk_rejections_past_the_attempts_are_a_503_and_leave_nothing(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
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
    store = OpenSearchVectorStore(
        opensearch_client(signed_collection.url, service, region), "parley-test", EMBED.dimension
    )

    with pytest.raises(Exception, match="403"):
        store.replace_document("acme", "docs", "d", chunks("acme", "docs", "d", ["x"]))


def test_a_request_signed_with_another_secret_is_refused(
    signed_collection: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "a-guessed-secret")
    store = OpenSearchVectorStore(
        opensearch_client(signed_collection.url, "aoss", "eu-west-1"), "parley-test", EMBED.dimension
    )

    with pytest.raises(Exception, match="403"):
        store.search("acme", "docs", EMBED.embed(["x"])[0], top_k=1, threshold=0.0)
    assert signed_collection.indices == {}


def test_faiss_with_cosine_is_refused_before_knn_2_19_as_serverless_runs_it(fake: FakeOpenSearch) -> None:
    store = OpenSearchVectorStore(
        opensearch_client(fake.url, "none", "us-east-1"), "parley-faiss", EMBED.dimension, engine="faiss"
    )

    with pytest.raises(RequestError) as refused:
        store.replace_document("acme", "docs", "d", chunks("acme", "docs", "d", ["x"]))

    assert "does not support space type [cosinesimil]" in json.dumps(refused.value.info)
    assert fake.indices == {}


def test_faiss_with_cosine_is_accepted_from_knn_2_19() -> None:
    newer = FakeOpenSearch(version=(2, 19))
    try:
        store = OpenSearchVectorStore(
            opensearch_client(newer.url, "none", "us-east-1"), "parley-faiss", EMBED.dimension, engine="faiss"
        )
        store.replace_document("acme", "docs", "d", chunks("acme", "docs", "d", ["x"]))
    finally:
        newer.stop()

    assert "parley-faiss" in newer.indices


def test_a_search_sees_writes_only_after_a_refresh(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
    keys = store.replace_document("acme", "hr", "doc", chunks("acme", "hr", "doc", ["vacation days"]))
    query = EMBED.embed(["vacation days"])[0]

    assert store.search("acme", "hr", query, top_k=1, threshold=0.0) == []  # not refreshed yet
    fake.refresh()
    assert [h.content for h in store.search("acme", "hr", query, top_k=1, threshold=0.0)] == ["vacation days"]
    store.remove_chunks(keys)
    assert len(store.search("acme", "hr", query, top_k=1, threshold=0.0)) == 1  # deleted, still visible
    fake.refresh()
    assert store.search("acme", "hr", query, top_k=1, threshold=0.0) == []


def test_the_collection_refreshes_by_itself_every_interval() -> None:
    collection = FakeOpenSearch(refresh_interval=0.05)
    try:
        store = OpenSearchVectorStore(
            opensearch_client(collection.url, "none", "us-east-1"), "parley-test", EMBED.dimension
        )
        store.replace_document("acme", "hr", "doc", chunks("acme", "hr", "doc", ["vacation days"]))
        hits = eventually(
            lambda: store.search("acme", "hr", EMBED.embed(["vacation days"])[0], top_k=1, threshold=0.0),
            until=bool,
        )
    finally:
        collection.stop()

    assert [h.content for h in hits] == ["vacation days"]


def test_a_custom_document_id_is_refused_as_a_vector_collection_refuses_it(
    fake: FakeOpenSearch, store: OpenSearchVectorStore
) -> None:
    store.ensure_index()
    document = {"embedding": EMBED.embed(["x"])[0], "brand_id": "acme", "content": "x"}
    body = (
        json.dumps({"index": {"_index": "parley-test", "_id": "chosen"}}) + "\n" + json.dumps(document) + "\n"
    )

    answer = store.client.bulk(body=body)

    assert answer["errors"] is True
    assert answer["items"][0]["index"]["error"]["type"] == "illegal_argument_exception"
    assert fake.indices["parley-test"].documents == {}
