"""The local store's search is exact: the same chunks and scores as scoring every chunk of the
brand one by one (the reference below: the cosines, the brand's FTS5 BM25, parley.rag.fusion's
`fuse`), whatever the fusion, scope, filters, top_k and threshold; and a search sees what another
process wrote to the file since the vectors were read."""

from __future__ import annotations

import json
import random
from array import array
from pathlib import Path
from typing import Any

import numpy
import pytest

from parley.models.filters import Filters, parse_filters
from parley.rag.fusion import fuse
from parley.rag.lexical import fts5_query
from parley.rag.local_store import LocalVectorStore, words_table
from parley.rag.sql_filters import sql_filters
from parley.rag.vectors import ChunkRecord

WORDS = ["refund", "travel", "laptop", "policy", "budget", "train", "flight", "hotel", "meal", "taxi"]
DIMENSION = 16


def unit(values: list[float]) -> list[float]:
    norm = sum(v * v for v in values) ** 0.5
    return [v / norm for v in values]


@pytest.fixture
def store(tmp_path: Path) -> LocalVectorStore:
    draw = random.Random(3)  # the same corpus on every run
    own = LocalVectorStore(str(tmp_path / "exact.sqlite3"))
    for brand in ("acme", "globex"):
        for document in range(40):
            scope = "hr" if document % 3 else "it"
            chunks = [
                ChunkRecord(
                    brand,
                    scope,
                    f"d{document}",
                    n,
                    " ".join(draw.choices(WORDS, k=draw.randint(3, 12))),
                    unit([draw.gauss(0, 1) for _ in range(DIMENSION)]),
                    metadata={"year": 2020 + document % 5, "lang": draw.choice(["en", "fr"])},
                )
                for n in range(3)
            ]
            own.replace_document(brand, scope, f"d{document}", chunks)
    return own


def reference(
    store: LocalVectorStore, brand: str, scope: str | None, vector: list[float], text: str, filters: Filters
) -> list[tuple[str, float]]:
    db = store._db
    where, values = sql_filters(filters)
    scoped = " AND rag_scope = ?" if scope else ""
    rows = db.execute(
        "SELECT rowid, document_id, chunk_index, embedding FROM chunks "
        f"WHERE brand_id = ?{scoped} AND {where}",
        [brand, *([scope] if scope else []), *values],
    ).fetchall()
    query = numpy.asarray(vector, dtype=numpy.float32)
    cosines = {r[0]: float(numpy.frombuffer(r[3], dtype=numpy.float32) @ query) for r in rows}
    table = words_table(brand)
    matches = db.execute(
        f"SELECT rowid, -bm25({table}, 1.0, 0.5) FROM {table} WHERE {table} MATCH ?", (fts5_query(text),)
    ).fetchall()
    lexical = {rowid: score for rowid, score in matches if rowid in cosines}
    names = {r[0]: f"{r[1]}:{r[2]}" for r in rows}
    scores = fuse(cosines, lexical, store.fusion, store.lexical_weight)
    return [(names[rowid], score) for rowid, score in sorted(scores.items(), key=lambda p: -p[1])]


CASES: list[dict[str, Any]] = [
    {"fusion": "weighted", "scope": "hr", "filters": {}, "top_k": 5, "threshold": 0.0},
    {"fusion": "weighted", "scope": None, "filters": {"year": {"gte": 2022}}, "top_k": 8, "threshold": 0.2},
    {"fusion": "rrf", "scope": "it", "filters": {"lang": "fr"}, "top_k": 4, "threshold": 0.0},
    {"fusion": "rrf", "scope": None, "filters": {}, "top_k": 50, "threshold": 0.5},
    {
        "fusion": "weighted",
        "scope": "hr",
        "filters": {"year": 2021, "lang": "en"},
        "top_k": 3,
        "threshold": 0.0,
    },
]


@pytest.mark.parametrize("case", CASES, ids=[json.dumps(c) for c in CASES])
def test_a_search_gives_what_scoring_every_chunk_gives(store: LocalVectorStore, case: dict[str, Any]) -> None:
    store.fusion = case["fusion"]
    draw = random.Random(11)
    for _ in range(5):
        text = " ".join(draw.sample(WORDS, 2))
        vector = unit([draw.gauss(0, 1) for _ in range(DIMENSION)])
        filters = parse_filters(case["filters"])
        expected = [
            (name, score)
            for name, score in reference(store, "acme", case["scope"], vector, text, filters)
            if score >= case["threshold"]
        ][: case["top_k"]]

        found = store.search(
            "acme", case["scope"], vector, case["top_k"], case["threshold"], text=text, filters=filters
        )

        assert expected, "a case that finds nothing proves nothing"
        assert [hit.id for hit in found] == [name for name, _ in expected]
        assert [hit.score for hit in found] == pytest.approx(
            [score for _, score in expected], abs=1e-6
        )  # float32 cosines


def test_a_search_sees_what_another_process_wrote_since(store: LocalVectorStore, tmp_path: Path) -> None:
    vector = unit([1.0] * DIMENSION)
    before = store.search("acme", "hr", vector, 100, 0.0, text="refund")
    other = LocalVectorStore(str(tmp_path / "exact.sqlite3"))  # another function's container

    other.replace_document("acme", "hr", "new", [ChunkRecord("acme", "hr", "new", 0, "refund", vector)])
    other.delete_document("acme", "hr", before[-1].document_id)
    after = store.search("acme", "hr", vector, 100, 0.0, text="refund")

    assert after[0].id == "new:0"  # the same vector as the question: cosine 1
    assert before[-1].document_id not in {hit.document_id for hit in after}


def test_the_vectors_are_read_again_after_a_write_here(store: LocalVectorStore) -> None:
    vector = unit([1.0] * DIMENSION)
    store.search("acme", "hr", vector, 5, 0.0)

    store.replace_document("acme", "hr", "mine", [ChunkRecord("acme", "hr", "mine", 0, "taxi", vector)])

    assert store.search("acme", "hr", vector, 1, 0.0)[0].id == "mine:0"


def test_the_stored_embedding_is_the_one_searched(store: LocalVectorStore) -> None:
    """The matrix in memory holds the file's bytes, in rowid order."""
    store.search("acme", None, unit([1.0] * DIMENSION), 1, 0.0)
    brand = store._vectors["acme"]
    first = store._db.execute(
        "SELECT embedding FROM chunks WHERE rowid = ?", (int(brand.rowids[0]),)
    ).fetchone()[0]

    assert list(brand.matrix[0]) == list(array("f", first))
    assert list(brand.rowids) == sorted(brand.rowids)
