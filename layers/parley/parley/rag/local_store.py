"""The local hybrid store: exact dense search beside SQLite's own FTS5 (BM25, Porter stemming),
fused, in one SQLite file under `.local/`. numpy scores the dense candidates when installed;
plain Python otherwise. The brand, scope and expiry filters apply to both halves.

Each brand's words are in an FTS5 table of its own, so BM25's statistics (document frequencies,
average lengths) are the brand's: another tenant's documents never move a brand's scores. The
scopes of one brand share its statistics."""

from __future__ import annotations

import hashlib
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
"""
_WORDS = "CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5(content, title, tokenize = '{tokenizer}')"
_TOKENIZER = "porter unicode61 remove_diacritics 2"
# A words table's rowid is its chunk's rowid: both are written and deleted in one transaction.
_KEYS = "brand_id = ? AND rag_scope = ? AND document_id = ?"
_LEGACY_WORDS = "chunk_words"  # one table for every brand, before statistics were per brand


def words_table(brand_id: str) -> str:
    """The name of a brand's FTS5 table (any brand id makes a valid, distinct identifier)."""
    return "words_" + hashlib.sha256(brand_id.encode()).hexdigest()[:24]


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
        # A file written before each brand had its words (or before there were words at all):
        # index every brand's chunks in its own table once.
        self._db.execute(f"DROP TABLE IF EXISTS {_LEGACY_WORDS}")
        for (brand_id,) in self._db.execute("SELECT DISTINCT brand_id FROM chunks").fetchall():
            table = self._words(brand_id)
            self._db.execute(
                f"INSERT INTO {table} (rowid, content, title) SELECT rowid, content, title FROM chunks "
                f"WHERE brand_id = ? AND rowid NOT IN (SELECT rowid FROM {table})",
                (brand_id,),
            )

    def _words(self, brand_id: str) -> str:
        """The brand's words table, created on first use."""
        table = words_table(brand_id)
        self._db.execute(_WORDS.format(table=table, tokenizer=_TOKENIZER))
        return table

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
                    f"INSERT INTO {self._words(brand_id)} (rowid, content, title) "
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
        brands = self._db.execute(f"SELECT DISTINCT brand_id FROM chunks WHERE {where}", values).fetchall()
        for (brand_id,) in brands:
            self._db.execute(
                f"DELETE FROM {self._words(brand_id)} WHERE rowid IN "
                f"(SELECT rowid FROM chunks WHERE brand_id = ? AND ({where}))",
                (brand_id, *values),
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
            # The brand's FTS5 index finds the matches; the scope and expiry filters are those of
            # the rows above (a match outside them is dropped).
            table = words_table(brand_id)
            exists = self._db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone()
            matches = (
                self._db.execute(
                    f"SELECT rowid, -bm25({table}, 1.0, 0.5) FROM {table} WHERE {table} MATCH ?", (match,)
                ).fetchall()
                if match and exists
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
