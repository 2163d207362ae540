"""Retrieval as the RAG chat (and `make eval`) runs it: the question built from the recent turns,
embedded, and searched by meaning and by words in the brand's store."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from parley.models.filters import Filters
from parley.providers.embedders import Embedder
from parley.rag.feedback import NO_FEEDBACK, Feedback, expansion
from parley.rag.lexical import query_terms
from parley.rag.rerank import RerankChoice, Reranked, Reranker
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
    rerank: Reranking | None = None,
) -> list[ScoredChunk]:
    """The best `top_k` chunks for `query`. With feedback, a first search reads the top results,
    and a second one, with the words they share added to the lexical half, is the answer. With a
    reranker, the fused top `top_n` (those above the threshold) are put in its order, each
    scored by its relevance, and the first `top_k` kept."""
    if not query:
        return []
    vector = embed.embed([query])[0]
    wanted = max(top_k, rerank.choice.top_n) if rerank is not None else top_k
    if feedback.documents <= 0:
        found = store.search(brand_id, rag_scope, vector, wanted, threshold, text=query, filters=filters)
    else:
        first = store.search(
            brand_id, rag_scope, vector, feedback.documents, 0.0, text=query, filters=filters
        )
        added = expansion(query, first, feedback)
        found = store.search(
            brand_id, rag_scope, vector, wanted, threshold, text=query, filters=filters, expansion=added
        )
    if rerank is None or not found:
        return found[:top_k]
    reranked = rerank.reranker.rerank(query, found, rerank.choice)
    if rerank.spent is not None:
        rerank.spent(reranked)
    return reranked.chunks[:top_k]


@dataclass(frozen=True)
class Reranking:
    """A search's reranking: the reranker, the model and depth, and who is charged its queries."""

    reranker: Reranker
    choice: RerankChoice
    spent: Callable[[Reranked], None] | None = None


class Retriever:
    """Searches a brand's chunks for a query. The store and the embedder are made on the first
    search, so a request that retrieves nothing never loads a model or opens a store."""

    def __init__(
        self,
        store: Callable[[], VectorStore],
        embed: Callable[[], Embedder],
        feedback: Feedback = NO_FEEDBACK,
        reranker: Callable[[], Reranker | None] = lambda: None,
        *,
        default_rerank: RerankChoice | None = None,
        brand_reranks: Mapping[str, RerankChoice | None] | None = None,
    ) -> None:
        self._store, self._embed, self._feedback = store, embed, feedback
        self._reranker = reranker
        self.default_rerank = default_rerank  # RAG_RERANK_MODEL's, for searches that name none
        self.brand_reranks = dict(brand_reranks or {})  # RAG_RERANK_BY_BRAND's, over the default

    def rerank_for(self, brand_id: str, own: RerankChoice | None) -> RerankChoice | None:
        """The reranking of a brand's search: the search's own (an assistant's), else the brand's,
        else the deployment's."""
        if own is not None:
            return own
        return self.brand_reranks.get(brand_id, self.default_rerank)

    def __call__(
        self,
        brand_id: str,
        rag_scope: str | None,
        query: str,
        top_k: int,
        threshold: float,
        *,
        filters: Filters = (),
        rerank: RerankChoice | None = None,
        spent: Callable[[Reranked], None] | None = None,
    ) -> list[ScoredChunk]:
        """`rerank`: the model and depth to rerank with (None: the brand's or the deployment's,
        if any), its queries charged to `spent`; a search with nobody to charge is not reranked."""
        if not query:
            return []
        choice = self.rerank_for(brand_id, rerank)
        reranker = self._reranker() if choice is not None and spent is not None else None
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
            rerank=Reranking(reranker, choice, spent)
            if reranker is not None and choice is not None
            else None,
        )
