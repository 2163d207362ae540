"""The OpenSearch vector store against a real OpenSearch 2.19.1 node with the k-NN plugin
(lucene engine), started once per session (`opensearch_node`). Nothing here forces a refresh:
what a search must see, it waits for through the node's own refresh (every second)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from local.opensearch_node import OpenSearchNode
from parley.errors import StoreUnavailable
from parley.rag.local_store import LocalVectorStore
from parley.rag.opensearch_index import opensearch_client
from parley.rag.opensearch_store import BULK_CHUNKS, OpenSearchVectorStore
from parley.rag.vectors import ScoredChunk
from tests.integration.vector_chunks import EMBED, chunks, eventually

pytestmark = pytest.mark.integration


def new_store(node: OpenSearchNode, index: str, **options: object) -> OpenSearchVectorStore:
    return OpenSearchVectorStore(
        opensearch_client(node.url, "none", "us-east-1"),
        index,
        EMBED.dimension,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(opensearch_node: OpenSearchNode) -> Iterator[OpenSearchVectorStore]:
    """A store on an index of the test's own, deleted afterwards."""
    own = new_store(opensearch_node, f"parley-node-test-{uuid.uuid4().hex[:10]}")
    yield own
    own.client.indices.delete(index=own.index, ignore_unavailable=True)


def search(store: OpenSearchVectorStore, brand: str, scope: str | None, text: str, **options: object) -> list:
    query = EMBED.embed([text])[0]
    top_k = int(options.pop("top_k", 10))  # type: ignore[call-overload]
    threshold = float(options.pop("threshold", 0.0))  # type: ignore[arg-type]
    return store.search(brand, scope, query, top_k=top_k, threshold=threshold, text=text)


def contents(hits: list[ScoredChunk]) -> list[str]:
    return sorted(h.content for h in hits)


def count(store: OpenSearchVectorStore, **terms: str) -> int:
    """Chunks a search of the index sees (as of the node's last refresh) with these field values."""
    query = {"bool": {"filter": [{"term": {field: value}} for field, value in terms.items()]}}
    return int(store.client.count(index=store.index, body={"query": query})["count"])


def test_the_index_is_created_with_a_lucene_hnsw_cosine_knn_vector(store: OpenSearchVectorStore) -> None:
    store.replace_document("acme", "docs", "a", chunks("acme", "docs", "a", ["one"]))

    mapping = store.client.indices.get_mapping(index=store.index)[store.index]["mappings"]["properties"]
    vector = mapping["embedding"]
    assert vector["type"] == "knn_vector" and vector["dimension"] == EMBED.dimension
    assert vector["method"]["engine"] == "lucene" and vector["method"]["space_type"] == "cosinesimil"
    assert mapping["brand_id"]["type"] == "keyword" and mapping["content"]["type"] == "text"
    settings = store.client.indices.get_settings(index=store.index)[store.index]["settings"]["index"]
    assert settings["knn"] == "true"


def test_two_cold_starts_creating_the_index_at_once_both_go_on(opensearch_node: OpenSearchNode) -> None:
    index = f"parley-node-race-{uuid.uuid4().hex[:10]}"
    racers = [new_store(opensearch_node, index) for _ in range(4)]
    for racer in racers:
        racer.client.indices.exists = lambda **_: False  # each looked before any had created it
    try:
        with ThreadPoolExecutor(len(racers)) as pool:
            list(pool.map(lambda s: s.ensure_index(), racers))
        racers[1].replace_document("acme", "docs", "d", chunks("acme", "docs", "d", ["after the race"]))

        hits = eventually(lambda: search(racers[2], "acme", "docs", "after the race"), until=bool)
    finally:
        racers[0].client.indices.delete(index=index, ignore_unavailable=True)

    assert contents(hits) == ["after the race"]


def test_a_hybrid_search_finds_by_meaning_and_by_words_within_the_brand_and_scope(
    store: OpenSearchVectorStore,
) -> None:
    store.replace_document(
        "acme", "docs", "refunds", chunks("acme", "docs", "refunds", ["refunds are paid within 14 days"])
    )
    store.replace_document(
        "acme", "docs", "shipping", chunks("acme", "docs", "shipping", ["parcels ship in two days"])
    )
    store.replace_document("acme", "other", "o", chunks("acme", "other", "o", ["refunds in another scope"]))
    store.replace_document("globex", "docs", "g", chunks("globex", "docs", "g", ["refunds refunds refunds"]))

    hits = eventually(
        lambda: search(store, "acme", "docs", "How long do refunds take?", top_k=5),
        until=lambda found: len(found) == 2,
    )
    everywhere = search(store, "acme", None, "refunds", top_k=10)

    assert [h.document_id for h in hits] == ["refunds", "shipping"]
    assert all(0 <= h.score <= 1 for h in hits)
    assert contents(everywhere) == [
        "parcels ship in two days",
        "refunds are paid within 14 days",
        "refunds in another scope",
    ]


def test_expired_chunks_are_filtered_out_by_the_server(store: OpenSearchVectorStore) -> None:
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    store.replace_document(
        "acme", "hr", "old", chunks("acme", "hr", "old", ["vacation old"], expires_at=past)
    )
    store.replace_document(
        "acme", "hr", "new", chunks("acme", "hr", "new", ["vacation new"], expires_at=future)
    )
    store.replace_document("acme", "hr", "kept", chunks("acme", "hr", "kept", ["vacation kept"]))
    eventually(lambda: count(store, brand_id="acme"), until=lambda n: n == 3)

    hits = search(store, "acme", "hr", "vacation")
    removed = store.delete_expired(datetime.now(UTC).isoformat())

    assert contents(hits) == ["vacation kept", "vacation new"]
    assert removed == 1


def test_scores_and_order_match_the_local_store(store: OpenSearchVectorStore) -> None:
    local = LocalVectorStore(":memory:")
    texts = [
        "vacation days carry over",
        "expense reports are due monthly",
        "the office opens at nine",
        "vacation requests need approval",
    ]
    for target in (store, local):
        target.replace_document("acme", "hr", "handbook", chunks("acme", "hr", "handbook", texts))
    query = EMBED.embed(["how many vacation days"])[0]

    remote = eventually(
        lambda: store.search("acme", "hr", query, top_k=4, threshold=0.0), until=lambda f: len(f) == 4
    )
    nearby = local.search("acme", "hr", query, top_k=4, threshold=0.0)

    assert [h.id for h in remote] == [h.id for h in nearby]
    assert [h.score for h in remote] == pytest.approx([h.score for h in nearby], abs=1e-5)


def test_a_replacement_right_after_an_ingestion_acts_by_id_without_a_refresh(
    store: OpenSearchVectorStore,
) -> None:
    texts = [f"old part {n}" for n in range(BULK_CHUNKS * 2 + 10)]  # three _bulk requests
    first = store.replace_document("acme", "hr", "doc", chunks("acme", "hr", "doc", texts))
    second = store.replace_document(
        "acme", "hr", "doc", chunks("acme", "hr", "doc", ["vacation days", "expenses"]), first
    )
    gone = store.replace_document("acme", "hr", "gone", chunks("acme", "hr", "gone", ["vacation gone"]))
    removed = store.delete_document("acme", "hr", "gone", gone)

    hits = eventually(
        lambda: search(store, "acme", "hr", "vacation", top_k=50), until=lambda found: len(found) == 2
    )

    assert len(first) == len(texts) and len(second) == 2 and removed == 1
    assert contents(hits) == ["expenses", "vacation days"]
    assert count(store, document_id="doc") == 2


def test_a_write_that_returned_is_what_the_next_search_sees(store: OpenSearchVectorStore) -> None:
    """On a cluster that takes `refresh=wait_for`, no search waits: an ingestion, a replacement
    and a delete are each seen by the search right after them."""
    first = store.replace_document("acme", "hr", "doc", chunks("acme", "hr", "doc", ["vacation old"]))
    after_ingest = search(store, "acme", "hr", "vacation")
    store.replace_document("acme", "hr", "doc", chunks("acme", "hr", "doc", ["vacation new"]), first)
    after_replace = search(store, "acme", "hr", "vacation")
    store.delete_document("acme", "hr", "doc")
    after_delete = search(store, "acme", "hr", "vacation")

    assert contents(after_ingest) == ["vacation old"]
    assert contents(after_replace) == ["vacation new"]
    assert after_delete == []


def test_without_refresh_control_a_search_drops_versions_the_registry_no_longer_holds(
    opensearch_node: OpenSearchNode,
) -> None:
    """OpenSearch Serverless takes no refresh control: with the index's refresh turned off, a
    deleted or replaced version stays searchable, and only the registry's check keeps it out."""
    registry: dict[tuple[str, str], frozenset[str]] = {}

    def live_keys(brand: str, documents: object) -> dict[tuple[str, str], frozenset[str]]:
        return {pair: keys for pair, keys in registry.items() if pair in documents}  # type: ignore[operator]

    guarded = new_store(
        opensearch_node,
        f"parley-node-test-{uuid.uuid4().hex[:10]}",
        wait_for_refresh=False,
        live_keys=live_keys,
    )
    unguarded = new_store(opensearch_node, guarded.index, wait_for_refresh=False)
    try:
        guarded.ensure_index()
        guarded.client.indices.put_settings(index=guarded.index, body={"index": {"refresh_interval": "-1"}})
        old = guarded.replace_document("acme", "hr", "doc", chunks("acme", "hr", "doc", ["vacation old"]))
        gone = guarded.replace_document("acme", "hr", "gone", chunks("acme", "hr", "gone", ["vacation gone"]))
        guarded.client.indices.refresh(index=guarded.index)
        registry.update({("hr", "doc"): frozenset(old), ("hr", "gone"): frozenset(gone)})
        before = search(guarded, "acme", "hr", "vacation")

        new = guarded.replace_document(
            "acme", "hr", "doc", chunks("acme", "hr", "doc", ["vacation new"]), old
        )
        registry[("hr", "doc")] = frozenset(new)
        guarded.delete_document("acme", "hr", "gone", gone)
        del registry[("hr", "gone")]
        stale = search(unguarded, "acme", "hr", "vacation")
        guarded_hits = search(guarded, "acme", "hr", "vacation")
    finally:
        guarded.client.indices.delete(index=guarded.index, ignore_unavailable=True)

    assert contents(before) == ["vacation gone", "vacation old"]
    assert contents(stale) == ["vacation gone", "vacation old"]  # what the node still serves
    assert guarded_hits == []  # the new version is not refreshed yet; the old ones are dropped


def test_a_delete_without_keys_removes_what_a_search_sees(store: OpenSearchVectorStore) -> None:
    store.replace_document("acme", "hr", "doc", chunks("acme", "hr", "doc", ["a", "b", "c"]))
    store.replace_document("globex", "hr", "doc", chunks("globex", "hr", "doc", ["theirs"]))
    eventually(lambda: count(store, document_id="doc"), until=lambda n: n == 4)

    assert store.delete_document("acme", "hr", "doc") == 3
    assert store.delete_document("acme", "hr", "doc") == 0  # still seen until a refresh, already gone
    assert eventually(lambda: count(store, brand_id="globex"), until=lambda n: n == 1) == 1


def test_a_vector_of_the_wrong_dimension_is_refused_per_item_and_leaves_the_old_version(
    store: OpenSearchVectorStore,
) -> None:
    old = store.replace_document("acme", "docs", "d", chunks("acme", "docs", "d", ["old one", "old two"]))
    new = chunks("acme", "docs", "d", ["new 1", "new 2", "new 3"])
    new[2] = dataclasses.replace(new[2], embedding=[*new[2].embedding, 0.5])  # the mapping says 64

    with pytest.raises(RuntimeError, match="dimension"):
        store.replace_document("acme", "docs", "d", new, old)

    hits = eventually(lambda: search(store, "acme", "docs", "old new"), until=lambda found: len(found) == 2)
    assert contents(hits) == ["old one", "old two"]
    assert count(store, document_id="d") == 2  # what was indexed of the new version was removed


def test_a_mapping_conflict_is_refused_per_item(store: OpenSearchVectorStore) -> None:
    store.ensure_index()
    conflicting = chunks("acme", "docs", "p", ["a page that is not a number"], page="three")  # mapped integer

    with pytest.raises(RuntimeError, match="mapper_parsing_exception"):
        store.replace_document("acme", "docs", "p", conflicting)


def test_the_read_path_on_a_missing_index_finds_nothing_and_creates_nothing(
    store: OpenSearchVectorStore,
) -> None:
    hits = search(store, "acme", "docs", "vacation")
    removed = store.delete_document("acme", "docs", "nothing") + store.delete_expired(
        datetime.now(UTC).isoformat()
    )

    assert hits == [] and removed == 0
    assert not store.client.indices.exists(index=store.index)


def test_a_request_that_times_out_is_a_503_and_is_not_sent_again(
    opensearch_node: OpenSearchNode, store: OpenSearchVectorStore
) -> None:
    store.ensure_index()
    hurried = OpenSearchVectorStore(
        opensearch_client(opensearch_node.url, "none", "us-east-1", timeout=1e-6),
        store.index,
        EMBED.dimension,
    )
    hurried._index_ready = True

    with pytest.raises(StoreUnavailable):
        hurried.replace_document("acme", "docs", "slow", chunks("acme", "docs", "slow", ["slow text"]))
    store.replace_document("acme", "docs", "marker", chunks("acme", "docs", "marker", ["marker"]))
    eventually(lambda: count(store, document_id="marker"), until=lambda n: n == 1)

    assert count(store, document_id="slow") in (0, 1)  # applied once or not at all, never twice


def test_words_match_by_their_stem_and_in_the_title_as_the_local_store_reads_them(
    store: OpenSearchVectorStore,
) -> None:
    store.lexical_weight = 1.0  # the BM25 half alone
    store.replace_document(
        "acme",
        "docs",
        "ship",
        chunks("acme", "docs", "ship", ["Parcels leave the warehouse daily."], title="Shipping"),
    )
    store.replace_document("acme", "docs", "other", chunks("acme", "docs", "other", ["Nothing about it."]))

    hits = eventually(lambda: search(store, "acme", "docs", "shipped parcel", threshold=0.01), until=bool)

    assert [h.document_id for h in hits] == ["ship"]  # "shipped" ~ "Shipping", "parcel" ~ "Parcels"


def test_added_words_count_at_their_weight_in_the_match_query(store: OpenSearchVectorStore) -> None:
    texts = {
        "a": "automatic indexing of documents with a thesaurus",
        "b": "thesaurus construction and thesaurus maintenance",
        **{f"other{n}": f"catalogue entry {n} for periodicals and loans" for n in range(8)},
    }
    for name, text in texts.items():
        store.replace_document("acme", "docs", name, chunks("acme", "docs", name, [text]))
    store.fusion, store.lexical_weight = "weighted", 1.0
    vector = EMBED.embed(["automatic indexing"])[0]

    def scores(added: dict[str, float] | None) -> dict[str, float]:
        found = eventually(
            lambda: store.search("acme", "docs", vector, 10, 0.0, text="automatic indexing", expansion=added),
            lambda hits: len(hits) == len(texts),
        )
        return {hit.document_id: hit.score for hit in found}

    plain, light, heavy = scores(None), scores({"thesaurus": 0.1}), scores({"thesaurus": 5.0})

    assert plain["b"] == 0.0 and max(plain, key=plain.__getitem__) == "a"
    assert heavy["b"] > light["b"] > 0.0  # b's lexical score grows with the added word's weight
