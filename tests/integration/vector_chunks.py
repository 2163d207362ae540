"""Chunks to index and a wait for near-real-time search, shared by the vector-store tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from local.opensearch_node import MARKER_BRAND, wait_for_refresh
from parley.providers.embedders import HashingEmbedder
from parley.rag.opensearch_store import OpenSearchVectorStore
from parley.rag.vectors import ChunkRecord

EMBED = HashingEmbedder(64)
T = TypeVar("T")


def chunks(brand: str, scope: str, document: str, texts: list[str], **fields: object) -> list[ChunkRecord]:
    return [
        ChunkRecord(
            brand_id=brand,
            rag_scope=scope,
            document_id=document,
            chunk_index=n,
            content=text,
            embedding=vector,
            **fields,  # type: ignore[arg-type]
        )
        for n, (text, vector) in enumerate(zip(texts, EMBED.embed(texts), strict=True))
    ]


def eventually(read: Callable[[], T], until: Callable[[T], bool], seconds: float = 30) -> T:
    """`read()` once it satisfies `until`, polling across the store's refreshes: a safety net of
    `seconds`, after which the last reading is returned for the test to judge."""
    found = read()
    deadline = time.monotonic() + seconds
    while not until(found) and time.monotonic() < deadline:
        time.sleep(0.1)
        found = read()
    return found


def visible_after_a_refresh(store: OpenSearchVectorStore) -> dict[str, str]:
    """{id: content} of every chunk a search of the store's index sees once it has refreshed past
    every write acknowledged so far."""
    wait_for_refresh(store.client, store.index)
    body = {"size": 10_000, "query": {"bool": {"must_not": {"term": {"brand_id": MARKER_BRAND}}}}}
    hits = store.client.search(index=store.index, body=body)["hits"]["hits"]
    return {hit["_id"]: hit["_source"]["content"] for hit in hits}
