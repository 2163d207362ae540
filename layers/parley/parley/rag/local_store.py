"""The local hybrid store: exact dense search beside SQLite's own FTS5 (BM25, Porter stemming),
fused, in one SQLite file under `.local/`. The file holds everything (the vectors survive a
restart); a search scores a brand's vectors as one float32 matrix kept in memory (numpy), read
from the file on the brand's first search and again after any write (~147 MiB per 100,000
chunks of 384 dimensions). The brand, scope, expiry and metadata filters apply to both halves.

Each brand's words are in an FTS5 table of its own, so BM25's statistics (document frequencies,
average lengths) are the brand's: another tenant's documents never move a brand's scores. The
scopes of one brand share its statistics. The BM25 of a question is FTS5's, computed in bulk
from its index (parley.rag.fts5_bm25) rather than by bm25() one matching row at a time."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from array import array
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from parley.models.filters import Filters, date_fields
from parley.rag.brand_vectors import BrandVectors, best_positions, numpy_module
from parley.rag.fts5_bm25 import Fts5Scorer, RowSizes
from parley.rag.fusion import DEFAULT_LEXICAL_WEIGHT, DEFAULT_TITLE_WEIGHT, Fusion, fuse_arrays
from parley.rag.lexical import fts5_query, query_terms
from parley.rag.sql_filters import sql_filters
from parley.rag.vectors import ChunkRecord, ScoredChunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    brand_id TEXT NOT NULL, rag_scope TEXT NOT NULL, document_id TEXT NOT NULL, chunk_index INTEGER NOT NULL,
    content TEXT NOT NULL, title TEXT, metadata TEXT, expires_at TEXT, embedding BLOB NOT NULL,
    page INTEGER, dates TEXT,
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
        self,
        path: str,
        fusion: Fusion = "weighted",
        lexical_weight: float = DEFAULT_LEXICAL_WEIGHT,
        title_weight: float = DEFAULT_TITLE_WEIGHT,
    ) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self.fusion, self.lexical_weight, self.title_weight = fusion, lexical_weight, title_weight
        self._vectors: dict[str, BrandVectors] = {}  # read on a brand's first search
        self._row_sizes: dict[str, RowSizes] = {}  # the sizes of the brand's FTS5 rows, likewise
        self._scorer = Fts5Scorer(self._db, _TOKENIZER)
        self._data_version: int | None = None
        # A file written before chunks knew their page: add the column (empty for those chunks).
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(chunks)")}
        if "page" not in columns:
            self._db.execute("ALTER TABLE chunks ADD COLUMN page INTEGER")
        # ... and before date filters compared whole milliseconds: derive each chunk's dates.
        if "dates" not in columns:
            self._db.execute("ALTER TABLE chunks ADD COLUMN dates TEXT")
            self._db.create_function("parley_dates", 1, _dates_json, deterministic=True)
            self._db.execute("UPDATE chunks SET dates = parley_dates(metadata)")
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
                json.dumps(date_fields(c.metadata)),
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
                    "metadata, expires_at, embedding, page, dates) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        self._vectors.clear()  # every write goes through here; the next search reads them again
        self._row_sizes.clear()
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
        filters: Filters = (),
        expansion: Mapping[str, float] | None = None,
    ) -> list[ScoredChunk]:
        """Exact hybrid search over the brand's vectors held in memory (read from the file on the
        first search, again after any write), masked by scope, expiry and the filters (SQL); the
        brand's FTS5 table scores the words; only the `top_k` rows are read back."""
        np = numpy_module()
        words = query_terms(text) if text else []
        added = {w: weight for w, weight in (expansion or {}).items() if w not in words} if words else {}
        weights = [1.0] * len(words) + list(added.values())
        words = [*words, *added]
        with self._lock:
            brand = self._brand_vectors(brand_id)
            mask = brand.expires > datetime.now(UTC).timestamp()
            if rag_scope is not None:
                mask &= brand.scopes == brand.scope_code(rag_scope)
            if filters:
                mask &= np.isin(brand.rowids, self._filtered_rowids(brand_id, rag_scope, filters))
            positions = np.flatnonzero(mask)
            if positions.size == 0:
                return []
            rowids, scores = self._word_scores(brand_id, words, weights) if words else (None, None)
            cosines = (brand.matrix @ np.asarray(vector, dtype=np.float32))[positions].astype(np.float64)
            lexical = np.zeros(positions.size, dtype=np.float64)
            matched = np.zeros(positions.size, dtype=bool)
            if rowids is not None and scores is not None and rowids.size:
                candidates = brand.rowids[positions]
                at = np.minimum(np.searchsorted(candidates, rowids), positions.size - 1)
                hit = candidates[at] == rowids  # a match outside the mask is dropped
                lexical[at[hit]], matched[at[hit]] = scores[hit], True
            fused = fuse_arrays(cosines, lexical, matched, self.fusion, self.lexical_weight)
            chosen = best_positions(np, fused, top_k, threshold)
            best = [int(brand.rowids[positions[i]]) for i in chosen]
            rows = {
                row[0]: row
                for row in self._db.execute(
                    "SELECT rowid, document_id, chunk_index, content, title, page FROM chunks "
                    f"WHERE rowid IN ({', '.join('?' * len(best))})",
                    best,
                ).fetchall()
            }
        return [
            ScoredChunk(
                id=f"{row[1]}:{row[2]}",
                document_id=row[1],
                content=row[3],
                title=row[4],
                score=float(fused[i]),
                page=row[5],
            )
            for i, rowid in zip(chosen, best, strict=True)
            if (row := rows.get(rowid)) is not None
        ]

    def _brand_vectors(self, brand_id: str) -> BrandVectors:
        """The brand's vectors, from memory unless the file changed since they were read (a write
        here drops them; another process's write changes SQLite's data_version)."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._vectors.clear()
            self._row_sizes.clear()
            self._data_version = version
        cached = self._vectors.get(brand_id)
        if cached is None:
            rows = self._db.execute(
                "SELECT rowid, rag_scope, expires_at, embedding FROM chunks WHERE brand_id = ? "
                "ORDER BY rowid",
                (brand_id,),
            ).fetchall()
            cached = self._vectors[brand_id] = BrandVectors.of(rows)
        return cached

    def _filtered_rowids(self, brand_id: str, rag_scope: str | None, filters: Filters) -> Any:
        where, values = sql_filters(filters)
        scope, scope_values = (" AND rag_scope = ?", [rag_scope]) if rag_scope is not None else ("", [])
        rows = self._db.execute(
            f"SELECT rowid FROM chunks WHERE brand_id = ?{scope} AND {where}",
            [brand_id, *scope_values, *values],
        ).fetchall()
        return numpy_module().fromiter((row[0] for row in rows), dtype="int64", count=len(rows))

    def _word_scores(
        self, brand_id: str, words: list[str], weights: list[float] | None = None
    ) -> tuple[Any, Any]:
        """Rowids and BM25 of every chunk of the brand the words match: computed from the FTS5
        index in bulk (parley.rag.fts5_bm25), or by FTS5's bm25() for a word it splits in two."""
        np = numpy_module()
        table = words_table(brand_id)
        if not self._has_table(table):
            return None, None
        sizes = self._row_sizes.get(brand_id)
        if sizes is None:
            sizes = self._row_sizes[brand_id] = RowSizes.read(self._db, table, np)
        columns = (1.0, self.title_weight)  # BM25's weights of the content and the title
        found = self._scorer.scores(table, words, sizes, columns, np, weights)
        if found is not None:
            return found
        rows = self._db.execute(
            f"SELECT rowid, -bm25({table}, {', '.join(map(str, columns))}) FROM {table} "
            f"WHERE {table} MATCH ? ORDER BY rowid",
            (fts5_query(" ".join(words)),),
        ).fetchall()
        pairs = np.array(rows, dtype=np.float64).reshape(len(rows), 2)
        return pairs[:, 0].astype(np.int64), pairs[:, 1]

    def _has_table(self, table: str) -> bool:
        return self._db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone() is not None


def _dates_json(metadata: str | None) -> str:
    loaded = json.loads(metadata or "{}")
    return json.dumps(date_fields(loaded) if isinstance(loaded, dict) else {})
