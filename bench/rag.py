"""RAG figures with the local default (all-MiniLM-L6-v2, the hybrid local store): ingestion
throughput through the ingestion code, retrieval p50/p95 at 10,000 and 100,000 chunks, and what a
RAG chat costs in DynamoDB.

Embedding 100,000 chunks with the model on this machine would take most of an hour, so the large
stores hold 2,000 distinct embedded paragraphs repeated with a small perturbation of each vector:
retrieval latency depends on the number and size of the stored chunks, not on their wording."""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.costs import CALLER, cost
from bench.memory_registry import MemoryRegistry
from bench.report import Report
from parley.clock import SYSTEM_CLOCK
from parley.config import Settings
from parley.logic.catalog import create_assistant, create_template_version
from parley.logic.ingest import ingest_documents
from parley.logic.rag_chat import rag_chat
from parley.models.api.rag import AssistantIn, ChatTurn, DocumentIn, RagChatRequest, TemplateIn
from parley.providers.embedders import Embedder, normalise
from parley.providers.minilm import MiniLMEmbedder
from parley.rag.feedback import Feedback
from parley.rag.local_store import LocalVectorStore
from parley.rag.retrieval import retrieve
from parley.rag.vectors import ChunkRecord, VectorStore
from parley.wiring import Wiring

INGESTED_CHUNKS = 1_000
EMBEDDED_TEXTS = 128
DISTINCT = 2_000
SIZES = (10_000, 100_000)
SEARCHES = 50
WORDS = [
    "vacation",
    "expense",
    "office",
    "policy",
    "travel",
    "laptop",
    "security",
    "benefits",
    "payroll",
    "meeting",
    "review",
    "budget",
    "holiday",
    "remote",
    "contract",
    "training",
    "onboarding",
    "manager",
    "approval",
    "receipt",
]


SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "sa", "vel", "dor", "ni", "pe", "gar", "shu", "bi", "mon", "fe"]
# A vocabulary of 5,000 words used as text uses words, by Zipf's law (the r-th most frequent word
# about 1/r as often as the first): a question's words appear in some chunks, not in all. The
# twenty HR words lead the list.
VOCABULARY = WORDS + [
    SYLLABLES[i % 15] + SYLLABLES[(i // 15) % 15] + SYLLABLES[(i // 225) % 15] for i in range(4_980)
]
ZIPF = [1.0 / rank for rank in range(1, len(VOCABULARY) + 1)]


def paragraph(n: int) -> str:
    """One chunk's text (~80 words): the same words for the same n on every run."""
    words = random.Random(n).choices(VOCABULARY, weights=ZIPF, k=80)
    return f"Paragraph {n}: " + " ".join(words) + "."


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Corpus:
    """`size` chunks in documents of ten: DISTINCT embedded paragraphs, repeated with a small,
    seeded perturbation of each vector."""

    def __init__(self, model: MiniLMEmbedder) -> None:
        self.model = model
        self.texts = [paragraph(n) for n in range(DISTINCT)]
        self.vectors = model.embed(self.texts)

    def documents(self, size: int) -> Iterator[tuple[str, list[ChunkRecord]]]:
        jitter = random.Random(7)
        for document in range(size // 10):
            yield (
                f"doc-{document}",
                [
                    ChunkRecord(
                        "acme",
                        "bench",
                        f"doc-{document}",
                        n % 10,
                        self.texts[n % DISTINCT],
                        normalise([x + jitter.gauss(0, 0.01) for x in self.vectors[n % DISTINCT]]),
                    )
                    for n in range(document * 10, document * 10 + 10)
                ],
            )


def questions() -> list[str]:
    """Questions naming two words of the vocabulary's ranks 50 to 2,000, as a question names its
    subject rather than the corpus's commonest words."""
    return [
        f"What about {VOCABULARY[50 + (n * 7) % 150]} and {VOCABULARY[200 + (n * 37) % 1800]}?"
        for n in range(SEARCHES)
    ]


FEEDBACK = Feedback(5, 10, 0.3)  # pseudo-relevance feedback as `make eval` measures it


class Embedded:
    """A question's vector, already made: the searches are timed without the embedding."""

    name, dimension = "embedded", 384

    def __init__(self, vector: list[float]) -> None:
        self.vector = vector

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self.vector for _ in texts]


def timed_searches(report: Report, store: VectorStore, model: Embedder, size: int, label: str) -> None:
    """Retrieval p50/p95 over SEARCHES questions, with the question's embedding and without it."""
    asked = questions()
    vectors = model.embed(asked)
    started = time.perf_counter()
    store.search("acme", "bench", vectors[0], 5, 0.0, text=asked[0])  # reads the vectors into memory
    report.figure(
        "rag.retrieval.first_search_after_a_write",
        (time.perf_counter() - started) * 1000,
        "ms",
        chunks=size,
        store=label,
    )
    included, excluded, with_feedback = [], [], []
    for question, vector in zip(asked, vectors, strict=True):
        started = time.perf_counter()
        retrieve("acme", "bench", question, 5, 0.0, store=store, embed=model)
        included.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        store.search("acme", "bench", vector, 5, 0.0, text=question)
        excluded.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        retrieve("acme", "bench", question, 5, 0.0, store=store, embed=Embedded(vector), feedback=FEEDBACK)
        with_feedback.append((time.perf_counter() - started) * 1000)
    for embedding, timings in (
        ("question embedded", included),
        ("embedding excluded", excluded),
        ("embedding excluded, with feedback (RAG_FEEDBACK_DOCUMENTS=5: two searches)", with_feedback),
    ):
        for name, fraction in (("p50", 0.5), ("p95", 0.95)):
            report.figure(
                f"rag.retrieval.{name}_latency",
                _percentile(timings, fraction),
                "ms",
                chunks=size,
                top_k=5,
                searches=SEARCHES,
                store=f"{label}, {embedding}",
            )


def run(report: Report) -> Corpus:
    """The local store's figures; the corpus it embedded, for the OpenSearch figures."""
    model = MiniLMEmbedder()
    texts = [paragraph(n) for n in range(EMBEDDED_TEXTS)]
    model.embed(texts[:2])  # the first call sets up the tokenizer's buffers
    started = time.perf_counter()
    model.embed(texts)
    report.figure(
        "rag.embedder.texts_per_second",
        EMBEDDED_TEXTS / (time.perf_counter() - started),
        "texts/s",
        embedder=model.name,
        texts=EMBEDDED_TEXTS,
        tokens_per_text=len(model.tokens(texts[0])),
    )
    with tempfile.TemporaryDirectory() as folder:
        store = LocalVectorStore(str(Path(folder) / "ingest.sqlite3"))
        registry = MemoryRegistry()
        documents = [
            DocumentIn(brand_id="acme", rag_scope="bench", document_id=f"doc-{d}", content=paragraph(d))
            for d in range(INGESTED_CHUNKS)
        ]
        started = time.perf_counter()
        chunks = 0
        for start in range(0, len(documents), 100):
            result = ingest_documents(
                CALLER,
                documents[start : start + 100],
                store=store,
                embed=model,
                registry=registry,
                config=Settings(),
                clock=SYSTEM_CLOCK,
                within_deadline=False,
            )
            chunks += sum(d.chunks for d in result.documents)
        elapsed = time.perf_counter() - started
        report.figure(
            "rag.ingest.chunks_per_second", chunks / elapsed, "chunks/s", chunks=chunks, embedder=model.name
        )

        corpus = Corpus(model)
        for size in SIZES:
            large = LocalVectorStore(str(Path(folder) / f"store-{size}.sqlite3"))
            for document, batch in corpus.documents(size):
                large.replace_document("acme", "bench", document, batch)
            timed_searches(report, large, model, size, "local hybrid (exact dense + FTS5)")

    wiring = Wiring()  # the environment `make bench` set up
    create_template_version(
        CALLER,
        TemplateIn(brand_id="acme", template_id="bench", body="Answer.\n\n{{context}}"),
        store=wiring.catalog,
    )
    assistant = create_assistant(
        CALLER,
        AssistantIn(brand_id="acme", name="Bench", template_id="bench"),
        store=wiring.catalog,
        config=wiring.settings,
    )

    def answer(request: RagChatRequest) -> Any:
        return rag_chat(
            CALLER,
            request,
            catalog=wiring.catalog,
            generator=wiring.generator,
            retrieve=wiring.retriever,
            config=wiring.settings,
        )

    question = [ChatTurn(role="user", content="vacation policy")]
    cost(
        report,
        "rag_chat",
        lambda: answer(RagChatRequest(messages=question, brand_id="acme", user_id=CALLER.user_id)),
        assistant="none",
    )
    cost(
        report,
        "rag_chat_with_assistant",
        lambda: answer(
            RagChatRequest(
                messages=question,
                brand_id="acme",
                user_id=CALLER.user_id,
                assistant_id=assistant.assistant_id,
            ),
        ),
        assistant="pins a stored template",
    )
    return corpus
