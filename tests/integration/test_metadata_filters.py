"""Metadata filters in both vector stores, one suite: the local store (SQLite) and a real
OpenSearch node. Each store must return exactly the chunks whose metadata the filters admit
(parley.models.filters.Condition.admits is the reference), typed as stored, and apply them inside
the search, so `top_k` counts matching chunks only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.opensearch_node import OpenSearchNode, wait_for_refresh
from parley.models.filters import parse_filters
from parley.rag.local_store import LocalVectorStore
from parley.rag.opensearch_index import opensearch_client
from parley.rag.opensearch_store import OpenSearchVectorStore
from parley.rag.vectors import VectorStore
from tests.integration.s3vectors_stores import Stores
from tests.integration.vector_chunks import EMBED, chunks

pytestmark = pytest.mark.integration

# Every document says the same words, so without filters any of them may rank first.
TEXT = "the travel policy for staff"
DOCUMENTS: dict[str, dict[str, Any]] = {
    "en-2021": {"lang": "en", "year": 2021, "public": True, "published": "2021-03-01"},
    "en-2023": {"lang": "en", "year": 2023, "public": False, "published": "2023-06-15T12:00:00Z"},
    "fr-2022": {"lang": "fr", "year": 2022.5, "public": True, "published": "2022-01-01"},
    "de-text-year": {"lang": "de", "year": "2022", "public": "true", "published": "not a date"},
    "no-metadata": {},
}
CASES: list[dict[str, Any]] = [
    {"lang": "en"},
    {"lang": {"in": ["fr", "de"]}},
    {"year": 2021},
    {"year": {"gte": 2022}},
    {"year": {"gt": 2021, "lt": 2023}},
    {"year": "2022"},  # the string, not the number
    {"public": True},
    {"public": "true"},
    {"published": {"gte": "2022-01-01"}},
    {"published": {"lt": "2023-06-15T12:00:00Z"}},
    {"lang": "en", "public": False},
    {"lang": "it"},
    {"missing": "x"},
]


@pytest.fixture(params=["local", "opensearch", "s3vectors"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    own: VectorStore
    if request.param == "local":
        own = LocalVectorStore(str(tmp_path / "filters.sqlite3"))
        _fill(own)
        yield own
        return
    if request.param == "s3vectors":
        stores = Stores(
            request.getfixturevalue("local_stack"), request.getfixturevalue("s3vectors_server"), tmp_path
        )
        own = stores.container()
        _fill(own)
        yield own
        return
    node: OpenSearchNode = request.getfixturevalue("opensearch_node")
    opensearch = OpenSearchVectorStore(
        opensearch_client(node.url, "none", "us-east-1"),
        f"parley-filters-{uuid.uuid4().hex[:10]}",
        EMBED.dimension,
    )
    _fill(opensearch)
    wait_for_refresh(opensearch.client, opensearch.index)
    yield opensearch
    opensearch.client.indices.delete(index=opensearch.index, ignore_unavailable=True)


def _fill(store: VectorStore) -> None:
    for document, metadata in DOCUMENTS.items():
        store.replace_document(
            "acme", "hr", document, chunks("acme", "hr", document, [TEXT], metadata=metadata)
        )
    # Another brand's document that every filter admits: never returned.
    store.replace_document(
        "globex", "hr", "en-2021", chunks("globex", "hr", "en-2021", [TEXT], metadata=DOCUMENTS["en-2021"])
    )


def found(store: VectorStore, filters: dict[str, Any], top_k: int = 10) -> list[str]:
    hits = store.search(
        "acme", "hr", EMBED.embed([TEXT])[0], top_k, 0.0, text=TEXT, filters=parse_filters(filters)
    )
    return sorted(hit.document_id for hit in hits)


def admitted(filters: dict[str, Any]) -> list[str]:
    conditions = parse_filters(filters)
    return sorted(
        document
        for document, metadata in DOCUMENTS.items()
        if all(c.key in metadata and c.admits(metadata[c.key]) for c in conditions)
    )


@pytest.mark.parametrize("filters", CASES, ids=[str(case) for case in CASES])
def test_a_search_returns_exactly_the_chunks_the_filters_admit(
    store: VectorStore, filters: dict[str, Any]
) -> None:
    assert found(store, filters) == admitted(filters)


def test_the_reference_cases_are_not_trivial() -> None:
    """Each case admits something other than everything, and the cases differ."""
    results = [tuple(admitted(case)) for case in CASES]
    assert all(len(r) < len(DOCUMENTS) for r in results)
    assert len(set(results)) >= 8
    assert admitted({"year": "2022"}) == ["de-text-year"]  # a string is not the number
    assert admitted({"public": True}) == ["en-2021", "fr-2022"]  # nor the string "true"


def test_top_k_counts_matching_chunks_only(store: VectorStore) -> None:
    """Filtered inside the search: the best two of the matches, not the matches among the best two."""
    assert len(found(store, {"lang": {"in": ["en", "fr"]}}, top_k=2)) == 2
    assert found(store, {"lang": "fr"}, top_k=1) == ["fr-2022"]


def test_no_filters_find_every_chunk_of_the_brand(store: VectorStore) -> None:
    assert found(store, {}) == sorted(DOCUMENTS)
