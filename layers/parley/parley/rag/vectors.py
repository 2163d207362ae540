"""The vector store interface. Every store filters by brand (and scope) itself, applies `top_k`
and `threshold` itself, and scores in [0, 1] as parley.rag.fusion defines, so a threshold means
the same everywhere."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from parley.models.filters import Filters


@dataclass(frozen=True)
class ChunkRecord:
    brand_id: str
    rag_scope: str
    document_id: str
    chunk_index: int
    content: str
    embedding: list[float]
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    expires_at: str | None = None  # ISO 8601; an expired chunk is never returned
    page: int | None = None  # the page (from 1) of a paginated file the chunk comes from

    @property
    def chunk_id(self) -> str:
        return f"{self.document_id}:{self.chunk_index}"


@dataclass(frozen=True)
class ScoredChunk:
    id: str
    document_id: str
    content: str
    score: float
    title: str | None = None
    page: int | None = None


class VectorStore(Protocol):
    """A store whose searches may lag its writes (OpenSearch is near-real-time) cannot find a
    just-written document by searching: it returns keys for the chunks it indexes, the caller
    keeps them (parley.store.documents) and hands them back to replace or delete the document.
    A store that reads its own writes finds the chunks itself and returns no keys."""

    def replace_document(
        self,
        brand_id: str,
        rag_scope: str,
        document_id: str,
        chunks: list[ChunkRecord],
        previous: Sequence[str] = (),
    ) -> list[str]:
        """Make `chunks` the document's only chunks: the new version is indexed whole, or not at
        all, before the old one (`previous`: the keys of its last write) is removed. The keys
        of the new chunks."""

    def remove_chunks(self, keys: Sequence[str]) -> int:
        """Remove the chunks of `keys` (those already gone are skipped); the number removed."""

    def delete_document(
        self, brand_id: str, rag_scope: str, document_id: str, keys: Sequence[str] = ()
    ) -> int:
        """Remove every chunk of the document: those of `keys` and any the store finds; the
        number removed (0: it did not exist)."""

    def delete_expired(self, now: str) -> int:
        """Remove every chunk whose `expires_at` is past `now` (ISO 8601); the number removed."""

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
        """The best `top_k` chunks of the brand (and scope) whose metadata meets `filters`,
        scoring at least `threshold`: by `vector` and, when given, by the words of `text`
        (hybrid), with `expansion`'s words added to them at their weights (those of `text`
        weigh 1). The store applies every filter inside its search, never to its results."""


@runtime_checkable
class BulkReplacing(Protocol):
    """A store that writes many documents of one brand and scope in one go, and needs no keys
    back (the S3 Vectors store: one write of the brand's lexicon for them all)."""

    def replace_documents(
        self,
        brand_id: str,
        rag_scope: str,
        documents: Sequence[tuple[str, list[ChunkRecord]]],
        previous: Sequence[str] = (),
    ) -> None: ...
