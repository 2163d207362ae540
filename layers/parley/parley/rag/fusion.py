"""How the dense and lexical halves of a hybrid search become one score in [0, 1].

`weighted` (the default, chosen with `make eval`): score = (1 - w)·max(cosine, 0) + w·lexical,
where lexical is the chunk's BM25 divided by the best BM25 any chunk got for this question
(0 without a lexical match) and w is the lexical weight. The dense half is absolute, so a chunk
unrelated to the question (low cosine, no shared content word) scores low whatever else is in
the store, and a threshold means the same for every question.

`rrf` (reciprocal-rank fusion, k = 60): each half contributes 1/(k + rank), divided by the best
possible sum, so the top of both lists scores 1. Ranks carry no notion of "unrelated": under RRF
a threshold only trims the tail.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

Fusion = Literal["weighted", "rrf"]
DEFAULT_LEXICAL_WEIGHT = 0.3
DEFAULT_TITLE_WEIGHT = 0.5  # a title word's BM25 weight beside a content word's (1)
RRF_K = 60

K = TypeVar("K")


def fuse(
    dense: dict[K, float], lexical: dict[K, float], method: Fusion, lexical_weight: float
) -> dict[K, float]:
    """One score per candidate of `dense` (cosines); `lexical` holds BM25 scores of those that matched."""
    if method == "rrf":
        return _reciprocal_rank(dense, lexical)
    best = max(lexical.values(), default=0.0)
    return {
        key: (1 - lexical_weight) * max(cosine, 0.0)
        + lexical_weight * (lexical.get(key, 0.0) / best if best else 0.0)
        for key, cosine in dense.items()
    }


def _reciprocal_rank(dense: dict[K, float], lexical: dict[K, float]) -> dict[K, float]:
    scores = dict.fromkeys(dense, 0.0)
    for ranking in (dense, lexical):
        for rank, key in enumerate(sorted(ranking, key=lambda k: -ranking[k]), start=1):
            scores[key] += 1.0 / (RRF_K + rank)
    halves = 2 if lexical else 1
    return {key: score / (halves / (RRF_K + 1)) for key, score in scores.items()}


def fuse_arrays(dense: Any, lexical: Any, matched: Any, method: Fusion, lexical_weight: float) -> Any:
    """`fuse` over numpy arrays of the same candidates, in the same order: their cosines, their
    BM25 scores, and which of them the lexical half matched. The same scores as `fuse` gives."""
    import numpy

    if method == "rrf":
        count = len(dense)
        scores = numpy.zeros(count, dtype=numpy.float64)
        dense_order = numpy.argsort(-dense, kind="stable")
        scores[dense_order] += 1.0 / (RRF_K + numpy.arange(1, count + 1))
        matched_positions = numpy.flatnonzero(matched)
        lexical_order = matched_positions[numpy.argsort(-lexical[matched_positions], kind="stable")]
        scores[lexical_order] += 1.0 / (RRF_K + numpy.arange(1, len(lexical_order) + 1))
        halves = 2 if len(lexical_order) else 1
        return scores / (halves / (RRF_K + 1))
    best = float(lexical[matched].max()) if matched.any() else 0.0
    relative = numpy.where(matched, lexical / best, 0.0) if best else numpy.zeros(len(dense))
    return (1 - lexical_weight) * numpy.maximum(dense, 0.0) + lexical_weight * relative
