"""Baselines computed in the same run as Parley's retrieval, outside Parley's code: Okapi BM25
over whole documents (k1 1.5, b 0.75, the same English stop words, no stemming, as a plain BM25
library does) and dense-only ranking of whole documents with the same embedding model."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from parley.rag.lexical import STOP_WORDS

_WORDS = re.compile(r"\w+")


def _terms(text: str) -> list[str]:
    return [w for w in _WORDS.findall(text.lower()) if w not in STOP_WORDS]


class BM25:
    def __init__(self, documents: dict[str, str], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.counts = {doc: Counter(_terms(text)) for doc, text in documents.items()}
        self.lengths = {doc: sum(c.values()) for doc, c in self.counts.items()}
        self.average = sum(self.lengths.values()) / max(1, len(self.lengths))
        frequency: Counter[str] = Counter()
        for counts in self.counts.values():
            frequency.update(counts.keys())
        total = len(self.counts)
        self.idf = {t: math.log(1 + (total - n + 0.5) / (n + 0.5)) for t, n in frequency.items()}

    def rank(self, question: str) -> list[str]:
        terms = set(_terms(question))
        scores = {}
        for doc, counts in self.counts.items():
            norm = self.k1 * (1 - self.b + self.b * self.lengths[doc] / self.average)
            score = sum(
                self.idf[t] * counts[t] * (self.k1 + 1) / (counts[t] + norm) for t in terms if t in counts
            )
            if score:
                scores[doc] = score
        return sorted(scores, key=lambda d: -scores[d])


def dense_rank(question_vector: Any, document_vectors: Any, ids: list[str]) -> list[str]:
    similarities = document_vectors @ question_vector
    return [ids[i] for i in (-similarities).argsort()]


def fused_rank(first: list[str], second: list[str], k: int = 60) -> list[str]:
    """Reciprocal-rank fusion of two rankings."""
    scores: dict[str, float] = {}
    for ranking in (first, second):
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + 1 / (k + rank)
    return sorted(scores, key=lambda d: -scores[d])
