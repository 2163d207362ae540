"""The local hybrid store: exact dense search beside SQLite's own FTS5 (BM25, Porter stemming),
fused, in one SQLite file under `.local/`. numpy scores the dense candidates when installed;
plain Python otherwise. The brand, scope and expiry filters apply to both halves."""

from __future__ import annotations

import json
import sqlite3
import threading
from array import array
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from parley.rag.fusion import DEFAULT_LEXICAL_WEIGHT, Fusion, fuse
from parley.rag.lexical import fts5_query
from parley.rag.vectors import ChunkRecord, ScoredChunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    brand_id TEXT NOT NULL, rag_scope TEXT NOT NULL, document_id TEXT NOT NULL, chunk_index INTEGER NOT NULL,
    content TEXT NOT NULL, title TEXT, metadata TEXT, expires_at TEXT, embedding BLOB NOT NULL,
    PRIMARY KEY (brand_id, rag_scope, document_id, chunk_index)
);
CREATE INDEX IF NOT EXISTS chunks_by_expiry ON chunks (expires_at) WHERE expires_at IS NOT NULL;
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_words USING fts5(
    content, title, tokenize = 'porter unicode61 remove_diacritics 2'
);
"""
# chunk_words' rowid is its chunk's rowid: both are written and deleted in one transaction.
_KEYS = "brand_id = ? AND rag_scope = ? AND document_id = ?"


class LocalVectorStore:
    def __init__(
        self, path: str, fusion: Fusion = "weighted", lexical_weight: float = DEFAULT_LEXICAL_WEIGHT
    ) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self.fusion, self.lexical_weight = fusion, lexical_weight
        # A file written before chunks knew their page: add the column (empty for those chunks).
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(chunks)")}
        if "page" not in columns:
            self._db.execute("ALTER TABLE chunks ADD COLUMN page INTEGER")
        # A file written before the lexical index existed: index its chunks once.
        self._db.execute(
            "INSERT INTO chunk_words (rowid, content, title) SELECT rowid, content, title FROM chunks "
            "WHERE rowid NOT IN (SELECT rowid FROM chunk_words)"
        )

    def replace_document(
        self,
        brand_id: str,
        rag_scope: str,
        document_id: str,
        chunks: list[ChunkRecord],
        previous: Sequence[str] = (),
    ) -> list[str]:
        """One transaction; SQLite reads its own writes, so no keys are needed or returned."""
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
                c.page,
            )
            for c in chunks
        ]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                keys = (brand_id, rag_scope, document_id)
                self._delete_where(_KEYS, keys)
                self._db.executemany(
                    "INSERT INTO chunks (brand_id, rag_scope, document_id, chunk_index, content, title, "
                    "metadata, expires_at, embedding, page) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.execute(
                    "INSERT INTO chunk_words (rowid, content, title) "
                    f"SELECT rowid, content, title FROM chunks WHERE {_KEYS}",
                    keys,
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return []

    def remove_chunks(self, keys: Sequence[str]) -> int:
        return 0  # this store hands out no keys

    def delete_document(
        self, brand_id: str, rag_scope: str, document_id: str, keys: Sequence[str] = ()
    ) -> int:
        with self._lock:
            return self._in_transaction(_KEYS, (brand_id, rag_scope, document_id))

    def delete_expired(self, now: str) -> int:
        with self._lock:
            return self._in_transaction("expires_at <= ?", (now,))

    def _in_transaction(self, where: str, values: tuple[Any, ...]) -> int:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            removed = self._delete_where(where, values)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return removed

    def _delete_where(self, where: str, values: tuple[Any, ...]) -> int:
        self._db.execute(
            f"DELETE FROM chunk_words WHERE rowid IN (SELECT rowid FROM chunks WHERE {where})", values
        )
        return int(self._db.execute(f"DELETE FROM chunks WHERE {where}", values).rowcount)

    def search(
        self,
        brand_id: str,
        rag_scope: str | None,
        vector: list[float],
        top_k: int,
        threshold: float,
        *,
        text: str | None = None,
    ) -> list[ScoredChunk]:
        where, values = "brand_id = ? AND (expires_at IS NULL OR expires_at > ?)", [brand_id, _now()]
        if rag_scope is not None:
            where, values = where + " AND rag_scope = ?", [*values, rag_scope]
        match = fts5_query(text) if text else None
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, document_id, chunk_index, content, title, embedding, page FROM chunks "
                f"WHERE {where}",
                values,
            ).fetchall()
            # FTS5's own index finds the matches; the brand, scope and expiry filters are those of
            # the rows above (a match outside them is dropped).
            matches = (
                self._db.execute(
                    "SELECT rowid, -bm25(chunk_words, 1.0, 0.5) FROM chunk_words WHERE chunk_words MATCH ?",
                    (match,),
                ).fetchall()
                if match
                else []
            )
        cosines = dict(zip((row[0] for row in rows), _cosines([row[5] for row in rows], vector), strict=True))
        lexical = {rowid: score for rowid, score in matches if rowid in cosines}
        scores = fuse(cosines, lexical, self.fusion, self.lexical_weight)
        by_rowid = {row[0]: row for row in rows}
        ranked = sorted(scores.items(), key=lambda pair: -pair[1])
        return [
            ScoredChunk(
                id=f"{row[1]}:{row[2]}",
                document_id=row[1],
                content=row[3],
                title=row[4],
                score=score,
                page=row[6],
            )
            for rowid, score in ranked[:top_k]
            if score >= threshold and (row := by_rowid[rowid])
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
