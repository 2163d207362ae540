"""Pseudo-relevance feedback for the lexical half (RM3-style): the words the top results of a
first search share, added to the question's with weights, for one second search.

A word's feedback weight is its relevance-model probability: over the top `documents` results,
the share of each result's words it makes up, weighted by the result's score. The `terms` most
probable words the question lacks are added; the question's own words keep weight 1, and the
added ones share `weight` of that in proportion to their probability (RM3's interpolation with
the question at 1 - weight). Stop words, numbers and words of fewer than three letters are
never added."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from parley.rag.lexical import STOP_WORDS, query_terms
from parley.rag.vectors import ScoredChunk

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


@dataclass(frozen=True)
class Feedback:
    documents: int  # top results read (0: no feedback, one search)
    terms: int  # words added at most
    weight: float  # the added words' share of the query, in (0, 1)


NO_FEEDBACK = Feedback(0, 0, 0.0)


def expansion(question: str, results: Sequence[ScoredChunk], feedback: Feedback) -> dict[str, float]:
    """The added words and their weights (the question's own words weigh 1 each)."""
    top = results[: feedback.documents]
    asked = set(query_terms(question))
    if not top or not asked or feedback.terms <= 0:
        return {}
    model: dict[str, float] = {}
    for result in top:
        words = [w for w in _WORD.findall(result.content.lower()) if w not in STOP_WORDS]
        if not words:
            continue
        for word, count in Counter(words).items():
            model[word] = model.get(word, 0.0) + max(result.score, 1e-6) * count / len(words)
    ranked = sorted(model.items(), key=lambda pair: (-pair[1], pair[0]))
    chosen = [(w, p) for w, p in ranked if w not in asked][: feedback.terms]
    total = sum(p for _, p in chosen)
    if not total:
        return {}
    # The question's words weigh 1 each, (1 - weight) of the whole; the added ones the rest.
    share = feedback.weight / (1 - feedback.weight) * len(asked)
    return {word: share * p / total for word, p in chosen}
