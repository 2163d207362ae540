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
from pathlib import Path

from bench.costs import CALLER, cost
from bench.memory_registry import MemoryRegistry
from bench.report import Report
from parley.logic.catalog import create_assistant, create_template_version
from parley.logic.ingest import ingest_documents
from parley.logic.rag_chat import rag_chat
from parley.models.api.rag import AssistantIn, ChatTurn, DocumentIn, RagChatRequest, TemplateIn
from parley.providers.embedders import normalise
from parley.providers.minilm import MiniLMEmbedder
from parley.rag.local_store import LocalVectorStore
from parley.rag.retrieval import retrieve
from parley.rag.vectors import ChunkRecord

INGESTED_CHUNKS = 1_000
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


def _paragraph(n: int) -> str:
    words = [WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(80)]  # ~190 tokens: one chunk each
    return f"Paragraph {n}: " + " ".join(words) + "."


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(report: Report) -> None:
    model = MiniLMEmbedder()
    with tempfile.TemporaryDirectory() as folder:
        store = LocalVectorStore(str(Path(folder) / "ingest.sqlite3"))
        registry = MemoryRegistry()
        documents = [
            DocumentIn(brand_id="acme", rag_scope="bench", document_id=f"doc-{d}", content=_paragraph(d))
            for d in range(INGESTED_CHUNKS)
        ]
        started = time.perf_counter()
        chunks = 0
        for start in range(0, len(documents), 100):
            result = ingest_documents(
                CALLER, documents[start : start + 100], store=store, embed=model, registry=registry
            )
            chunks += sum(d.chunks for d in result.documents)
        elapsed = time.perf_counter() - started
        report.figure(
            "rag.ingest.chunks_per_second", chunks / elapsed, "chunks/s", chunks=chunks, embedder=model.name
        )

        texts = [_paragraph(n) for n in range(DISTINCT)]
        vectors = model.embed(texts)
        jitter = random.Random(7)
        for size in SIZES:
            large = LocalVectorStore(str(Path(folder) / f"store-{size}.sqlite3"))
            for start in range(0, size, 1_000):
                batch = [
                    ChunkRecord(
                        "acme",
                        "bench",
                        f"doc-{n // 10}",
                        n % 10,
                        texts[n % DISTINCT],
                        normalise([x + jitter.gauss(0, 0.01) for x in vectors[n % DISTINCT]]),
                    )
                    for n in range(start, start + 1_000)
                ]
                for document in range(start // 10, (start + 1_000) // 10):
                    large.replace_document(
                        "acme",
                        "bench",
                        f"doc-{document}",
                        batch[(document * 10 - start) : (document * 10 - start) + 10],
                    )
            timings = []
            for n in range(SEARCHES):
                asked = f"What is the {WORDS[n % len(WORDS)]} policy for {WORDS[(n * 3) % len(WORDS)]}?"
                started = time.perf_counter()
                retrieve("acme", "bench", asked, 5, 0.0, store=large, embed=model)
                timings.append((time.perf_counter() - started) * 1000)
            for name, fraction in (("p50", 0.5), ("p95", 0.95)):
                report.figure(
                    f"rag.retrieval.{name}_latency",
                    _percentile(timings, fraction),
                    "ms",
                    chunks=size,
                    top_k=5,
                    searches=SEARCHES,
                    store="local hybrid (exact dense + FTS5), question embedded",
                )

    create_template_version(
        CALLER, TemplateIn(brand_id="acme", template_id="bench", body="Answer.\n\n{{context}}")
    )
    assistant = create_assistant(CALLER, AssistantIn(brand_id="acme", name="Bench", template_id="bench"))
    question = [ChatTurn(role="user", content="vacation policy")]
    cost(
        report,
        "rag_chat",
        lambda: rag_chat(CALLER, RagChatRequest(messages=question, brand_id="acme", user_id=CALLER.user_id)),
        assistant="none",
    )
    cost(
        report,
        "rag_chat_with_assistant",
        lambda: rag_chat(
            CALLER,
            RagChatRequest(
                messages=question,
                brand_id="acme",
                user_id=CALLER.user_id,
                assistant_id=assistant.assistant_id,
            ),
        ),
        assistant="pins a stored template",
    )
