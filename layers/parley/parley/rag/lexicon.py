"""One brand's lexical index for the S3 Vectors store: a SQLite file with each live chunk (its
vector's key, scope, document, text, title, metadata, expiry) and an FTS5 table of its words
(Porter stemming, as the local store reads words), so BM25's statistics are the brand's own.

It is also the brand's list of live chunks: a vector is only ever returned by a search when its
key is here, so a document deleted or replaced is gone from searches as soon as the file that no
longer lists it is written, whatever the vector index still holds."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from parley.models.filters import Filters, date_fields
from parley.rag.fts5_bm25 import Fts5Scorer, RowSizes
from parley.rag.sql_filters import sql_filters
from parley.rag.vectors import ChunkRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    key TEXT NOT NULL UNIQUE, rag_scope TEXT NOT NULL, document_id TEXT NOT NULL,
    chunk_index INTEGER NOT NULL, content TEXT NOT NULL, title TEXT, metadata TEXT,
    expires_at TEXT, expires REAL, page INTEGER, dates TEXT
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks (rag_scope, document_id);
CREATE INDEX IF NOT EXISTS chunks_by_expiry ON chunks (expires) WHERE expires IS NOT NULL;
CREATE VIRTUAL TABLE IF NOT EXISTS words USING fts5(content, title, tokenize = '{tokenizer}');
"""
TOKENIZER = "porter unicode61 remove_diacritics 2"
WORDS = "words"  # a words row's rowid is its chunk's rowid


def epoch(moment: str | None) -> float | None:
    """An ISO 8601 instant in seconds since the epoch (None stays None)."""
    return None if moment is None else datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()


class Lexicon:
    def __init__(self, path: str) -> None:
        self.path = path
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.executescript(_SCHEMA.format(tokenizer=TOKENIZER))
        self._scorer: Fts5Scorer | None = None
        self._sizes: RowSizes | None = None
        self._catalog: Catalog | None = None

    def close(self) -> None:
        self.db.close()

    # Writes: each in one transaction -------------------------------------------------------

    def replace(
        self, rag_scope: str, document_id: str, chunks: Sequence[tuple[str, ChunkRecord]]
    ) -> list[str]:
        """Make `chunks` (each with its vector's key) the document's only ones; the keys of the
        chunks it had."""
        rows = [
            (
                key,
                c.rag_scope,
                c.document_id,
                c.chunk_index,
                c.content,
                c.title,
                json.dumps(c.metadata),
                c.expires_at,
                epoch(c.expires_at),
                c.page,
                json.dumps(date_fields(c.metadata)),
            )
            for key, c in chunks
        ]
        with self._transaction():
            old = self._remove("rag_scope = ? AND document_id = ?", (rag_scope, document_id))
            self.db.executemany(
                "INSERT INTO chunks (key, rag_scope, document_id, chunk_index, content, title, metadata, "
                "expires_at, expires, page, dates) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self.db.execute(
                f"INSERT INTO {WORDS} (rowid, content, title) SELECT rowid, content, title FROM chunks "
                "WHERE rag_scope = ? AND document_id = ?",
                (rag_scope, document_id),
            )
        return old

    def remove_document(self, rag_scope: str, document_id: str) -> list[str]:
        with self._transaction():
            return self._remove("rag_scope = ? AND document_id = ?", (rag_scope, document_id))

    def remove_expired(self, now: float) -> list[str]:
        with self._transaction():
            return self._remove("expires IS NOT NULL AND expires <= ?", (now,))

    def _remove(self, where: str, values: tuple[Any, ...]) -> list[str]:
        keys = [row[0] for row in self.db.execute(f"SELECT key FROM chunks WHERE {where}", values)]
        self.db.execute(
            f"DELETE FROM {WORDS} WHERE rowid IN (SELECT rowid FROM chunks WHERE {where})", values
        )
        self.db.execute(f"DELETE FROM chunks WHERE {where}", values)
        self._sizes = self._catalog = None
        return keys

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)

    def compacted(self, path: str) -> None:
        """A copy without free pages at `path` (what is uploaded)."""
        self.db.execute("VACUUM INTO ?", (path,))

    # Reads -------------------------------------------------------------------------------

    def catalog(self, np: Any) -> Catalog:
        """Every chunk's rowid, key, scope and expiry as arrays, read once per file version (the
        cached lexicon a search reads is never written)."""
        if self._catalog is None:
            self._catalog = Catalog.read(self.db, np)
        return self._catalog

    def filtered_rowids(self, rag_scope: str | None, filters: Filters, np: Any) -> Any:
        """The rowids of the chunks whose metadata meets the filters (SQL over the JSON)."""
        where, values = sql_filters(filters)
        scope, scope_values = ("rag_scope = ? AND ", [rag_scope]) if rag_scope is not None else ("", [])
        rows = self.db.execute(
            f"SELECT rowid FROM chunks WHERE {scope}{where}", [*scope_values, *values]
        ).fetchall()
        return np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))

    def word_scores(
        self, words: list[str], weights: list[float], title_weight: float, np: Any
    ) -> tuple[Any, Any] | None:
        """Rowids and BM25 of the chunks the words match (the local store's numbers); None when a
        word is not one FTS5 token (then bm25() scores the question as FTS5 would)."""
        if self._scorer is None:
            self._scorer = Fts5Scorer(self.db, TOKENIZER)
        if self._sizes is None:
            self._sizes = RowSizes.read(self.db, WORDS, np)
        return self._scorer.scores(WORDS, words, self._sizes, (1.0, title_weight), np, weights)

    def bm25(self, match: str, title_weight: float) -> list[tuple[int, float]]:
        return [
            (int(row[0]), float(row[1]))
            for row in self.db.execute(
                f"SELECT rowid, -bm25({WORDS}, 1.0, ?) FROM {WORDS} WHERE {WORDS} MATCH ? ORDER BY rowid",
                (title_weight, match),
            )
        ]

    def rows(self, rowids: Sequence[int]) -> dict[int, tuple[str, str, int, str, str | None, int | None]]:
        """rowid → (key, document_id, chunk_index, content, title, page)."""
        if not rowids:
            return {}
        found = self.db.execute(
            "SELECT rowid, key, document_id, chunk_index, content, title, page FROM chunks "
            f"WHERE rowid IN ({', '.join('?' * len(rowids))})",
            list(rowids),
        )
        return {row[0]: tuple(row[1:]) for row in found}


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self.db.execute("ROLLBACK" if kind is not None else "COMMIT")


class Catalog:
    """A lexicon's chunks as arrays in rowid order: what a search masks (scope, expiry) and how a
    vector's key finds its row."""

    def __init__(
        self, rowids: Any, keys: list[str], scopes: Any, scope_codes: dict[str, int], expires: Any
    ) -> None:
        self.rowids, self.keys, self.scopes, self.expires = rowids, keys, scopes, expires
        self._scope_codes = scope_codes
        self.position = {key: n for n, key in enumerate(keys)}

    @classmethod
    def read(cls, db: sqlite3.Connection, np: Any) -> Catalog:
        rows = db.execute("SELECT rowid, key, rag_scope, expires FROM chunks ORDER BY rowid").fetchall()
        codes: dict[str, int] = {}
        return cls(
            np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows)),
            [row[1] for row in rows],
            np.fromiter(
                (codes.setdefault(row[2], len(codes)) for row in rows), dtype=np.int32, count=len(rows)
            ),
            codes,
            np.fromiter(
                (math.inf if row[3] is None else row[3] for row in rows), dtype=np.float64, count=len(rows)
            ),
        )

    def mask(self, np: Any, rag_scope: str | None, now: float) -> Any:
        """The chunks of the scope (every scope: None) that have not expired."""
        allowed = self.expires > now
        if rag_scope is not None:
            allowed &= self.scopes == self._scope_codes.get(rag_scope, -1)
        return allowed
