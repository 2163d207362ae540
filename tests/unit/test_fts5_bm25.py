"""The local store's lexical scores, computed with numpy from FTS5's index, are FTS5's own bm25():
the same rows and the same numbers, across stemming, diacritics, titles, repeated stems, deleted
rows and words FTS5 splits in two (which bm25() itself scores)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from parley.rag.fts5_bm25 import varints
from parley.rag.fusion import DEFAULT_TITLE_WEIGHT
from parley.rag.lexical import fts5_query, query_terms
from parley.rag.local_store import LocalVectorStore, words_table
from parley.rag.vectors import ChunkRecord

COLUMN_WEIGHTS = (1.0, DEFAULT_TITLE_WEIGHT)

WORDS = [
    "travel",
    "travels",
    "travelling",
    "refund",
    "refunds",
    "crème",
    "creme",
    "café",
    "laptop",
    "policy",
    "policies",
    "e_mail",
    "budget",
    "hotel",
]
QUESTIONS = [
    "travel refund",
    "travels travelling",  # two words, one stem: two phrases of one token
    "Crème café",
    "policies of the hotel",
    "e_mail budget",  # e_mail is two tokens for FTS5: bm25() scores this question
    "laptop",
    "nothing matches zebra",
]


@pytest.fixture
def store(tmp_path: Path) -> LocalVectorStore:
    draw = random.Random(5)
    own = LocalVectorStore(str(tmp_path / "words.sqlite3"))
    for document in range(60):
        chunks = [
            ChunkRecord(
                "acme",
                "hr" if document % 2 else "it",
                f"d{document}",
                n,
                " ".join(draw.choices(WORDS, k=draw.randint(1, 30))),
                [1.0, 0.0],
                title=" ".join(draw.choices(WORDS, k=2)) if document % 3 == 0 else None,
            )
            for n in range(2)
        ]
        own.replace_document("acme", chunks[0].rag_scope, f"d{document}", chunks)
    for document in range(0, 60, 7):  # deletions change the row count and the average size
        own.delete_document("acme", "hr" if document % 2 else "it", f"d{document}")
    return own


def fts5_bm25(store: LocalVectorStore, question: str) -> dict[int, float]:
    table = words_table("acme")
    weights = ", ".join(map(str, COLUMN_WEIGHTS))
    rows = store._db.execute(
        f"SELECT rowid, -bm25({table}, {weights}) FROM {table} WHERE {table} MATCH ?",
        (fts5_query(question),),
    ).fetchall()
    return dict(rows)


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_lexical_scores_are_fts5s_bm25(store: LocalVectorStore, question: str) -> None:
    expected = fts5_bm25(store, question)

    rowids, scores = store._word_scores("acme", query_terms(question))

    found = dict(zip(rowids.tolist(), scores.tolist(), strict=True))
    assert found.keys() == expected.keys()
    for rowid, score in expected.items():
        assert found[rowid] == pytest.approx(score, rel=1e-12)
    if question != "nothing matches zebra":
        assert expected, "a question that matches nothing proves nothing"


def test_a_question_fts5_splits_is_scored_by_bm25_itself(store: LocalVectorStore) -> None:
    assert store._scorer.scores(words_table("acme"), ["e_mail"], None, COLUMN_WEIGHTS, None) is None  # type: ignore[arg-type]


def test_the_scores_follow_writes(store: LocalVectorStore) -> None:
    before = store._word_scores("acme", ["laptop"])[1].max()

    store.replace_document(
        "acme", "hr", "new", [ChunkRecord("acme", "hr", "new", 0, "laptop " * 20, [1.0, 0.0])]
    )
    rowids, scores = store._word_scores("acme", ["laptop"])

    assert scores.max() > before
    assert dict(zip(rowids.tolist(), scores.tolist(), strict=True)) == pytest.approx(
        fts5_bm25(store, "laptop"), rel=1e-12
    )


@pytest.mark.parametrize(
    ("blob", "values"),
    [
        (bytes([0x05]), [5]),
        (bytes([0x81, 0x00]), [128]),
        (bytes([0x7F, 0x82, 0x01, 0x00]), [127, 257, 0]),
        (bytes([0xFF] * 8 + [0x01]), [(((1 << 56) - 1) << 8) | 1]),  # the ninth byte counts eight bits
    ],
)
def test_sqlite_varints_decode(blob: bytes, values: list[int]) -> None:
    assert varints(blob) == values
