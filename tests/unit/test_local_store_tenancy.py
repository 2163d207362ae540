"""The local store's lexical statistics are each brand's own: another tenant's documents never
move a brand's scores, and a file written with one table for every brand is re-indexed per brand."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from parley.providers.embedders import HashingEmbedder
from parley.rag.local_store import LocalVectorStore, words_table
from parley.rag.vectors import ChunkRecord

EMBED = HashingEmbedder(64)
QUESTION = "How many vacation days do I get?"


def ingest(store: LocalVectorStore, brand: str, document: str, texts: list[str]) -> None:
    chunks = [
        ChunkRecord(brand, "hr", document, n, text, vector)
        for n, (text, vector) in enumerate(zip(texts, EMBED.embed(texts), strict=True))
    ]
    store.replace_document(brand, "hr", document, chunks)


def scores(store: LocalVectorStore, brand: str) -> list[tuple[str, float]]:
    hits = store.search(brand, "hr", EMBED.embed([QUESTION])[0], top_k=10, threshold=0.0, text=QUESTION)
    return [(hit.id, hit.score) for hit in hits]


def test_another_brands_documents_do_not_move_a_brands_scores() -> None:
    store = LocalVectorStore(":memory:", lexical_weight=1.0)  # the BM25 half alone
    ingest(store, "acme", "handbook", ["Vacation: 25 vacation days a year.", "Sick days are paid days."])
    before = scores(store, "acme")

    for n in range(20):
        ingest(store, "globex", f"doc-{n}", [f"our vacation policy number {n}", "unrelated words here"])
    after = scores(store, "acme")

    assert len(before) == 2 and after == before
    assert all(not hit_id.startswith("doc-") for hit_id, _ in after)


def test_deleting_and_expiring_take_the_words_of_the_right_brand(tmp_path: Path) -> None:
    store = LocalVectorStore(str(tmp_path / "v.sqlite3"), lexical_weight=1.0)
    ingest(store, "acme", "a", ["vacation days"])
    ingest(store, "globex", "a", ["vacation days"])

    assert store.delete_document("acme", "hr", "a") == 1
    assert scores(store, "acme") == [] and [i for i, _ in scores(store, "globex")] == ["a:0"]


def test_a_file_with_one_words_table_for_every_brand_is_indexed_per_brand(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    LocalVectorStore(str(path))  # the chunks table
    ingest(LocalVectorStore(str(path)), "acme", "a", ["vacation days"])
    with sqlite3.connect(path) as db:  # as the file was before: one table, and no brand's own
        db.execute(f"DROP TABLE {words_table('acme')}")
        db.execute("CREATE VIRTUAL TABLE chunk_words USING fts5(content, title)")

    reopened = LocalVectorStore(str(path), lexical_weight=1.0)

    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "chunk_words" not in tables and words_table("acme") in tables
    assert [i for i, _ in scores(reopened, "acme")] == ["a:0"]
