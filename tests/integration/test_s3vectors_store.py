"""The S3 Vectors store: boto3's s3vectors client against the local S3 Vectors endpoint
(local.s3vectors_server), each brand's lexicon in moto's S3 (the stack's files bucket, whose
conditional writes are atomic as S3's are). Scores as the local store's, read-your-writes across
containers, two ingestions of one brand at once, S3 Vectors' limits, and its failures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from local.dynamodb import client
from local.s3vectors_server import S3VectorsServer
from parley.clock import SYSTEM_CLOCK
from parley.config import Settings
from parley.errors import InvalidRequest, StoreUnavailable
from parley.logic.ingest import Source, index_sources
from parley.models.filters import parse_filters
from parley.rag.local_store import LocalVectorStore
from parley.rag.s3vectors_store import S3VectorsStore
from parley.store.documents import DocumentRegistry
from tests.conftest import LocalStack
from tests.integration.s3vectors_stores import Stores
from tests.integration.vector_chunks import EMBED, chunks

pytestmark = pytest.mark.integration


@pytest.fixture
def stores(local_stack: LocalStack, s3vectors_server: S3VectorsServer, tmp_path: Path) -> Iterator[Stores]:
    s3vectors_server.faults.fail.clear()
    yield Stores(local_stack, s3vectors_server, tmp_path)
    s3vectors_server.faults.fail.clear()


def search(
    store: S3VectorsStore | LocalVectorStore, brand: str, scope: str | None, text: str, **options: object
) -> list:
    top_k = int(options.pop("top_k", 10))  # type: ignore[call-overload]
    return store.search(brand, scope, EMBED.embed([text])[0], top_k, 0.0, text=text, **options)  # type: ignore[arg-type]


def test_a_hybrid_search_finds_by_meaning_and_words_within_the_brand_and_scope(stores: Stores) -> None:
    store = stores.container()
    store.replace_document(
        "acme", "docs", "refunds", chunks("acme", "docs", "refunds", ["refunds are paid within 14 days"])
    )
    store.replace_document(
        "acme", "docs", "shipping", chunks("acme", "docs", "shipping", ["parcels ship in two days"])
    )
    store.replace_document("acme", "other", "o", chunks("acme", "other", "o", ["refunds in another scope"]))
    store.replace_document("globex", "docs", "g", chunks("globex", "docs", "g", ["refunds refunds refunds"]))

    hits = search(store, "acme", "docs", "How long do refunds take?", top_k=5)
    everywhere = search(store, "acme", None, "refunds")

    assert [h.document_id for h in hits] == ["refunds", "shipping"]
    assert sorted(h.content for h in everywhere) == [
        "parcels ship in two days",
        "refunds are paid within 14 days",
        "refunds in another scope",
    ]
    assert search(stores.container(), "initech", None, "refunds") == []  # no lexicon, no index read


def test_scores_and_order_match_the_local_store(stores: Stores) -> None:
    store, local = stores.container(), LocalVectorStore(":memory:")
    texts = [
        "vacation days carry over",
        "expense reports are due monthly",
        "the office opens at nine",
        "vacation requests need approval",
    ]
    for target in (store, local):
        target.replace_document("acme", "hr", "handbook", chunks("acme", "hr", "handbook", texts))
    query = EMBED.embed(["how many vacation days"])[0]

    remote = store.search("acme", "hr", query, 4, 0.0, text="how many vacation days")
    nearby = local.search("acme", "hr", query, 4, 0.0, text="how many vacation days")

    assert [h.id for h in remote] == [h.id for h in nearby]
    assert [h.score for h in remote] == pytest.approx([h.score for h in nearby], abs=1e-5)


def test_a_chunk_only_the_words_find_is_scored_with_its_exact_cosine(stores: Stores) -> None:
    """The dense query returns at most topK chunks; a word match beyond them is fetched (GetVectors)
    so its cosine, and so its score, is the local store's."""
    store, local = stores.container(), LocalVectorStore(":memory:")
    texts = [f"canteen menu number {n} with soup" for n in range(30)] + ["zebra crossing rules"]
    for target in (store, local):
        target.replace_document("acme", "hr", "many", chunks("acme", "hr", "many", texts))
    question = "canteen soup zebra"
    query = EMBED.embed([question])[0]
    stores.server.faults.calls.clear()

    remote = store.search("acme", "hr", query, 1, 0.0, text=question)  # the dense query asks 4
    nearby = local.search("acme", "hr", query, 1, 0.0, text=question)

    assert "GetVectors" in stores.server.faults.calls
    assert [(h.id, h.content) for h in remote] == [(h.id, h.content) for h in nearby]
    assert remote[0].content == "zebra crossing rules"  # the rare word wins
    assert remote[0].score == pytest.approx(nearby[0].score, abs=1e-5)


def test_a_replaced_or_deleted_document_is_gone_for_every_container_when_the_call_returns(
    stores: Stores,
) -> None:
    writer, reader = stores.container(), stores.container()
    writer.replace_document(
        "acme", "hr", "policy", chunks("acme", "hr", "policy", ["old leave policy", "old rules"])
    )
    assert {h.content for h in search(reader, "acme", "hr", "leave policy")} == {
        "old leave policy",
        "old rules",
    }

    writer.replace_document("acme", "hr", "policy", chunks("acme", "hr", "policy", ["new leave policy"]))
    replaced = search(reader, "acme", "hr", "leave policy")
    removed = writer.delete_document("acme", "hr", "policy")
    deleted = search(reader, "acme", "hr", "leave policy")

    assert [h.content for h in replaced] == ["new leave policy"]
    assert removed == 1
    assert deleted == []
    assert stores.vector_count() == 0  # the old versions' vectors went too


def test_two_ingestions_of_one_brand_at_once_keep_both_documents(stores: Stores) -> None:
    def ingest(n: int) -> None:
        container = stores.container()
        container.replace_document(
            "acme", "hr", f"doc-{n}", chunks("acme", "hr", f"doc-{n}", [f"document {n} text"])
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(ingest, range(16)))

    found = search(stores.container(), "acme", "hr", "document text", top_k=50)
    assert sorted(h.document_id for h in found) == sorted(f"doc-{n}" for n in range(16))


def test_metadata_filters_and_expiry_apply_inside_the_search(stores: Stores) -> None:
    store = stores.container()
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    store.replace_document(
        "acme",
        "hr",
        "en",
        chunks("acme", "hr", "en", ["holiday rules"], metadata={"lang": "en", "year": 2024}),
    )
    store.replace_document(
        "acme",
        "hr",
        "de",
        chunks("acme", "hr", "de", ["holiday rules"], metadata={"lang": "de", "year": "2024"}),
    )
    store.replace_document(
        "acme", "hr", "old", chunks("acme", "hr", "old", ["holiday rules"], expires_at=past)
    )

    def documents(filters: dict[str, object]) -> list[str]:
        hits = search(store, "acme", "hr", "holiday rules", filters=parse_filters(filters))
        return sorted(h.document_id for h in hits)

    assert documents({}) == ["de", "en"]  # the expired one never
    assert documents({"lang": "en"}) == ["en"]
    assert documents({"year": 2024}) == ["en"]  # the number, not the string
    assert documents({"year": {"gte": 2000}}) == ["en"]
    assert store.delete_expired(datetime.now(UTC).isoformat()) == 1


def test_metadata_beyond_s3_vectors_limits_is_refused_before_anything_is_written(stores: Stores) -> None:
    store = stores.container()
    store.replace_document("acme", "hr", "big", chunks("acme", "hr", "big", ["first version"]))
    too_much = {f"key{n}": "x" * 60 for n in range(40)}  # about 3 KB of filterable values

    with pytest.raises(InvalidRequest, match="2048 bytes"):
        store.replace_document(
            "acme", "hr", "big", chunks("acme", "hr", "big", ["second version"], metadata=too_much)
        )

    assert [h.content for h in search(store, "acme", "hr", "version")] == ["first version"]
    assert stores.vector_count() == 1


def test_a_failing_put_leaves_the_old_version_and_no_new_vectors(stores: Stores) -> None:
    store = stores.container()
    store.replace_document("acme", "hr", "doc", chunks("acme", "hr", "doc", ["the old text"]))
    texts = [f"new part {n}" for n in range(501)]  # two PutVectors calls: the second fails
    stores.server.faults.fail.extend([(0, ""), (400, "ValidationException")])

    with pytest.raises(stores.vectors.exceptions.ValidationException):
        store.replace_document("acme", "hr", "doc", chunks("acme", "hr", "doc", texts))

    assert [h.content for h in search(store, "acme", "hr", "text")] == ["the old text"]
    assert stores.vector_count() == 1


def test_a_throttled_or_failing_service_is_a_503(stores: Stores) -> None:
    store = stores.container()
    store.replace_document("acme", "hr", "doc", chunks("acme", "hr", "doc", ["some text"]))
    stores.server.faults.fail.extend([(503, "ServiceUnavailableException")] * 10)  # past the retries

    with pytest.raises(StoreUnavailable):
        search(store, "acme", "hr", "text")


def test_a_bulk_load_replaces_many_documents_with_one_lexicon_write(stores: Stores) -> None:
    store = stores.container()
    store.replace_document("acme", "hr", "a", chunks("acme", "hr", "a", ["old text of a"]))
    writes = []
    update = store.lexicons.update_object

    def counted(*args: Any, **options: Any) -> Any:
        writes.append(args[0])
        return update(*args, **options)

    store.lexicons.update_object = counted  # type: ignore[method-assign]
    store.replace_documents(
        "acme",
        "hr",
        [
            ("a", chunks("acme", "hr", "a", ["new text of a"])),
            ("b", chunks("acme", "hr", "b", ["text of b", "more text of b"])),
        ],
    )

    assert sorted(h.content for h in search(store, "acme", "hr", "text")) == [
        "more text of b",
        "new text of a",
        "text of b",
    ]
    assert stores.vector_count() == 3  # a's old vector went
    assert len(writes) == 1


def test_an_ingested_batch_writes_the_brands_lexicon_once(stores: Stores) -> None:
    store = stores.container()
    registry = DocumentRegistry(stores.stack.table_name, client(stores.stack.database.endpoint))
    brand = f"batch-{uuid.uuid4().hex[:8]}"
    writes = []
    update = store.lexicons.update_object

    def counted(*args: Any, **options: Any) -> Any:
        writes.append(args[0])
        return update(*args, **options)

    store.lexicons.update_object = counted  # type: ignore[method-assign]
    sources = [
        Source(brand, "hr", f"doc-{n}", [f"policy number {n} text"], False, "text/plain", 20)
        for n in range(5)
    ]

    ingested = index_sources(sources, store, EMBED, registry, config=Settings(), clock=SYSTEM_CLOCK)

    assert [d.chunks for d in ingested] == [1] * 5
    assert len(writes) == 1
    assert sorted(h.document_id for h in search(store, brand, "hr", "policy text")) == [
        f"doc-{n}" for n in range(5)
    ]
    assert {registry.get(brand, "hr", f"doc-{n}").status for n in range(5)} == {"ready"}  # type: ignore[union-attr]
