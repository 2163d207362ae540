"""Tried in `make eval`, not shipped: Rocchio feedback on the dense half. The question's vector
moves toward the mean of its first search's top results (q' = q + beta * mean, made unit length)
for a second search. The results' vectors are the ones ingestion computed (the run's remembering
embedder holds every chunk's), so no store change is needed to measure it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy

from parley.rag.retrieval import retrieve
from parley.rag.vectors import VectorStore

# (results read, beta): the usual range of the method.
SETTINGS = ((3, 0.3), (5, 0.3), (10, 0.3), (5, 0.6), (10, 0.6))


class _Given:
    """An embedder that answers with a vector already made."""

    name, dimension = "given", 384

    def __init__(self, vector: list[float]) -> None:
        self.vector = vector

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self.vector for _ in texts]


def rocchio_ranker(  # noqa: PLR0917 (the run's parts, passed on)
    store: VectorStore,
    known: dict[str, list[float]],
    embed: Callable[[list[str]], list[list[float]]],
    brand: str,
    scope: str,
    depth: int,
    documents: int,
    beta: float,
    documents_of: Callable[[list[Any]], list[str]],
) -> Callable[[str], list[str]]:
    def rank(question: str) -> list[str]:
        vector = numpy.array(embed([question])[0])
        first = store.search(brand, scope, list(vector), documents, 0.0, text=question)
        read = [numpy.array(known[hit.content]) for hit in first if hit.content in known]
        if read:
            vector = vector + beta * numpy.mean(read, axis=0)
            vector /= numpy.linalg.norm(vector)
        found = retrieve(brand, scope, question, depth, 0.0, store=store, embed=_Given(vector.tolist()))
        return documents_of(found)

    return rank
