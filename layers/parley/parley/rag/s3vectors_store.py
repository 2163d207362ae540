"""The S3 Vectors store: chunk vectors in an Amazon S3 Vectors index (one per embedder, cosine),
the lexical half in each brand's lexicon (an FTS5 file kept as an S3 object: parley.rag.lexicon,
parley.rag.lexicon_objects), fused as the other stores fuse (parley.rag.fusion).

A search revalidates the brand's lexicon, then asks S3 Vectors for the nearest chunks with the
brand, scope, expiry and metadata filters inside the query (topK is at most 100), scores the words
over every chunk the lexicon allows, and fetches the vectors of the best word matches the dense
query did not return (GetVectors), so every candidate's cosine is exact and a score means what it
means in the local store. Only chunks the lexicon lists are returned: a document deleted or
replaced is never found once the call that did it returned, whatever the index still holds.

Writes: the new chunks' vectors first (new keys), then the lexicon (conditional on its ETag), then
the old vectors are deleted; if the vectors or the lexicon cannot be written, the new vectors are
deleted again and the old version stands. S3 Vectors is strongly consistent, so the store reads
its own writes and hands out no keys."""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from parley.errors import StoreUnavailable
from parley.models.filters import Filters
from parley.rag.brand_vectors import best_positions, numpy_module
from parley.rag.fusion import DEFAULT_LEXICAL_WEIGHT, DEFAULT_TITLE_WEIGHT, Fusion, fuse_arrays
from parley.rag.lexical import fts5_query, query_terms
from parley.rag.lexicon import Catalog, Lexicon, epoch
from parley.rag.lexicon_objects import LexiconObjects
from parley.rag.s3vectors_metadata import NON_FILTERABLE, vector_filter, vector_metadata
from parley.rag.vectors import ChunkRecord, ScoredChunk

MAX_TOP_K = 100  # S3 Vectors' topK per QueryVectors
PUT_BATCH, DELETE_BATCH, GET_BATCH = 500, 500, 100  # vectors per PutVectors, DeleteVectors, GetVectors
CANDIDATE_FACTOR = 4  # candidates of each half per result wanted (as the OpenSearch store asks)


P = ParamSpec("P")
R = TypeVar("R")


def retryable(operation: Callable[P, R]) -> Callable[P, R]:
    """A throttled, unreachable or failing S3 Vectors or S3 is a 503 the client may retry."""

    @functools.wraps(operation)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return operation(*args, **kwargs)
        except Exception as error:
            if (problem := unavailable(error)) is not None:
                raise problem from error
            raise

    return guarded


class S3VectorsStore:
    def __init__(
        self,
        client: Any,
        bucket: str,
        index: str,
        dimension: int,
        lexicons: LexiconObjects,
        *,
        fusion: Fusion = "weighted",
        lexical_weight: float = DEFAULT_LEXICAL_WEIGHT,
        title_weight: float = DEFAULT_TITLE_WEIGHT,
    ) -> None:
        self.client, self.bucket, self.index, self.dimension = client, bucket, index, dimension
        self.lexicons = lexicons
        self.fusion: Fusion = fusion
        self.lexical_weight, self.title_weight = lexical_weight, title_weight
        self._index_ready = False

    def _where(self) -> dict[str, str]:
        return {"vectorBucketName": self.bucket, "indexName": self.index}

    def ensure_index(self) -> None:
        """Create the index if it is missing: on the write path only. Two cold starts may race;
        the second is told ConflictException, which means the index is there."""
        if self._index_ready:
            return
        try:
            self.client.get_index(**self._where())
        except self.client.exceptions.NotFoundException:
            with contextlib.suppress(self.client.exceptions.ConflictException):
                self.client.create_index(
                    **self._where(),
                    dataType="float32",
                    dimension=self.dimension,
                    distanceMetric="cosine",
                    metadataConfiguration={"nonFilterableMetadataKeys": list(NON_FILTERABLE)},
                )
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
        self.replace_documents(brand_id, rag_scope, [(document_id, chunks)], previous)
        return []

    @retryable
    def replace_documents(
        self,
        brand_id: str,
        rag_scope: str,
        documents: Sequence[tuple[str, list[ChunkRecord]]],
        previous: Sequence[str] = (),
    ) -> None:
        """Each document's chunks made its only ones: every new vector first, then one write of
        the brand's lexicon for them all (a bulk load rewrites it once, not once a document),
        then the old vectors go."""
        chunks = [chunk for _, document_chunks in documents for chunk in document_chunks]
        carried = [vector_metadata(chunk) for chunk in chunks]  # a 400 before anything is written
        self.ensure_index()
        keys = [f"{uuid.uuid4().hex}-{chunk.chunk_index}" for chunk in chunks]
        written: list[str] = []

        def replaced(lexicon: Lexicon) -> list[str]:
            old: list[str] = []
            start = 0
            for document_id, document_chunks in documents:
                pairs = list(zip(keys[start : start + len(document_chunks)], document_chunks, strict=True))
                old += lexicon.replace(rag_scope, document_id, pairs)
                start += len(document_chunks)
            return old

        try:
            for start in range(0, len(chunks), PUT_BATCH):
                batch = range(start, min(start + PUT_BATCH, len(chunks)))
                self.client.put_vectors(
                    **self._where(),
                    vectors=[
                        {"key": keys[i], "data": {"float32": chunks[i].embedding}, "metadata": carried[i]}
                        for i in batch
                    ],
                )
                written += [keys[i] for i in batch]
            old = self.lexicons.update(brand_id, replaced)
        except BaseException:
            self._delete(written)  # the new versions go; the old ones stand
            raise
        self._delete([*(old or []), *previous])

    @retryable
    def remove_chunks(self, keys: Sequence[str]) -> int:
        return self._delete(list(keys))

    @retryable
    def delete_document(
        self, brand_id: str, rag_scope: str, document_id: str, keys: Sequence[str] = ()
    ) -> int:
        removed = self.lexicons.update(
            brand_id, lambda lexicon: lexicon.remove_document(rag_scope, document_id), create=False
        )
        self._delete([*(removed or []), *keys])
        return len(removed or [])

    @retryable
    def delete_expired(self, now: str) -> int:
        moment = epoch(now) or 0.0
        removed = 0
        for key in self.lexicons.object_keys():
            expired = self.lexicons.update_object(
                key, lambda lexicon: lexicon.remove_expired(moment), create=False
            )
            self._delete(expired or [])
            removed += len(expired or [])
        return removed

    def _delete(self, keys: list[str]) -> int:
        if not keys or not self._index_exists():
            return 0
        for start in range(0, len(keys), DELETE_BATCH):
            self.client.delete_vectors(**self._where(), keys=keys[start : start + DELETE_BATCH])
        return len(keys)

    def _index_exists(self) -> bool:
        if self._index_ready:
            return True
        try:
            self.client.get_index(**self._where())
        except self.client.exceptions.NotFoundException:
            return False
        self._index_ready = True
        return True

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
        np = numpy_module()
        lexicon = self.lexicons.read(brand_id)
        if lexicon is None:
            return []  # the brand has no documents
        now = datetime.now(UTC).timestamp()
        catalog = lexicon.catalog(np)
        allowed = catalog.mask(np, rag_scope, now)
        if filters:
            allowed &= np.isin(catalog.rowids, lexicon.filtered_rowids(rag_scope, filters, np))
        if not allowed.any():
            return []
        candidates = min(MAX_TOP_K, max(top_k * CANDIDATE_FACTOR, top_k))
        dense: dict[int, float] = {}  # position in the catalog → cosine
        for key, cosine in self._nearest(brand_id, rag_scope, vector, candidates, filters, now).items():
            position = catalog.position.get(key)
            if position is not None and allowed[position]:  # live chunks only
                dense[position] = cosine
        lexical = self._word_scores(lexicon, catalog, text, expansion, allowed, np)
        best_words = sorted(lexical, key=lambda position: (-lexical[position], position))[:candidates]
        missing = [catalog.keys[position] for position in best_words if position not in dense]
        for key, cosine in self._cosines(missing, vector, np).items():
            dense[catalog.position[key]] = cosine
        if not dense:
            return []
        # The best word match is among the candidates, so BM25 is divided by the brand's best, as
        # in the local store.
        positions = sorted(dense)
        fused = fuse_arrays(
            np.array([dense[p] for p in positions], dtype=np.float64),
            np.array([lexical.get(p, 0.0) for p in positions], dtype=np.float64),
            np.array([p in lexical for p in positions], dtype=bool),
            self.fusion,
            self.lexical_weight,
        )
        chosen = best_positions(np, fused, top_k, threshold)
        rowids = [int(catalog.rowids[positions[i]]) for i in chosen]
        rows = lexicon.rows(rowids)
        return [
            ScoredChunk(
                id=f"{row[1]}:{row[2]}",
                document_id=row[1],
                content=row[3],
                title=row[4],
                score=float(fused[i]),
                page=row[5],
            )
            for i, rowid in zip(chosen, rowids, strict=True)
            if (row := rows.get(rowid)) is not None
        ]

    def _nearest(  # noqa: PLR0917 (the search's parts, passed on)
        self,
        brand_id: str,
        rag_scope: str | None,
        vector: list[float],
        count: int,
        filters: Filters,
        now: float,
    ) -> dict[str, float]:
        """key → cosine of the `count` nearest chunks the filters admit (none before the index)."""
        try:
            found = self.client.query_vectors(
                **self._where(),
                topK=count,
                queryVector={"float32": vector},
                filter=vector_filter(brand_id, rag_scope, filters, now),
                returnDistance=True,
            )
        except self.client.exceptions.NotFoundException:
            return {}
        return {hit["key"]: 1.0 - float(hit["distance"]) for hit in found["vectors"]}

    def _cosines(self, keys: list[str], vector: list[float], np: Any) -> dict[str, float]:
        """key → cosine with `vector` of each chunk of `keys` the index holds (GetVectors)."""
        if not keys:
            return {}
        query = np.asarray(vector, dtype=np.float64)
        query_norm = float(np.linalg.norm(query)) or 1.0
        cosines: dict[str, float] = {}
        for start in range(0, len(keys), GET_BATCH):
            got = self.client.get_vectors(
                **self._where(), keys=keys[start : start + GET_BATCH], returnData=True
            )
            for item in got["vectors"]:
                data = np.asarray(item["data"]["float32"], dtype=np.float64)
                cosines[item["key"]] = float(data @ query) / (
                    (float(np.linalg.norm(data)) or 1.0) * query_norm
                )
        return cosines

    def _word_scores(  # noqa: PLR0917 (the search's parts, passed on)
        self,
        lexicon: Lexicon,
        catalog: Catalog,
        text: str | None,
        expansion: Mapping[str, float] | None,
        allowed: Any,
        np: Any,
    ) -> dict[int, float]:
        """position → BM25 of each allowed chunk the question's words (and the added ones) match."""
        words = query_terms(text) if text else []
        if not words:
            return {}
        added = {w: weight for w, weight in (expansion or {}).items() if w not in words}
        weights = [1.0] * len(words) + list(added.values())
        scored = lexicon.word_scores([*words, *added], weights, self.title_weight, np)
        if scored is not None:
            rowids, scores = scored
        else:
            match = fts5_query(" ".join([*words, *added]))
            pairs = lexicon.bm25(match, self.title_weight) if match else []
            rowids = np.array([r for r, _ in pairs], dtype=np.int64)
            scores = np.array([v for _, v in pairs], dtype=np.float64)
        if not len(rowids):
            return {}
        at = np.minimum(np.searchsorted(catalog.rowids, rowids), len(catalog.rowids) - 1)
        hit = (catalog.rowids[at] == rowids) & allowed[at]
        return dict(zip(at[hit].tolist(), scores[hit].tolist(), strict=True))


def unavailable(error: Exception) -> StoreUnavailable | None:
    """A throttled, unreachable or failing S3 Vectors or S3 is a 503 the client may retry."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if status == 429 or status >= 500:
            return StoreUnavailable("The vector store is busy or unavailable; retry in a moment.")
    if type(error).__name__ in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
        return StoreUnavailable("The vector store did not answer; retry in a moment.")
    return None
