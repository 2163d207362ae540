"""RAG figures: ingestion throughput (hashing embedder, local store), retrieval latency at
10,000 chunks, and what a RAG chat costs in DynamoDB."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.costs import CALLER, cost
from bench.report import Report
from parley.logic.catalog import create_assistant, create_template_version
from parley.logic.ingest import ingest_documents
from parley.logic.rag_chat import rag_chat
from parley.models.api.rag import AssistantIn, ChatTurn, DocumentIn, RagChatRequest, TemplateIn
from parley.providers.embedders import HashingEmbedder
from parley.rag.local_store import LocalVectorStore

CHUNKS = 10_000
DOCUMENTS = 100
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


def run(report: Report) -> None:
    embed = HashingEmbedder(384)
    with tempfile.TemporaryDirectory() as folder:
        store = LocalVectorStore(str(Path(folder) / "vectors.sqlite3"))
        per_document = CHUNKS // DOCUMENTS
        documents = [
            DocumentIn(
                brand_id="acme",
                rag_scope="bench",
                document_id=f"doc-{d}",
                content="\n\n".join(_paragraph(d * per_document + p) for p in range(per_document)),
            )
            for d in range(DOCUMENTS)
        ]
        started = time.perf_counter()
        chunks = 0
        for start in range(0, DOCUMENTS, 20):  # batches within the API's 5 MB limit
            result = ingest_documents(CALLER, documents[start : start + 20], store=store, embed=embed)
            chunks += sum(d.chunks for d in result.documents)
        elapsed = time.perf_counter() - started
        report.figure(
            "rag.ingest.chunks_per_second",
            chunks / elapsed,
            "chunks/s",
            chunks=chunks,
            embedder=embed.name,
            store="local",
        )

        timings = []
        for n in range(SEARCHES):
            started = time.perf_counter()
            store.search(
                "acme", "bench", embed.embed([f"{WORDS[n % len(WORDS)]} policy approval"])[0], 5, 0.0
            )
            timings.append((time.perf_counter() - started) * 1000)
        report.figure(
            "rag.retrieval.median_latency",
            statistics.median(timings),
            "ms",
            chunks=chunks,
            top_k=5,
            searches=SEARCHES,
            store="local (exact search)",
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
