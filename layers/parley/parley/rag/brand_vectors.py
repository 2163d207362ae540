"""One brand's vectors in memory, as the local store searches them: one float32 matrix with each
row's scope and expiry for the masks, and the choice of the best scores."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from parley.config import ConfigurationError


class BrandVectors:
    """One brand's embeddings as one float32 matrix (rows in rowid order), with each row's scope
    (as a small integer) and expiry (epoch seconds, infinity for none) for the masks."""

    def __init__(
        self, rowids: Any, matrix: Any, scopes: Any, scope_codes: dict[str, int], expires: Any
    ) -> None:
        self.rowids, self.matrix, self.scopes, self.expires = rowids, matrix, scopes, expires
        self._scope_codes = scope_codes

    @classmethod
    def of(cls, rows: list[tuple[int, str, str | None, bytes]]) -> BrandVectors:
        np = numpy_module()
        codes: dict[str, int] = {}
        rowids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        scopes = np.fromiter(
            (codes.setdefault(row[1], len(codes)) for row in rows), dtype=np.int32, count=len(rows)
        )
        expires = np.fromiter((_epoch(row[2]) for row in rows), dtype=np.float64, count=len(rows))
        dimension = len(rows[0][3]) // 4 if rows else 0
        matrix = np.frombuffer(b"".join(row[3] for row in rows), dtype=np.float32).reshape(
            len(rows), dimension
        )
        return cls(rowids, matrix, scopes, codes, expires)

    def scope_code(self, rag_scope: str) -> int:
        return self._scope_codes.get(rag_scope, -1)


def best_positions(np: Any, scores: Any, top_k: int, threshold: float) -> list[int]:
    """Positions of the `top_k` best scores at or above `threshold`, best first; ties in row order."""
    eligible = np.flatnonzero(scores >= threshold)
    if eligible.size > top_k:
        kth = np.partition(-scores[eligible], top_k - 1)[top_k - 1]
        eligible = eligible[-scores[eligible] <= kth]
    order = np.lexsort((eligible, -scores[eligible]))
    return [int(i) for i in eligible[order][:top_k]]


def _epoch(expires_at: str | None) -> float:
    if expires_at is None:
        return math.inf
    return datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()


def numpy_module() -> Any:
    try:
        import numpy
    except ImportError:
        raise ConfigurationError("The local vector store needs numpy (make install).") from None
    return numpy
