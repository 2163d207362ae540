"""Embedding a batch of chunks, within a request's deadline when it has one."""

from __future__ import annotations

import time
from collections.abc import Callable

from parley.errors import BatchTooLarge
from parley.providers.embedders import Embedder

EMBED_BATCH = 256  # texts per embedder call: one model or API call serves many small documents
PROBE_CHUNKS = 8  # the first batch of a synchronous ingestion: it measures the embedder's pace


class Deadline:
    """The time a synchronous ingestion may spend embedding. After a first small batch it knows
    the embedder's pace, and it refuses the batch (BatchTooLarge) as soon as the rest would not
    fit, before anything is stored. `clock` is injected in tests."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self.started = clock()

    def check(self, done: int, total: int) -> None:
        elapsed = self.clock() - self.started
        pace = elapsed / done if done else 0.0
        if pace and elapsed + pace * (total - done) > self.seconds:
            raise BatchTooLarge(total, max(1, int(self.seconds / pace)), self.seconds)


def embed_within(texts: list[str], embed: Embedder, deadline: Deadline | None = None) -> list[list[float]]:
    """The texts' vectors in batches of EMBED_BATCH; with a deadline, a first batch of
    PROBE_CHUNKS measures the pace and each batch after it is checked against the deadline."""
    vectors: list[list[float]] = []
    step = PROBE_CHUNKS if deadline else EMBED_BATCH
    while len(vectors) < len(texts):
        vectors += embed.embed(texts[len(vectors) : len(vectors) + step])
        if deadline is not None and len(vectors) < len(texts):
            deadline.check(len(vectors), len(texts))
        step = EMBED_BATCH
    return vectors
