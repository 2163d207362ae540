"""A synchronous ingestion embeds within its deadline or refuses the batch before storing any of
it, judged on the pace of a first small batch (the clock here is injected)."""

from __future__ import annotations

import pytest

from parley.errors import BatchTooLarge
from parley.logic.embedding import PROBE_CHUNKS, Deadline, embed_within


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SecondPerText:
    """An embedder that takes one second (of the injected clock) per text."""

    name, dimension = "slow", 2

    def __init__(self, clock: Clock) -> None:
        self.clock, self.calls = clock, []

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        self.clock.now += len(texts)
        return [[1.0, 0.0] for _ in texts]


def test_a_batch_the_deadline_cannot_hold_is_refused_after_the_first_small_batch() -> None:
    clock = Clock()
    embedder = SecondPerText(clock)

    with pytest.raises(BatchTooLarge) as refused:
        embed_within([f"text {n}" for n in range(40)], embedder, Deadline(10, clock))

    assert embedder.calls == [PROBE_CHUNKS]  # nothing embedded past the probe
    assert refused.value.status == 413 and refused.value.code == "batch_too_large"
    assert "40 chunks" in refused.value.message and "at most 10 chunks" in refused.value.message
    assert "POST /v1/ai/files" in refused.value.message


def test_a_batch_that_fits_is_embedded_whole() -> None:
    clock = Clock()
    embedder = SecondPerText(clock)

    vectors = embed_within([f"text {n}" for n in range(30)], embedder, Deadline(31, clock))

    assert len(vectors) == 30 and embedder.calls == [PROBE_CHUNKS, 30 - PROBE_CHUNKS]


def test_without_a_deadline_nothing_is_probed() -> None:
    embedder = SecondPerText(Clock())

    assert len(embed_within(["a"] * 300, embedder)) == 300 and embedder.calls == [256, 44]
