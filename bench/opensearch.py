"""RAG figures on a real OpenSearch 2.19 node (k-NN, lucene HNSW), beside the local store's in
bench/rag.py: ingest throughput into the node (embedding excluded and included) and hybrid
retrieval p50/p95 at 10,000 and 100,000 chunks, the same corpus and questions as the local store.
BENCH_OPENSEARCH=0 skips it."""

from __future__ import annotations

import time

from bench.costs import CALLER
from bench.memory_registry import MemoryRegistry
from bench.rag import SIZES, Corpus, paragraph, timed_searches
from bench.report import Report
from local.opensearch_node import HEAP, OpenSearchNode, wait_for_refresh
from parley.clock import SYSTEM_CLOCK
from parley.config import Settings
from parley.logic.ingest import ingest_documents
from parley.models.api.rag import DocumentIn
from parley.rag.opensearch_index import opensearch_client
from parley.rag.opensearch_store import OpenSearchVectorStore

LABEL = "OpenSearch 2.19 node (lucene HNSW k-NN + BM25, fused by Parley)"


EMBEDDED_DOCUMENTS = 200  # through the ingestion code with the model: embedding dominates


def run(report: Report, corpus: Corpus) -> None:
    model = corpus.model
    node = OpenSearchNode().start()
    try:
        client = opensearch_client(node.url, "none", "us-east-1", timeout=120)
        embedded = OpenSearchVectorStore(client, "bench-ingest", model.dimension)
        documents = [
            DocumentIn(brand_id="acme", rag_scope="bench", document_id=f"doc-{d}", content=paragraph(d))
            for d in range(EMBEDDED_DOCUMENTS)
        ]
        registry = MemoryRegistry()
        started = time.perf_counter()
        for start in range(0, len(documents), 100):
            batch = documents[start : start + 100]
            ingest_documents(
                CALLER,
                batch,
                store=embedded,
                embed=model,
                registry=registry,
                config=Settings(),
                clock=SYSTEM_CLOCK,
                within_deadline=False,
            )
        report.figure(
            "rag.opensearch.ingest.chunks_per_second",
            EMBEDDED_DOCUMENTS / (time.perf_counter() - started),
            "chunks/s",
            chunks=EMBEDDED_DOCUMENTS,
            embedding="included",
            embedder=model.name,
        )
        for size in SIZES:
            # A bulk load: no wait for a refresh per document; one wait before the searches.
            store = OpenSearchVectorStore(client, f"bench-{size}", model.dimension, wait_for_refresh=False)
            store.ensure_index()
            started = time.perf_counter()
            for document, chunks in corpus.documents(size):
                store.replace_document("acme", "bench", document, chunks)
            report.figure(
                "rag.opensearch.ingest.chunks_per_second",
                size / (time.perf_counter() - started),
                "chunks/s",
                chunks=size,
                embedding="excluded",
                documents_of=10,
                heap=HEAP,
            )
            wait_for_refresh(client, store.index)
            timed_searches(report, store, model, size, LABEL)
            client.indices.delete(index=store.index)
    finally:
        node.stop()
