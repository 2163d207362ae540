"""Pseudo-relevance feedback: the words the top results share, weighted as RM3 weighs them, and
the local store scoring them at those weights in its lexical half."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.rag.feedback import NO_FEEDBACK, Feedback, expansion
from parley.rag.local_store import LocalVectorStore
from parley.rag.retrieval import retrieve
from parley.rag.vectors import ChunkRecord, ScoredChunk


def chunk(text: str, score: float) -> ScoredChunk:
    return ScoredChunk(id=f"{text[:8]}:0", document_id=text[:8], content=text, score=score)


def test_the_words_the_top_results_share_are_added_in_proportion() -> None:
    results = [
        chunk("Indexing thesaurus construction for indexing languages", 0.9),
        chunk("A thesaurus helps indexing; controlled vocabulary thesaurus", 0.8),
        chunk("Unrelated zebra text far down", 0.1),
    ]

    added = expansion("automatic indexing", results, Feedback(documents=2, terms=3, weight=0.5))

    assert next(iter(added)) == "thesaurus"  # the most probable word the question lacks
    assert "indexing" not in added and "zebra" not in added  # asked already; beyond the top two
    assert sum(added.values()) == pytest.approx(2.0)  # weight 0.5: as much as the 2 asked words
    assert all(len(word) >= 3 and word.isalpha() for word in added)


def test_no_results_no_words_or_no_room_adds_nothing() -> None:
    top = [chunk("thesaurus construction", 1.0)]

    assert expansion("indexing", [], Feedback(3, 10, 0.5)) == {}
    assert expansion("the of and", top, Feedback(3, 10, 0.5)) == {}  # stop words only
    assert expansion("indexing", top, Feedback(3, 0, 0.5)) == {}


@pytest.fixture
def store(tmp_path: Path) -> LocalVectorStore:
    own = LocalVectorStore(str(tmp_path / "feedback.sqlite3"))
    texts = {
        "a": "automatic indexing of documents with a thesaurus",
        "b": "thesaurus construction and thesaurus maintenance",
        "c": "library opening hours and the reading room",
        # Others that share none of those words, so each has an IDF above FTS5's floor.
        **{f"other{n}": f"catalogue entry {n} for periodicals and loans" for n in range(8)},
    }
    for name, text in texts.items():
        own.replace_document("acme", "docs", name, [ChunkRecord("acme", "docs", name, 0, text, [1.0, 0.0])])
    return own


def test_added_words_count_at_their_weight_in_the_lexical_half(store: LocalVectorStore) -> None:
    store.fusion, store.lexical_weight = "weighted", 1.0
    plain = store.search("acme", "docs", [1.0, 0.0], 3, 0.0, text="automatic indexing")
    light = store.search(
        "acme", "docs", [1.0, 0.0], 3, 0.0, text="automatic indexing", expansion={"thesaurus": 0.1}
    )
    heavy = store.search(
        "acme", "docs", [1.0, 0.0], 3, 0.0, text="automatic indexing", expansion={"thesaurus": 5.0}
    )

    assert [c.document_id for c in plain][:1] == ["a"] and "b" not in [
        c.document_id for c in plain if c.score
    ]
    assert [c.document_id for c in light][:2] == ["a", "b"]
    # Relative to the best (a, which has every word), b's score grows with the added word's weight.
    assert {c.document_id: c.score for c in heavy}["b"] > {c.document_id: c.score for c in light}["b"] > 0


class Unit:
    name, dimension = "unit", 2

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0] for _ in texts]


def test_feedback_finds_what_the_question_lacks_words_for(store: LocalVectorStore) -> None:
    store.fusion, store.lexical_weight = "weighted", 1.0
    options = {"store": store, "embed": Unit()}

    without = retrieve("acme", "docs", "automatic indexing", 3, 0.01, **options)  # type: ignore[arg-type]
    with_feedback = retrieve(
        "acme",
        "docs",
        "automatic indexing",
        3,
        0.01,
        feedback=Feedback(1, 5, 0.5),
        **options,  # type: ignore[arg-type]
    )

    assert [c.document_id for c in without] == ["a"]
    assert [c.document_id for c in with_feedback] == ["a", "b"]  # b shares "thesaurus" with a
    assert retrieve("acme", "docs", "automatic indexing", 3, 0.01, feedback=NO_FEEDBACK, **options) == without  # type: ignore[arg-type]
