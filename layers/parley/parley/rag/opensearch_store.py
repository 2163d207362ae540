"""Amazon OpenSearch Service / Serverless (or any OpenSearch cluster) as the vector store.

One index per embedder (its name carries the embedder and dimension), created by the first ingestion with
a `knn_vector` field: HNSW, `cosinesimil`. Search is hybrid (see `search`), each half with the
brand, scope and expiry filter applied by the server.

OpenSearch is near-real-time: a write becomes searchable at the next refresh (about a second),
so nothing here finds a document's chunks by searching for them. Serverless vector collections
take no custom document ids and no `_delete_by_query`, so chunks get the ids OpenSearch gives
them; `replace_document` returns those ids and the caller keeps them (the document registry),
then hands them back to remove exactly that version by id (deletes by id are immediate). A _bulk
answers per item: items rejected for load (429) are resent alone; if the new version cannot be
indexed whole, what was indexed of it is deleted by id and the old version stays as it was.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

from parley.rag.fusion import DEFAULT_LEXICAL_WEIGHT, Fusion, fuse
from parley.rag.lexical import query_terms
from parley.rag.opensearch_bulk import BulkRefused, send_bulk, unavailable
from parley.rag.vectors import ChunkRecord, ScoredChunk

BULK_CHUNKS = 250  # chunks per _bulk request (each line pair carries a vector)
CANDIDATE_FACTOR = 4  # each half returns this many times top_k candidates for the fusion
PAGE = 500
VECTOR_FIELD = "embedding"


P = ParamSpec("P")
R = TypeVar("R")


def _retryable(operation: Callable[P, R]) -> Callable[P, R]:
    """A cluster that is unreachable, too slow or overloaded is a 503 the client may retry."""

    @functools.wraps(operation)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return operation(*args, **kwargs)
        except BulkRefused as refusal:
            raise refusal.error from None
        except Exception as error:
            if (problem := unavailable(error)) is not None:
                raise problem from error
            raise

    return guarded


# Words as the local store's FTS5 reads them (`porter unicode61 remove_diacritics`): lower-cased,
# accents folded, Porter-stemmed, so BM25 matches "refunds" to "refund" in both stores.
TEXT_ANALYZER = {
    "analyzer": {
        "parley_text": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "asciifolding", "porter_stem"],
        }
    }
}
# The title counts half as much as the content, as in the local store's bm25(chunk_words, 1.0, 0.5).
LEXICAL_FIELDS = ["content", "title^0.5"]


def index_mapping(dimension: int, engine: str) -> dict[str, Any]:
    return {
        "settings": {"index": {"knn": True}, "analysis": TEXT_ANALYZER},
        "mappings": {
            "properties": {
                VECTOR_FIELD: {
                    "type": "knn_vector",
                    "dimension": dimension,
                    "method": {
                        "name": "hnsw",
                        "engine": engine,
                        "space_type": "cosinesimil",
                        "parameters": {"m": 16, "ef_construction": 128},
                    },
                },
                "brand_id": {"type": "keyword"},
                "rag_scope": {"type": "keyword"},
                "document_id": {"type": "keyword"},
                "generation": {"type": "keyword"},
                "chunk_index": {"type": "integer"},
                "page": {"type": "integer"},
                "content": {"type": "text", "analyzer": "parley_text"},
                "title": {"type": "text", "analyzer": "parley_text"},
                "metadata": {"type": "object", "enabled": False},
                "expires_at": {"type": "date"},
            }
        },
    }


class OpenSearchVectorStore:
    def __init__(
        self,
        client: Any,
        index: str,
        dimension: int,
        engine: str = "lucene",
        *,
        lexical_weight: float = DEFAULT_LEXICAL_WEIGHT,
        fusion: Fusion = "weighted",
    ) -> None:
        self.client = client
        self.lexical_weight = lexical_weight
        self.fusion: Fusion = fusion
        self.index = index
        self.dimension = dimension
        self.engine = engine
        self._index_ready = False

    @_retryable
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
        self._index_ready = True

    @_retryable
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
                    [json.dumps({"index": {"_index": self.index}}), json.dumps(_document(chunk, generation))]
                    for chunk in chunks[start : start + BULK_CHUNKS]
                ]
                indexed += send_bulk(self.client, actions)
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

    @_retryable
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
                )
            )
        return removed

    @_retryable
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

    @_retryable
    def search(
        self,
        brand_id: str,
        rag_scope: str | None,
        vector: list[float],
        top_k: int,
        threshold: float,
        *,
        text: str | None = None,
    ) -> list[ScoredChunk]:
        """Hybrid, fused on the client as the local store fuses (parley.rag.fusion), so a score
        means the same in both stores: one k-NN query and, when there is text, one BM25 `match`
        query, each with the brand, scope and expiry filter applied by the server. The k-NN
        `_score` is OpenSearch's (1 + cosine) / 2 for cosinesimil, mapped back to the cosine; a
        chunk only the match query found counts as cosine 0. The read path never creates the
        index (the chat's role may not): no index yet means no chunks."""
        candidates = max(top_k * CANDIDATE_FACTOR, top_k)
        filters = _tenant_filter(brand_id, rag_scope)
        dense = self._search(
            {
                "size": candidates,
                "_source": {"excludes": [VECTOR_FIELD, "metadata"]},
                "query": {
                    "knn": {
                        VECTOR_FIELD: {
                            "vector": vector,
                            "k": candidates,
                            "filter": {"bool": {"filter": filters}},
                        }
                    }
                },
            }
        )
        terms = " ".join(query_terms(text)) if text else ""
        lexical = (
            self._search(
                {
                    "size": candidates,
                    "_source": {"excludes": [VECTOR_FIELD, "metadata"]},
                    "query": {
                        "bool": {
                            "must": [
                                {
                                    "multi_match": {
                                        "query": terms,
                                        "fields": LEXICAL_FIELDS,
                                        "type": "most_fields",
                                    }
                                }
                            ],
                            "filter": filters,
                        }
                    },
                }
            )
            if terms
            else []
        )
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

    @_retryable
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


def _document(chunk: ChunkRecord, generation: str) -> dict[str, Any]:
    document: dict[str, Any] = {
        VECTOR_FIELD: chunk.embedding,
        "brand_id": chunk.brand_id,
        "rag_scope": chunk.rag_scope,
        "document_id": chunk.document_id,
        "generation": generation,
        "chunk_index": chunk.chunk_index,
        "content": chunk.content,
        "title": chunk.title,
        "metadata": chunk.metadata,
    }
    if chunk.expires_at:
        document["expires_at"] = chunk.expires_at
    if chunk.page is not None:
        document["page"] = chunk.page
    return document


def _tenant_filter(brand_id: str, rag_scope: str | None) -> list[dict[str, Any]]:
    """Brand (always), scope (when given) and not expired: applied by the server inside k-NN."""
    filters: list[dict[str, Any]] = [
        {"term": {"brand_id": brand_id}},
        {
            "bool": {
                "should": [
                    {"bool": {"must_not": {"exists": {"field": "expires_at"}}}},
                    {"range": {"expires_at": {"gt": "now"}}},
                ],
                "minimum_should_match": 1,
            }
        },
    ]
    if rag_scope is not None:
        filters.insert(1, {"term": {"rag_scope": rag_scope}})
    return filters


def opensearch_client(url: str, service: str, region: str, timeout: float = 10) -> Any:
    """A client for a plain URL (`service` "none"), or signed with SigV4 for Amazon OpenSearch
    Service ("es") or Serverless ("aoss") using the function's own credentials."""
    import boto3
    from opensearchpy import OpenSearch, Urllib3AWSV4SignerAuth, Urllib3HttpConnection

    options: dict[str, Any] = {
        "hosts": [url],
        "connection_class": Urllib3HttpConnection,
        "timeout": timeout,
        "max_retries": 2,
        # A timed-out _bulk may have been applied: sent again it would index the chunks twice
        # under new ids (a Serverless vector collection takes no ids of ours). Refused
        # connections, which sent nothing, are retried.
        "retry_on_timeout": False,
    }
    if service != "none":
        credentials = boto3.Session().get_credentials()
        options["http_auth"] = Urllib3AWSV4SignerAuth(credentials, region, service)
    return OpenSearch(**options)
