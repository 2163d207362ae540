"""Ranking metrics over one query's ranked document ids and its judgments (id → gain)."""

from __future__ import annotations

import math


def ndcg_at(k: int, ranked: list[str], judged: dict[str, int]) -> float:
    """Normalised discounted cumulative gain of the first k results (gains as judged)."""
    gained = sum(judged.get(doc, 0) / math.log2(position + 2) for position, doc in enumerate(ranked[:k]))
    ideal = sum(
        gain / math.log2(position + 2)
        for position, gain in enumerate(sorted(judged.values(), reverse=True)[:k])
    )
    return gained / ideal if ideal else 0.0


def recall_at(k: int, ranked: list[str], judged: dict[str, int]) -> float:
    relevant = {doc for doc, gain in judged.items() if gain > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: list[str], judged: dict[str, int]) -> float:
    for position, doc in enumerate(ranked):
        if judged.get(doc, 0) > 0:
            return 1.0 / (position + 1)
    return 0.0
