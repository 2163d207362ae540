"""Field weighting: a word in a chunk's title counts at the store's title weight beside a word of
its content (RAG_TITLE_WEIGHT), the same on every store; 0 leaves titles out of the word search."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.opensearch_node import OpenSearchNode, wait_for_refresh
from parley.rag.local_store import LocalVectorStore
from parley.rag.opensearch_index import opensearch_client
from parley.rag.opensearch_store import OpenSearchVectorStore
from tests.integration.s3vectors_stores import Stores
from tests.integration.vector_chunks import EMBED, chunks

pytestmark = pytest.mark.integration

QUESTION = "refunds"


@pytest.fixture(params=["local", "opensearch", "s3vectors"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    own: Any
    if request.param == "local":
        own = LocalVectorStore(str(tmp_path / "titles.sqlite3"))
    elif request.param == "s3vectors":
        stack, server = request.getfixturevalue("local_stack"), request.getfixturevalue("s3vectors_server")
        own = Stores(stack, server, tmp_path).container()
    else:
        node: OpenSearchNode = request.getfixturevalue("opensearch_node")
        own = OpenSearchVectorStore(
            opensearch_client(node.url, "none", "us-east-1"),
            f"parley-titles-{uuid.uuid4().hex[:10]}",
            EMBED.dimension,
        )
    # "titled" has the word once, in its title; "body" twice in a longer content.
    own.replace_document(
        "acme", "hr", "titled", chunks("acme", "hr", "titled", ["Money back within days."], title="Refunds")
    )
    own.replace_document(
        "acme",
        "hr",
        "body",
        chunks("acme", "hr", "body", ["Refunds of orders: refunds are paid back within fourteen days."]),
    )
    for n in range(6):  # titled documents without the word: a rare one in both fields
        own.replace_document(
            "acme",
            "hr",
            f"other{n}",
            chunks("acme", "hr", f"other{n}", [f"Canteen menu {n}."], title="Canteen"),
        )
    if isinstance(own, OpenSearchVectorStore):
        wait_for_refresh(own.client, own.index)
    own.fusion, own.lexical_weight = "weighted", 1.0  # the word half alone
    yield own
    if isinstance(own, OpenSearchVectorStore):
        own.client.indices.delete(index=own.index, ignore_unavailable=True)


def matched(store: Any, title_weight: float) -> dict[str, float]:
    store.title_weight = title_weight
    hits = store.search("acme", "hr", EMBED.embed([QUESTION])[0], 10, 0.01, text=QUESTION)
    return {hit.document_id: hit.score for hit in hits}


def test_a_titles_words_count_at_the_title_weight(store: Any) -> None:
    without, light, heavy = matched(store, 0.0), matched(store, 0.5), matched(store, 4.0)

    assert list(without) == ["body"]  # the title is not searched
    assert max(light, key=light.__getitem__) == "body"
    assert max(heavy, key=heavy.__getitem__) == "titled"
    assert 0 < light["titled"] < heavy["titled"]
