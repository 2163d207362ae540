"""RAG figures on the S3 Vectors store, beside the local store's (bench/rag.py) and OpenSearch's
(bench/opensearch.py): the local S3 Vectors endpoint (exact search, in this process) and each
brand's lexicon in moto's S3. A bulk load's throughput, what replacing one document costs as the
brand grows (the lexicon is rewritten whole), and hybrid retrieval p50/p95 at 10,000 and 100,000
chunks with the same corpus and questions. The figures are this machine's: in AWS a query adds
S3 Vectors' own latency (documented as about 100 ms warm, under a second cold) and S3's.
BENCH_S3VECTORS=0 skips it."""

from __future__ import annotations

import tempfile
import time

from bench.rag import SIZES, Corpus, timed_searches
from bench.report import Report
from local.files_stack import BUCKET, FilesStack
from local.s3vectors_server import S3VectorsServer
from parley.rag.lexicon_objects import LexiconObjects
from parley.rag.s3vectors_store import S3VectorsStore

LABEL = "S3 Vectors store (local endpoint, exact search; lexicon in moto's S3)"
BULK_DOCUMENTS = 1_000  # documents per replace_documents call of the bulk load (one lexicon write)


def run(report: Report, corpus: Corpus) -> None:
    model = corpus.model
    server, files = S3VectorsServer(), FilesStack("us-east-1").start()
    scratch = tempfile.TemporaryDirectory()
    try:
        server.state.create_vector_bucket({"vectorBucketName": "parley-bench"})
        client = server.client()
        for size in SIZES:
            lexicons = LexiconObjects(
                files.client("s3"), BUCKET, f"lexicons-{size}/", f"{scratch.name}/{size}"
            )
            store = S3VectorsStore(client, "parley-bench", f"bench-{size}", model.dimension, lexicons)
            documents = list(corpus.documents(size))
            started = time.perf_counter()
            for start in range(0, len(documents), BULK_DOCUMENTS):
                store.replace_documents("acme", "bench", documents[start : start + BULK_DOCUMENTS])
            report.figure(
                "rag.s3vectors.bulk_load.chunks_per_second",
                size / (time.perf_counter() - started),
                "chunks/s",
                chunks=size,
                embedding="excluded",
                documents_per_lexicon_write=BULK_DOCUMENTS,
            )
            document, chunks = documents[0]
            started = time.perf_counter()
            store.replace_document("acme", "bench", document, chunks)
            report.figure(
                "rag.s3vectors.replace_one_document",
                (time.perf_counter() - started) * 1000,
                "ms",
                chunks=size,
                note="one ingestion rewrites the brand's whole lexicon (conditional PUT)",
            )
            timed_searches(report, store, model, size, LABEL)
    finally:
        files.stop()
        server.stop()
        scratch.cleanup()
