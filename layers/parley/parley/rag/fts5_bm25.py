"""FTS5's own BM25, computed with numpy from FTS5's index instead of by its `bm25()` function.

`bm25()` reads each matching row's positions and its size from the index, one row at a time:
at 100,000 chunks a question's words match some 10,000 of them and scoring takes 10 to 20 ms.
The same numbers come from three things read in bulk: each word's occurrences (the `instance`
fts5vocab table, one `group_concat` per word), every row's size (the `docsize` shadow table, read
once per brand with its vectors) and the row count and token total (the `averages` record).
The formula and its order of operations are fts5Bm25Function's (SQLite's fts5_aux.c), k1 = 1.2,
b = 0.75, an IDF of log((N - n + 0.5) / (n + 0.5)) floored at 1e-6, so the scores are the ones
`bm25()` gives. A question FTS5 reads as anything but single-token phrases (a word that
tokenizes in two) returns None: the caller asks `bm25()` instead."""

from __future__ import annotations

import math
import sqlite3
from typing import Any

K1 = 1.2
B = 0.75
AVERAGES_ROWID = 1  # FTS5_AVERAGES_ROWID: the row count, then each column's token total


def varints(blob: bytes) -> list[int]:
    """SQLite's variable-length integers, as FTS5 writes them (big-endian groups of seven bits,
    the ninth byte whole)."""
    values, value, length = [], 0, 0
    for byte in blob:
        length += 1
        if length == 9:
            values.append((value << 8) | byte)
            value, length = 0, 0
        elif byte & 0x80:
            value = (value << 7) | (byte & 0x7F)
        else:
            values.append((value << 7) | byte)
            value, length = 0, 0
    return values


class RowSizes:
    """The size in tokens of every row of one FTS5 table (all columns), in rowid order, with the
    table's row count and average row size as `bm25()` reads them."""

    def __init__(self, rowids: Any, sizes: Any, rows: int, average: float) -> None:
        self.rowids, self.sizes, self.rows, self.average = rowids, sizes, rows, average

    @classmethod
    def read(cls, db: sqlite3.Connection, table: str, np: Any) -> RowSizes:
        found = db.execute(f"SELECT id, sz FROM {table}_docsize ORDER BY id").fetchall()
        rowids = np.fromiter((row[0] for row in found), dtype=np.int64, count=len(found))
        sizes = np.fromiter((sum(varints(row[1])) for row in found), dtype=np.float64, count=len(found))
        averages = db.execute(f"SELECT block FROM {table}_data WHERE id = ?", (AVERAGES_ROWID,)).fetchone()
        counts = varints(averages[0]) if averages and averages[0] else [0]
        rows, tokens = counts[0], sum(counts[1:])
        return cls(rowids, sizes, rows, tokens / rows if rows else 0.0)


class Fts5Scorer:
    """BM25 of a brand's rows for a question, with FTS5's tokenizer and statistics."""

    def __init__(self, db: sqlite3.Connection, tokenizer: str) -> None:
        self._db = db
        # A scratch table with the same tokenizer tells how FTS5 reads each word of a question.
        db.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.question USING fts5(words, tokenize = '{tokenizer}')"
        )
        db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.question_tokens "
            "USING fts5vocab(temp, question, instance)"
        )
        self._columns: dict[str, list[str]] = {}  # of each table whose vocabulary is set up

    def tokens(self, words: list[str]) -> list[list[str]]:
        """How FTS5 tokenizes each word (a phrase of the MATCH expression)."""
        phrases = []
        for word in words:
            self._db.execute("DELETE FROM temp.question")
            self._db.execute("INSERT INTO temp.question (rowid, words) VALUES (1, ?)", (word,))
            phrases.append(
                [row[0] for row in self._db.execute("SELECT term FROM temp.question_tokens ORDER BY offset")]
            )
        return phrases

    def scores(  # noqa: PLR0917 (the index's parts and the question's)
        self,
        table: str,
        words: list[str],
        sizes: RowSizes,
        weights: tuple[float, ...],
        np: Any,
        word_weights: list[float] | None = None,
    ) -> tuple[Any, Any] | None:
        """Rowids (ascending) and BM25 of the rows matching any of `words`, each word's share
        multiplied by its weight in `word_weights` (1 by default: `bm25()`'s scores); None when a
        word is not one token (then only `bm25()` scores it as FTS5 would)."""
        phrases = self.tokens(words)
        if any(len(tokens) != 1 for tokens in phrases):
            return None
        vocabulary, columns = self._vocabulary(table)
        weight_of_column = np.array([weights[i] if i < len(weights) else 1.0 for i in range(len(columns))])
        column_number = "CASE col " + " ".join(f"WHEN ? THEN {i}" for i in range(len(columns))) + " END"
        per_phrase = []
        for (token,) in phrases:
            docs, cols = self._db.execute(
                f"SELECT group_concat(doc), group_concat({column_number}) FROM {vocabulary} WHERE term = ?",
                (*columns, token),
            ).fetchone()
            if docs is None:
                per_phrase.append((np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)))
                continue
            rowids = np.fromstring(docs, dtype=np.int64, sep=",")
            weight = weight_of_column[np.fromstring(cols, dtype=np.int64, sep=",")]
            per_phrase.append(_weighted_counts(rowids, weight, np))
        matched = np.unique(np.concatenate([rows for rows, _ in per_phrase]))
        if matched.size == 0:
            return matched, np.zeros(0, dtype=np.float64)
        at = np.minimum(np.searchsorted(sizes.rowids, matched), max(sizes.rowids.size - 1, 0))
        length = sizes.sizes[at]
        score = np.zeros(matched.size, dtype=np.float64)
        factors = word_weights or [1.0] * len(per_phrase)
        for (rows, frequency), factor in zip(per_phrase, factors, strict=True):
            hits = rows.size
            idf = math.log((sizes.rows - hits + 0.5) / (hits + 0.5))
            if idf <= 0.0:
                idf = 1e-6
            f = np.zeros(matched.size, dtype=np.float64)
            f[np.searchsorted(matched, rows)] = frequency
            score += factor * idf * ((f * (K1 + 1.0)) / (f + K1 * (1 - B + B * length / sizes.average)))
        return matched, score

    def _vocabulary(self, table: str) -> tuple[str, list[str]]:
        """The table's instance vocabulary and its column names, set up and read once."""
        name = f"temp.{table}_instances"
        if table not in self._columns:
            self._db.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} USING fts5vocab(main, {table}, instance)"
            )
            found = self._db.execute(f"SELECT name FROM pragma_table_info('{table}')")
            self._columns[table] = [row[0] for row in found]
        return name, self._columns[table]


def _weighted_counts(rowids: Any, weight: Any, np: Any) -> tuple[Any, Any]:
    """Each row's weighted count of a word's occurrences. The vocabulary lists them in rowid order,
    so a row's occurrences are adjacent (checked: np.unique otherwise)."""
    if rowids.size > 1 and bool(np.any(rowids[1:] < rowids[:-1])):
        unique, inverse = np.unique(rowids, return_inverse=True)
        return unique, np.bincount(inverse, weights=weight)
    starts = np.flatnonzero(np.concatenate(([True], rowids[1:] != rowids[:-1])))
    return rowids[starts], np.add.reduceat(weight, starts)
