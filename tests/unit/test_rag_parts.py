"""RAG parts that need nothing running: chunking, the hashing embedder, citations, the local store."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from parley.placeholders import expand_placeholders
from parley.providers.base import ChatRequest, PromptMessage
from parley.providers.embedders import HashingEmbedder
from parley.providers.minilm import MiniLMEmbedder
from parley.providers.offline import OfflineProvider
from parley.rag.chunking import chunk_text
from parley.rag.local_store import LocalVectorStore
from parley.rag.prompting import DEFAULT_TEMPLATE, NO_SOURCES, citations, numbered_context, render
from parley.rag.retrieval import retrieval_query, retrieve
from parley.rag.vectors import ChunkRecord, ScoredChunk
from parley.tokens import estimate_tokens

EMBED = HashingEmbedder(128)


def test_short_text_is_one_chunk() -> None:
    assert chunk_text("One paragraph.\n\nAnother one.", max_tokens=100, overlap_tokens=10) == [
        "One paragraph.\n\nAnother one."
    ]


def test_chunks_respect_the_size_and_cut_on_sentences() -> None:
    text = " ".join(f"Sentence number {n} says something useful." for n in range(60))

    pieces = chunk_text(text, max_tokens=60, overlap_tokens=15)

    assert len(pieces) > 3
    assert all(estimate_tokens(p) <= 60 for p in pieces)
    assert all(p.endswith(".") for p in pieces)


def test_consecutive_chunks_overlap() -> None:
    text = " ".join(f"Fact {n} is here." for n in range(80))

    pieces = chunk_text(text, max_tokens=50, overlap_tokens=15)

    for before, after in itertools.pairwise(pieces):
        assert after.split(". ")[0] in before  # the next chunk starts inside the previous one


def test_paragraph_boundaries_are_preferred() -> None:
    paragraphs = [f"Paragraph {n}. " + "word " * 20 for n in range(6)]

    pieces = chunk_text("\n\n".join(paragraphs), max_tokens=80, overlap_tokens=0)

    assert len(pieces) > 1 and all(p.startswith("Paragraph") for p in pieces)


def test_a_huge_unbroken_token_is_still_cut_to_size() -> None:
    pieces = chunk_text("x" * 10_000, max_tokens=100, overlap_tokens=0)

    assert len(pieces) > 1 and all(estimate_tokens(p) <= 100 for p in pieces)


def test_hashing_vectors_are_unit_length_stable_and_similar_for_similar_text() -> None:
    a, b, c = EMBED.embed(["vacation days per year", "how many vacation days a year", "quarterly tax filing"])

    assert math.isclose(sum(x * x for x in a), 1.0, rel_tol=1e-9)
    assert HashingEmbedder(128).embed(["vacation days per year"])[0] == a
    assert sum(x * y for x, y in zip(a, b, strict=True)) > sum(x * y for x, y in zip(a, c, strict=True))


def test_an_empty_text_still_embeds() -> None:
    assert any(EMBED.embed([""])[0])


def scored(n: int) -> list[ScoredChunk]:
    return [
        ScoredChunk(id=f"d{i}:0", document_id=f"d{i}", content=f"text {i}", score=0.9 - i / 10)
        for i in range(1, n + 1)
    ]


def test_citations_follow_the_markers_the_answer_uses() -> None:
    found = citations("Yes [2], and also [1]; as [2] says.", scored(3))

    assert [(c.index, c.document_id) for c in found] == [(2, "d2"), (1, "d1")]
    assert found[0].content == "text 2" and found[0].score == scored(3)[1].score


def test_a_marker_beyond_the_context_is_not_a_citation() -> None:
    assert [c.index for c in citations("See [7] and [3] and [0].", scored(3))] == [3]


def test_no_context_renders_a_placeholder_and_cites_nothing() -> None:
    assert numbered_context([]) == NO_SOURCES
    assert citations("As [1] says.", []) == []


def record(
    brand: str, scope: str, document: str, text: str, expires_at: str | None = None, index: int = 0
) -> ChunkRecord:
    return ChunkRecord(
        brand_id=brand,
        rag_scope=scope,
        document_id=document,
        chunk_index=index,
        content=text,
        embedding=EMBED.embed([text])[0],
        expires_at=expires_at,
    )


def test_the_local_store_filters_by_brand_scope_and_expiry() -> None:
    store = LocalVectorStore(":memory:")
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    store.replace_document("acme", "hr", "a", [record("acme", "hr", "a", "vacation policy")])
    store.replace_document("acme", "it", "b", [record("acme", "it", "b", "vacation laptop policy")])
    store.replace_document("acme", "hr", "c", [record("acme", "hr", "c", "vacation expired", past)])
    store.replace_document("globex", "hr", "d", [record("globex", "hr", "d", "vacation policy")])
    query = EMBED.embed(["vacation policy"])[0]

    assert [h.document_id for h in store.search("acme", "hr", query, 10, 0.0)] == ["a"]
    assert sorted(h.document_id for h in store.search("acme", None, query, 10, 0.0)) == ["a", "b"]


def test_the_local_store_fuses_meaning_and_words_and_applies_top_k_and_threshold() -> None:
    store = LocalVectorStore(":memory:", lexical_weight=0.3)
    texts = ["alpha beta", "alpha gamma", "delta epsilon"]
    for n, text in enumerate(texts):
        store.replace_document("acme", "s", f"d{n}", [record("acme", "s", f"d{n}", text)])
    query = EMBED.embed(["alpha beta"])[0]

    hits = store.search("acme", "s", query, top_k=2, threshold=0.0, text="alpha beta")
    strict = store.search("acme", "s", query, top_k=10, threshold=0.99, text="alpha beta")
    dense = store.search("acme", "s", query, top_k=1, threshold=0.0)

    # the same vector (cosine 1) and the best BM25 of the question: 0.7 * 1 + 0.3 * 1
    assert hits[0].document_id == "d0" and math.isclose(hits[0].score, 1.0, rel_tol=1e-6)
    assert [h.document_id for h in hits] == ["d0", "d1"]  # d1 shares a word, d2 none
    assert [h.document_id for h in strict] == ["d0"]
    assert math.isclose(dense[0].score, 0.7, rel_tol=1e-6)  # no words given: the dense half alone


def embedded_store(model: MiniLMEmbedder, documents: dict[str, str]) -> LocalVectorStore:
    """A local store holding each document as one chunk, embedded by the real model."""
    store = LocalVectorStore(":memory:")
    for name, text in documents.items():
        store.replace_document(
            "acme", "s", name, [ChunkRecord("acme", "s", name, 0, text, model.embed([text])[0])]
        )
    return store


def test_a_keyword_question_ranks_the_document_that_names_it_first() -> None:
    model = MiniLMEmbedder()  # the local default's model: ranking is what it is for
    store = embedded_store(
        model,
        {
            "shipping": "Orders ship within two business days; delivery takes three to five days.",
            "refunds": "Refunds are paid back to the original card within 14 days of the return.",
            "returns": "Items may be returned in their original packaging within 30 days.",
        },
    )
    question = "How long do refunds take?"

    hits = store.search("acme", "s", model.embed([question])[0], top_k=3, threshold=0.2, text=question)

    assert hits[0].document_id == "refunds"
    assert hits[0].score > 0.5


def test_replacing_a_document_leaves_only_its_new_chunks() -> None:
    store = LocalVectorStore(":memory:")
    store.replace_document(
        "acme", "s", "d", [record("acme", "s", "d", f"old {n}", index=n) for n in range(3)]
    )

    store.replace_document("acme", "s", "d", [record("acme", "s", "d", "new")])

    assert [h.content for h in store.search("acme", "s", EMBED.embed(["old new"])[0], 10, 0.0)] == ["new"]
    assert store.delete_document("acme", "s", "d") == 1
    assert store.delete_document("acme", "s", "d") == 0


def test_the_offline_provider_answers_from_and_cites_the_numbered_sources() -> None:
    system = (
        "Sources:\n[1] (Handbook) # Leave\n\nEmployees get 25 vacation days. More text.\n\n"
        "[2] The office opens at nine.\n\n[3] Vacation requests need approval from a manager."
    )
    request = ChatRequest("parley-offline", [PromptMessage("user", "How do vacation requests work?")], system)

    answer = OfflineProvider().complete(request).content

    assert answer == (
        "Offline answer from your documents: Employees get 25 vacation days [1]. "
        "Vacation requests need approval from a manager [3]."
    )


def test_placeholders_in_retrieved_text_stay_literal() -> None:
    chunk = ScoredChunk(
        id="d:0", document_id="d", content="Write {{brand_id}} or {{context}} here.", score=0.9
    )

    system = render(DEFAULT_TEMPLATE, "acme", [chunk])

    assert "Write {{brand_id}} or {{context}} here." in system
    assert "assistant for acme" in system


def test_workflow_placeholders_are_expanded_once() -> None:
    prompt = expand_placeholders(
        "Step: {{input}} after {{previous}}", {"input": "say {{previous}}", "previous": "{{input}}"}
    )

    assert prompt == "Step: say {{previous}} after {{input}}"
    assert expand_placeholders("{{unknown}} stays", {"input": "x"}) == "{{unknown}} stays"


@dataclass(frozen=True)
class Said:
    role: str
    content: str


def test_a_follow_up_question_is_searched_with_the_subject_it_follows() -> None:
    model = MiniLMEmbedder()
    store = embedded_store(
        model,
        {
            "refunds-us": "In the United States refunds reach your card within 14 days.",
            "refunds-eu": "In Europe refunds are paid within 30 days, as EU consumer law requires.",
            "shipping-eu": "Parcels to Europe travel by air and arrive in about a week.",
        },
    )
    conversation = [
        Said("user", "How long do refunds take in the United States?"),
        Said("assistant", "Within 14 days."),
        Said("user", "and in Europe?"),
    ]

    query = retrieval_query(conversation)
    hits = retrieve("acme", "s", query, top_k=2, threshold=0.0, store=store, embed=model)
    bare = retrieve("acme", "s", "and in Europe?", top_k=2, threshold=0.0, store=store, embed=model)

    assert query == "How long do refunds take in the United States? and in Europe?"
    assert "refunds-eu" in [h.document_id for h in hits]  # the subject (refunds) in Europe ...
    assert "shipping-eu" not in [h.document_id for h in hits]
    assert bare[0].document_id == "shipping-eu"  # ... where the bare fragment finds parcels
    assert retrieval_query([Said("user", "What does EU consumer law say about refunds by card?")]) == (
        "What does EU consumer law say about refunds by card?"  # a full question stands alone
    )
