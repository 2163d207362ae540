"""Retrieval as the RAG chat (and `make eval`) runs it: the question built from the recent turns,
embedded, and searched by meaning and by words in the brand's store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from parley.models.filters import Filters
from parley.providers.embedders import Embedder
from parley.rag.feedback import NO_FEEDBACK, Feedback, expansion
from parley.rag.lexical import query_terms
from parley.rag.vectors import ScoredChunk, VectorStore

# A latest question with fewer content words than this is read as a follow-up ("and in Europe?").
FOLLOW_UP_WORDS = 6
EARLIER_TURNS = 2


class Turn(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def content(self) -> str: ...


def retrieval_query(messages: Sequence[Turn]) -> str:
    """What to search for: the latest user message, and when it is a short follow-up, the user's
    earlier turns before it, so "and in Europe?" keeps the subject it follows."""
    asked = [m.content.strip() for m in messages if m.role == "user" and m.content.strip()]
    if not asked:
        return ""
    latest = asked[-1]
    if len(query_terms(latest)) >= FOLLOW_UP_WORDS:
        return latest
    return " ".join([*asked[-1 - EARLIER_TURNS : -1], latest])


def retrieve(
    brand_id: str,
    rag_scope: str | None,
    query: str,
    top_k: int,
    threshold: float,
    *,
    store: VectorStore,
    embed: Embedder,
    filters: Filters = (),
    feedback: Feedback = NO_FEEDBACK,
) -> list[ScoredChunk]:
    """The best `top_k` chunks for `query`. With feedback, a first search reads the top results,
    and a second one, with the words they share added to the lexical half, is the answer."""
    if not query:
        return []
    vector = embed.embed([query])[0]
    if feedback.documents <= 0:
        return store.search(brand_id, rag_scope, vector, top_k, threshold, text=query, filters=filters)
    first = store.search(brand_id, rag_scope, vector, feedback.documents, 0.0, text=query, filters=filters)
    added = expansion(query, first, feedback)
    return store.search(
        brand_id, rag_scope, vector, top_k, threshold, text=query, filters=filters, expansion=added
    )


class Retriever:
    """Searches a brand's chunks for a query. The store and the embedder are made on the first
    search, so a request that retrieves nothing never loads a model or opens a store."""

    def __init__(
        self,
        store: Callable[[], VectorStore],
        embed: Callable[[], Embedder],
        feedback: Feedback = NO_FEEDBACK,
    ) -> None:
        self._store, self._embed, self._feedback = store, embed, feedback

    def __call__(
        self,
        brand_id: str,
        rag_scope: str | None,
        query: str,
        top_k: int,
        threshold: float,
        *,
        filters: Filters = (),
    ) -> list[ScoredChunk]:
        if not query:
            return []
        return retrieve(
            brand_id,
            rag_scope,
            query,
            top_k,
            threshold,
            store=self._store(),
            embed=self._embed(),
            filters=filters,
            feedback=self._feedback,
        )
