"""An exact-search vector store for local development, persisted in one SQLite file under
`.local/`. numpy scores the candidates when installed; plain Python otherwise."""

from __future__ import annotations

import json
import sqlite3
import threading
from array import array
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from parley.rag.vectors import ChunkRecord, ScoredChunk, score_of

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    brand_id TEXT NOT NULL, rag_scope TEXT NOT NULL, document_id TEXT NOT NULL, chunk_index INTEGER NOT NULL,
    content TEXT NOT NULL, title TEXT, metadata TEXT, expires_at TEXT, embedding BLOB NOT NULL,
    PRIMARY KEY (brand_id, rag_scope, document_id, chunk_index)
);
CREATE INDEX IF NOT EXISTS chunks_by_expiry ON chunks (expires_at) WHERE expires_at IS NOT NULL;
"""


class LocalVectorStore:
    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def replace_document(
        self, brand_id: str, rag_scope: str, document_id: str, chunks: list[ChunkRecord]
    ) -> None:
        rows = [
            (
                c.brand_id,
                c.rag_scope,
                c.document_id,
                c.chunk_index,
                c.content,
                c.title,
                json.dumps(c.metadata),
                c.expires_at,
                array("f", c.embedding).tobytes(),
            )
            for c in chunks
        ]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "DELETE FROM chunks WHERE brand_id = ? AND rag_scope = ? AND document_id = ?",
                    (brand_id, rag_scope, document_id),
                )
                self._db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def delete_document(self, brand_id: str, rag_scope: str, document_id: str) -> int:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM chunks WHERE brand_id = ? AND rag_scope = ? AND document_id = ?",
                (brand_id, rag_scope, document_id),
            )
        return cursor.rowcount

    def delete_expired(self, now: str) -> int:
        with self._lock:
            return self._db.execute("DELETE FROM chunks WHERE expires_at <= ?", (now,)).rowcount

    def search(
        self, brand_id: str, rag_scope: str | None, vector: list[float], top_k: int, threshold: float
    ) -> list[ScoredChunk]:
        where, values = "brand_id = ? AND (expires_at IS NULL OR expires_at > ?)", [brand_id, _now()]
        if rag_scope is not None:
            where, values = where + " AND rag_scope = ?", [*values, rag_scope]
        with self._lock:
            rows = self._db.execute(
                f"SELECT document_id, chunk_index, content, title, embedding FROM chunks WHERE {where}",
                values,
            ).fetchall()
        scores = _cosines([row[4] for row in rows], vector)
        ranked = sorted(zip(scores, rows, strict=True), key=lambda pair: -pair[0])
        return [
            ScoredChunk(
                id=f"{row[0]}:{row[1]}", document_id=row[0], content=row[2], title=row[3], score=score
            )
            for cosine, row in ranked[:top_k]
            if (score := score_of(cosine)) >= threshold
        ]


def _cosines(blobs: list[bytes], vector: list[float]) -> list[float]:
    """Cosine of `vector` with each stored (unit-length) embedding."""
    if not blobs:
        return []
    try:
        import numpy
    except ImportError:
        query = array("f", vector)
        return [sum(a * b for a, b in zip(array("f", blob), query, strict=True)) for blob in blobs]
    matrix: Any = numpy.frombuffer(b"".join(blobs), dtype=numpy.float32).reshape(len(blobs), -1)
    return [float(x) for x in matrix @ numpy.asarray(vector, dtype=numpy.float32)]


def _now() -> str:
    return datetime.now(UTC).isoformat()
