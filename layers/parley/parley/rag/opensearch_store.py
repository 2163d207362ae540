"""Amazon OpenSearch Service / Serverless (or any OpenSearch cluster) as the vector store.

One index per embedder (its name carries the embedder and dimension), created by the first ingestion with
a `knn_vector` field: HNSW, `cosinesimil`. Search is hybrid (see `search`), each half with the
brand, scope and expiry filter applied by the server.

OpenSearch is near-real-time: a write becomes searchable at the next refresh (about a second),
so nothing here finds a document's chunks by searching for them. Yet a call that returned is seen
by the next search: where the cluster takes `refresh=wait_for` (a managed domain, a node of your
own) every write waits for the refresh; OpenSearch Serverless takes no refresh control, so there
a search drops every chunk the document registry does not hold as its document's current
version (`live_keys`) before ranking: a deleted or replaced version is never cited.

Serverless vector collections take no custom document ids and no `_delete_by_query`, so chunks
get the ids OpenSearch gives them; `replace_document` returns those ids and the caller keeps
them (the document registry), then hands them back to remove exactly that version by id. A _bulk
answers per item: items rejected for load (429) are resent alone; if the new version cannot be
indexed whole, what was indexed of it is deleted by id and the old version stays as it was.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from parley.models.filters import Filters
from parley.rag.fusion import DEFAULT_LEXICAL_WEIGHT, DEFAULT_TITLE_WEIGHT, Fusion, fuse
from parley.rag.lexical import query_terms
from parley.rag.opensearch_bulk import BulkRefused, retryable, send_bulk
from parley.rag.opensearch_index import (
    META_FIELD,
    META_MAPPING,
    VECTOR_FIELD,
    chunk_document,
    index_mapping,
    lexical_fields,
    tenant_filter,
)
from parley.rag.vectors import ChunkRecord, ScoredChunk

BULK_CHUNKS = 250  # chunks per _bulk request (each line pair carries a vector)
CANDIDATE_FACTOR = 4  # each half returns this many times top_k candidates for the fusion
PAGE = 500

# (brand, [(scope, document)]) → the ids of each document's current chunks (the registry's keys).
LiveKeys = Callable[[str, Iterable[tuple[str, str]]], dict[tuple[str, str], frozenset[str]]]


class OpenSearchVectorStore:
    def __init__(
        self,
        client: Any,
        index: str,
        dimension: int,
        engine: str = "lucene",
        *,
        lexical_weight: float = DEFAULT_LEXICAL_WEIGHT,
        title_weight: float = DEFAULT_TITLE_WEIGHT,
        fusion: Fusion = "weighted",
        wait_for_refresh: bool = True,
        live_keys: LiveKeys | None = None,
    ) -> None:
        self.client = client
        self.wait_for_refresh = wait_for_refresh
        self.live_keys = live_keys
        self.lexical_weight = lexical_weight
        self.title_weight = title_weight
        self.fusion: Fusion = fusion
        self.index = index
        self.dimension = dimension
        self.engine = engine
        self._index_ready = False

    @retryable
    def ensure_index(self) -> None:
        """Create the index if it does not exist: on the write path only (ingestion). Two cold
        starts may race; the second is answered `resource_already_exists_exception`, which means
        the index is there."""
        if self._index_ready:
            return
        if not self.client.indices.exists(index=self.index):
            from opensearchpy.exceptions import RequestError

            try:
                self.client.indices.create(index=self.index, body=index_mapping(self.dimension, self.engine))
            except RequestError as error:
                if error.error != "resource_already_exists_exception":
                    raise
        else:  # an index made before chunks carried filterable metadata: add the field
            self.client.indices.put_mapping(index=self.index, body={"properties": {META_FIELD: META_MAPPING}})
        self._index_ready = True

    @retryable
    def replace_document(
        self,
        brand_id: str,
        rag_scope: str,
        document_id: str,
        chunks: list[ChunkRecord],
        previous: Sequence[str] = (),
    ) -> list[str]:
        self.ensure_index()
        generation = uuid.uuid4().hex
        indexed: list[str] = []
        try:
            for start in range(0, len(chunks), BULK_CHUNKS):
                actions = [
                    [
                        json.dumps({"index": {"_index": self.index}}),
                        json.dumps(chunk_document(chunk, generation)),
                    ]
                    for chunk in chunks[start : start + BULK_CHUNKS]
                ]
                indexed += send_bulk(self.client, actions, wait_for_refresh=self.wait_for_refresh)
        except BulkRefused as refusal:
            # Nothing of the new version may stay searchable: remove what was indexed, by id (a
            # search might not see it yet). The old version is untouched.
            created = indexed + refusal.done
            if created:
                send_bulk(
                    self.client, [[json.dumps({"delete": {"_index": self.index, "_id": i}})] for i in created]
                )
            raise refusal.error from None
        self.remove_chunks(previous)
        return indexed

    @retryable
    def remove_chunks(self, keys: Sequence[str]) -> int:
        removed = 0
        for start in range(0, len(keys), PAGE):
            removed += len(
                send_bulk(
                    self.client,
                    [
                        [json.dumps({"delete": {"_index": self.index, "_id": key}})]
                        for key in keys[start : start + PAGE]
                    ],
                    wait_for_refresh=self.wait_for_refresh,
                )
            )
        return removed

    @retryable
    def delete_document(
        self, brand_id: str, rag_scope: str, document_id: str, keys: Sequence[str] = ()
    ) -> int:
        """The chunks of `keys` by id, then any other chunk of the document a search still finds
        (one written by an ingestion whose keys were never recorded)."""
        removed = self.remove_chunks(keys) if keys else 0
        return removed + self._delete_where(
            {
                "bool": {
                    "filter": [
                        {"term": {"brand_id": brand_id}},
                        {"term": {"rag_scope": rag_scope}},
                        {"term": {"document_id": document_id}},
                    ]
                }
            }
        )

    @retryable
    def search(
        self,
        brand_id: str,
        rag_scope: str | None,
        vector: list[float],
        top_k: int,
        threshold: float,
        *,
        text: str | None = None,
        filters: Filters = (),
        expansion: Mapping[str, float] | None = None,
    ) -> list[ScoredChunk]:
        """Hybrid, fused on the client as the local store fuses (parley.rag.fusion), so a score
        means the same in both stores: one k-NN query and, when there is text, one BM25 `match`
        query, each with the brand, scope and expiry filter applied by the server. The k-NN
        `_score` is OpenSearch's (1 + cosine) / 2 for cosinesimil, mapped back to the cosine; a
        chunk only the match query found counts as cosine 0. The read path never creates the
        index (the chat's role may not): no index yet means no chunks."""
        candidates = max(top_k * CANDIDATE_FACTOR, top_k)
        clauses = tenant_filter(brand_id, rag_scope, filters)
        dense = self._search(
            {
                "size": candidates,
                "_source": {"excludes": [VECTOR_FIELD, "metadata", META_FIELD]},
                "query": {
                    "knn": {
                        VECTOR_FIELD: {
                            "vector": vector,
                            "k": candidates,
                            "filter": {"bool": {"filter": clauses}},
                        }
                    }
                },
            }
        )
        words = query_terms(text) if text else []
        lexical = (
            self._search(
                {
                    "size": candidates,
                    "_source": {"excludes": [VECTOR_FIELD, "metadata", META_FIELD]},
                    "query": {
                        "bool": {
                            "should": _matches(words, expansion or {}, lexical_fields(self.title_weight)),
                            "minimum_should_match": 1,
                            "filter": clauses,
                        }
                    },
                }
            )
            if words
            else []
        )
        if not self.wait_for_refresh and self.live_keys is not None:
            dense, lexical = self._current(brand_id, dense, lexical)
        sources = {hit["_id"]: hit["_source"] for hit in [*lexical, *dense]}
        cosines = dict.fromkeys(sources, 0.0) | {hit["_id"]: 2 * float(hit["_score"]) - 1 for hit in dense}
        scores = fuse(
            cosines, {hit["_id"]: float(hit["_score"]) for hit in lexical}, self.fusion, self.lexical_weight
        )
        ranked = sorted(scores.items(), key=lambda pair: -pair[1])[:top_k]
        return [
            ScoredChunk(
                id=f"{sources[key]['document_id']}:{sources[key]['chunk_index']}",
                document_id=sources[key]["document_id"],
                content=sources[key]["content"],
                title=sources[key].get("title"),
                page=sources[key].get("page"),
                score=score,
            )
            for key, score in ranked
            if score >= threshold
        ]

    def _current(self, brand_id: str, *halves: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], ...]:
        """Each half without the hits the registry does not hold as their document's current
        chunks (a version deleted or replaced, still searchable until the next refresh)."""
        assert self.live_keys is not None
        documents = {
            (h["_source"]["rag_scope"], h["_source"]["document_id"]) for half in halves for h in half
        }
        if not documents:
            return halves
        live = self.live_keys(brand_id, documents)
        return tuple(
            [
                hit
                for hit in half
                if hit["_id"] in live.get((hit["_source"]["rag_scope"], hit["_source"]["document_id"]), ())
            ]
            for half in halves
        )

    @retryable
    def delete_expired(self, now: str) -> int:
        return self._delete_where({"range": {"expires_at": {"lte": now}}})

    def _delete_where(self, query: dict[str, Any]) -> int:
        """Every chunk matching `query`, found page by page and removed with _bulk deletes."""
        deleted, after = 0, None
        while True:
            body: dict[str, Any] = {
                "size": PAGE,
                "_source": False,
                "query": query,
                "sort": [{"generation": "asc"}, {"chunk_index": "asc"}],
            }
            if after is not None:
                body["search_after"] = after
            hits = self._search(body)
            if not hits:
                return deleted
            deleted += self.remove_chunks([hit["_id"] for hit in hits])
            if len(hits) < PAGE:
                return deleted
            after = hits[-1]["sort"]

    def _search(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The hits of a search; none when the index does not exist yet."""
        from opensearchpy.exceptions import NotFoundError

        try:
            hits: list[dict[str, Any]] = self.client.search(index=self.index, body=body)["hits"]["hits"]
        except NotFoundError as error:
            if error.error != "index_not_found_exception":
                raise
            return []
        return hits


def _matches(words: list[str], expansion: Mapping[str, float], fields: list[str]) -> list[dict[str, Any]]:
    """The question's words as one BM25 `multi_match`, and each added word as one of its own,
    boosted by its weight (BM25 sums the clauses, as the local store sums the words)."""
    clauses: list[dict[str, Any]] = [
        {"multi_match": {"query": " ".join(words), "fields": fields, "type": "most_fields"}}
    ]
    clauses += [
        {"multi_match": {"query": word, "fields": fields, "type": "most_fields", "boost": weight}}
        for word, weight in expansion.items()
        if word not in words
    ]
    return clauses
