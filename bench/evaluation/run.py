"""`make eval`: the CISI collection ingested through Parley's ingestion code into the local hybrid
store, its judged queries run through the retrieval the RAG chat uses, and nDCG@10, recall@10 and
MRR printed per configuration beside BM25, dense-only and fused baselines computed in this run.
Also the scores that calibrate the default threshold. Then the same collection, with the same
vectors, in a real OpenSearch node (EVAL_OPENSEARCH=0 skips it): the same fusion on OpenSearch's
k-NN and BM25; and in the S3 Vectors store (EVAL_S3VECTORS=0 skips it). One JSON object per
line; nothing passes or fails."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy

from bench.evaluation import baselines, cisi, rocchio
from bench.evaluation.metrics import ndcg_at, recall_at, reciprocal_rank
from bench.memory_registry import MemoryRegistry
from parley.auth.principal import ALL_SCOPES, Principal
from parley.clock import SYSTEM_CLOCK
from parley.config import Settings
from parley.logic.ingest import ingest_documents
from parley.models.api.rag import DocumentIn
from parley.models.filters import parse_filters
from parley.providers.embedders import Embedder
from parley.providers.minilm import MiniLMEmbedder
from parley.rag.feedback import NO_FEEDBACK, Feedback
from parley.rag.fusion import DEFAULT_TITLE_WEIGHT, Fusion
from parley.rag.local_store import LocalVectorStore
from parley.rag.retrieval import retrieve
from parley.rag.vectors import VectorStore

COLLECTION = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cisi"
RESULTS = Path(__file__).resolve().parent.parent / "eval_results.jsonl"
BRAND, SCOPE = "eval", "cisi"
CANDIDATE_CHUNKS = 100  # enough chunks for ten distinct documents
# Questions no CISI abstract answers: their best scores say where "unrelated" ends.
OFF_TOPIC = [
    "How long do refunds take?",
    "What is the capital of Australia?",
    "How do I reset my router password?",
    "Best recipe for sourdough pizza dough",
    "Which football club won the league in 1999?",
    "How many calories are in an avocado?",
    "What are the side effects of ibuprofen?",
    "When does the airport shuttle leave?",
]

Ranker = Callable[[str], list[str]]
# The filtered cases: every document carries its number and its parity as metadata.
FILTERED_CASES: list[tuple[str, dict[str, Any], Callable[[str], bool]]] = [
    ("half = even", {"half": "even"}, lambda d: int(d) % 2 == 0),
    ("number <= 730 (a range)", {"number": {"lte": 730}}, lambda d: int(d) <= 730),
]


def metadata_of(document_id: str) -> dict[str, Any]:
    return {"half": "odd" if int(document_id) % 2 else "even", "number": int(document_id)}


class RememberingEmbedder:
    """The model's vectors, each text embedded once: the OpenSearch run reuses what the local
    run computed, so the two stores are compared on the same vectors."""

    def __init__(self, model: MiniLMEmbedder) -> None:
        self.model, self.name, self.dimension = model, model.name, model.dimension
        self.known: dict[str, list[float]] = {}

    def embed(self, texts: list[str]) -> list[list[float]]:
        missing = list(dict.fromkeys(t for t in texts if t not in self.known))
        if missing:
            self.known.update(zip(missing, self.model.embed(missing), strict=True))
        return [self.known[t] for t in texts]


def emit(line: dict[str, Any], out: list[dict[str, Any]]) -> None:
    out.append(line)
    print(json.dumps(line), flush=True)


def documents_of(chunks: list[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for chunk in chunks:
        seen.setdefault(chunk.document_id, None)
    return list(seen)


def evaluate(
    name: str, rank: Ranker, collection: cisi.Collection, out: list[dict[str, Any]]
) -> dict[str, float]:
    """Print the configuration's figures; each query's nDCG@10 (for the cross-validation)."""
    started = time.perf_counter()
    rankings = {q.id: rank(q.text) for q in collection.queries}
    per_query = [(rankings[q.id], collection.judgments[q.id]) for q in collection.queries]
    emit(
        {
            "retrieval": name,
            "ndcg@10": round(statistics.mean(ndcg_at(10, r, j) for r, j in per_query), 3),
            "recall@10": round(statistics.mean(recall_at(10, r, j) for r, j in per_query), 3),
            "mrr": round(statistics.mean(reciprocal_rank(r, j) for r, j in per_query), 3),
            "queries": len(per_query),
            "ms_per_query": round((time.perf_counter() - started) * 1000 / len(per_query), 1),
        },
        out,
    )
    return {q.id: ndcg_at(10, rankings[q.id], collection.judgments[q.id]) for q in collection.queries}


FOLDS = 5


def cross_validated(
    label: str, grid: dict[str, dict[str, float]], baseline: float, out: list[dict[str, Any]]
) -> None:
    """The grid's nDCG@10 as a user would get it, its configuration chosen without the queries it
    is measured on: the queries in five folds (by their order in the collection), each fold
    answered by the configuration best on the other four; the mean over all queries, and its
    ratio to the fused baseline's."""
    queries = list(next(iter(grid.values())))
    held_out, chosen = [], []
    for fold in range(FOLDS):
        tuning = [q for n, q in enumerate(queries) if n % FOLDS != fold]
        best = max(grid, key=lambda name: (statistics.mean(grid[name][q] for q in tuning), name))
        chosen.append(best)
        held_out += [grid[best][q] for n, q in enumerate(queries) if n % FOLDS == fold]
    estimate = statistics.mean(held_out)
    emit(
        {
            "cross_validated": label,
            "ndcg@10": round(estimate, 3),
            "ratio_to_fused_baseline": round(estimate / baseline, 3),
            "folds": FOLDS,
            "chosen": chosen,
        },
        out,
    )


# The configurations cross-validation chooses among: the fusion's lexical weight, the title's
# weight beside the content's (field weighting), and pseudo-relevance feedback (documents read,
# words added, their share).
WEIGHTS = (0.2, 0.25, 0.3, 0.35, 0.4)
TITLE_WEIGHTS = (0.0, 0.5, 1.0)
FEEDBACKS = (
    NO_FEEDBACK,
    Feedback(5, 10, 0.3),
    Feedback(3, 10, 0.3),
    Feedback(5, 20, 0.3),
    Feedback(5, 20, 0.5),
    Feedback(10, 20, 0.5),
    Feedback(10, 30, 0.6),
)


Configured = Callable[[Fusion, float, Feedback, float], Ranker]  # fusion, weight, feedback, title


def tuned(  # noqa: PLR0917 (the run's parts, passed on)
    label: str,
    configured: Configured,
    feedbacks: tuple[Feedback, ...],
    collection: cisi.Collection,
    baseline: float,
    out: list[dict[str, Any]],
) -> None:
    """Every configuration of the grid, then the cross-validated estimates: of the fusion's
    weight alone (the default title weight), with the title's weight, and with feedback too."""
    grid = {
        configuration_name(weight, feedback, title): evaluate(
            f"{label}: {configuration_name(weight, feedback, title)}",
            configured("weighted", weight, feedback, title),
            collection,
            out,
        )
        for title in TITLE_WEIGHTS
        for weight in WEIGHTS
        for feedback in feedbacks
    }
    fields = {name: scores for name, scores in grid.items() if "feedback" not in name}
    weights_only = {name: scores for name, scores in fields.items() if "title" not in name}
    cross_validated(f"{label}, the fusion's weight", weights_only, baseline, out)
    cross_validated(f"{label}, the fusion's and the title's weights", fields, baseline, out)
    cross_validated(f"{label}, the weights and feedback", grid, baseline, out)


def configuration_name(weight: float, feedback: Feedback, title: float = DEFAULT_TITLE_WEIGHT) -> str:
    expanded = (
        f", feedback {feedback.documents} documents, {feedback.terms} words at {feedback.weight}"
        if feedback.documents
        else ""
    )
    titled = f", title {title}" if title != DEFAULT_TITLE_WEIGHT else ""
    return f"weighted {weight}{titled}{expanded}"


def ingest(
    collection: cisi.Collection, store: VectorStore, model: Embedder, label: str, out: list[Any]
) -> None:
    caller = Principal("eval", frozenset({BRAND}), frozenset(ALL_SCOPES))
    registry = MemoryRegistry()
    started = time.perf_counter()
    for start in range(0, len(collection.documents), 100):
        batch = collection.documents[start : start + 100]
        ingest_documents(
            caller,
            [
                DocumentIn(
                    brand_id=BRAND,
                    rag_scope=SCOPE,
                    document_id=d.id,
                    title=d.title or None,
                    content=f"{d.title}\n\n{d.text}",
                    metadata=metadata_of(d.id),
                )
                for d in batch
            ],
            store=store,
            embed=model,
            registry=registry,
            config=Settings(),
            clock=SYSTEM_CLOCK,
            within_deadline=False,
        )
    seconds = time.perf_counter() - started
    emit(
        {
            "ingest": label,
            "documents": len(collection.documents),
            "seconds": round(seconds, 1),
            "documents_per_second": round(len(collection.documents) / seconds, 1),
        },
        out,
    )


def evaluate_filtered(
    label: str, store: VectorStore, model: Embedder, collection: cisi.Collection, out: list[dict[str, Any]]
) -> None:
    """Each filtered case against the judgments of the documents it admits: the store's filtered
    search, beside the unfiltered search with the other documents dropped from its results. Every
    document a filtered search returns must be admitted (`violations`: 0)."""
    for name, filters, admits in FILTERED_CASES:
        conditions = parse_filters(filters)
        judged = [
            (q, {d: grade for d, grade in collection.judgments[q.id].items() if admits(d)})
            for q in collection.queries
        ]
        judged = [(q, j) for q, j in judged if j]
        inside, after, violations = [], [], 0
        for query, judgments in judged:
            found = documents_of(
                retrieve(
                    BRAND,
                    SCOPE,
                    query.text,
                    CANDIDATE_CHUNKS,
                    0.0,
                    store=store,
                    embed=model,
                    filters=conditions,
                )
            )
            violations += sum(not admits(d) for d in found)
            unfiltered = documents_of(
                retrieve(BRAND, SCOPE, query.text, CANDIDATE_CHUNKS, 0.0, store=store, embed=model)
            )
            inside.append(ndcg_at(10, found, judgments))
            after.append(ndcg_at(10, [d for d in unfiltered if admits(d)], judgments))
        emit(
            {
                "retrieval": f"{label}: filtered ({name})",
                "ndcg@10": round(statistics.mean(inside), 3),
                "ndcg@10_dropping_after_an_unfiltered_search": round(statistics.mean(after), 3),
                "violations": violations,
                "queries": len(judged),
            },
            out,
        )


def on_opensearch(
    collection: cisi.Collection, model: Embedder, baseline: float, out: list[dict[str, Any]]
) -> None:
    """The same documents and vectors in a real OpenSearch node, the same retrieval and fusion."""
    from local.opensearch_node import OpenSearchNode, wait_for_refresh
    from parley.rag.opensearch_index import opensearch_client
    from parley.rag.opensearch_store import OpenSearchVectorStore

    node = OpenSearchNode().start()
    try:
        store = OpenSearchVectorStore(
            opensearch_client(node.url, "none", "us-east-1", timeout=60), "parley-eval", model.dimension
        )
        ingest(collection, store, model, "cisi into OpenSearch 2.19 (vectors reused)", out)
        wait_for_refresh(store.client, store.index)
        store_figures("opensearch", "lucene HNSW", store, model, collection, baseline, out)
    finally:
        node.stop()


def on_s3vectors(
    collection: cisi.Collection, model: Embedder, baseline: float, out: list[dict[str, Any]]
) -> None:
    """The same documents and vectors in the S3 Vectors store: the local S3 Vectors endpoint
    (exact search) and each brand's lexicon in moto's S3, the same retrieval and fusion."""

    from local.files_stack import BUCKET, FilesStack
    from local.s3vectors_server import S3VectorsServer
    from parley.rag.lexicon_objects import LexiconObjects
    from parley.rag.s3vectors_store import S3VectorsStore

    server, files = S3VectorsServer(), FilesStack("us-east-1").start()
    scratch = tempfile.TemporaryDirectory()
    try:
        server.state.create_vector_bucket({"vectorBucketName": "parley-eval"})
        vectors = server.client()
        lexicons = LexiconObjects(files.client("s3"), BUCKET, "lexicons/", scratch.name)
        store = S3VectorsStore(vectors, "parley-eval", "parley-eval-minilm", model.dimension, lexicons)
        ingest(collection, store, model, "cisi into the S3 Vectors store (vectors reused)", out)
        store_figures("s3vectors", "S3 Vectors, exact here", store, model, collection, baseline, out)
    finally:
        files.stop()
        server.stop()
        scratch.cleanup()


def store_figures(  # noqa: PLR0917 (the run's parts, passed on)
    label: str,
    dense_kind: str,
    store: Any,
    model: Embedder,
    collection: cisi.Collection,
    baseline: float,
    out: list[dict[str, Any]],
) -> None:
    """A remote store's halves, RRF, the cross-validated grid (two feedbacks: each query makes
    two round trips with it) and the filtered cases."""

    def configured(
        fusion: Fusion,
        weight: float,
        feedback: Feedback = NO_FEEDBACK,
        title: float = DEFAULT_TITLE_WEIGHT,
    ) -> Ranker:
        def rank(question: str) -> list[str]:
            store.fusion, store.lexical_weight, store.title_weight = fusion, weight, title
            found = retrieve(
                BRAND, SCOPE, question, CANDIDATE_CHUNKS, 0.0, store=store, embed=model, feedback=feedback
            )
            return documents_of(found)

        return rank

    evaluate(f"{label}: lexical half only (BM25)", configured("weighted", 1.0), collection, out)
    evaluate(f"{label}: dense half only ({dense_kind})", configured("weighted", 0.0), collection, out)
    evaluate(f"{label}: rrf", configured("rrf", 0.3), collection, out)
    tuned(label, configured, FEEDBACKS[:2], collection, baseline, out)
    store.fusion, store.lexical_weight, store.title_weight = "weighted", 0.3, DEFAULT_TITLE_WEIGHT
    evaluate_filtered(label, store, model, collection, out)


def main() -> None:
    directory = Path(os.environ.get("CISI_DIR") or COLLECTION)
    if not (directory / "CISI.ALL").exists():
        sys.exit(f"The CISI collection is not at {directory} (set CISI_DIR).")
    collection = cisi.load(directory)
    out: list[dict[str, Any]] = []
    model = RememberingEmbedder(MiniLMEmbedder())
    scratch = tempfile.TemporaryDirectory()
    store = LocalVectorStore(str(Path(scratch.name) / "vectors.sqlite3"))
    ingest(collection, store, model, "cisi", out)

    def configured(
        fusion: Fusion, weight: float, feedback: Feedback = NO_FEEDBACK, title: float = DEFAULT_TITLE_WEIGHT
    ) -> Ranker:
        def rank(question: str) -> list[str]:
            store.fusion, store.lexical_weight, store.title_weight = fusion, weight, title
            found = retrieve(
                BRAND, SCOPE, question, CANDIDATE_CHUNKS, 0.0, store=store, embed=model, feedback=feedback
            )
            return documents_of(found)

        return rank

    def dense_chunks(question: str) -> list[str]:
        vector = model.embed([question])[0]
        return documents_of(store.search(BRAND, SCOPE, vector, CANDIDATE_CHUNKS, 0.0))

    texts = {d.id: f"{d.title}\n\n{d.text}" for d in collection.documents}
    bm25 = baselines.BM25(texts)
    ids = list(texts)
    document_vectors = numpy.array(model.embed([texts[i] for i in ids]))

    def dense_documents(question: str) -> list[str]:
        return baselines.dense_rank(numpy.array(model.embed([question])[0]), document_vectors, ids)

    evaluate("baseline: BM25 (whole documents, stop words)", bm25.rank, collection, out)
    evaluate("baseline: all-MiniLM-L6-v2 dense only", dense_documents, collection, out)
    fused = evaluate(
        "baseline: reciprocal-rank fusion of those two",
        lambda q: baselines.fused_rank(bm25.rank(q), dense_documents(q)),
        collection,
        out,
    )
    baseline = statistics.mean(fused.values())
    evaluate("parley: dense half only (chunks)", dense_chunks, collection, out)
    evaluate("parley: lexical half only (FTS5 BM25)", configured("weighted", 1.0), collection, out)
    evaluate("parley: rrf", configured("rrf", 0.3), collection, out)
    tuned("parley", configured, FEEDBACKS, collection, baseline, out)
    store.fusion, store.lexical_weight, store.title_weight = "weighted", 0.3, DEFAULT_TITLE_WEIGHT
    tried = {
        "weighted 0.3": evaluate(
            "parley: weighted 0.3 (for Rocchio)", configured("weighted", 0.3), collection, out
        )
    }
    for documents, beta in rocchio.SETTINGS:
        name = f"weighted 0.3, Rocchio (dense) {documents} results at {beta}"
        ranker = rocchio.rocchio_ranker(
            store, model.known, model.embed, BRAND, SCOPE, CANDIDATE_CHUNKS, documents, beta, documents_of
        )
        tried[name] = evaluate(f"parley: {name} (tried)", ranker, collection, out)
    cross_validated("parley, Rocchio on the dense half (tried)", tried, baseline, out)

    store.fusion, store.lexical_weight, store.title_weight = "weighted", 0.3, DEFAULT_TITLE_WEIGHT
    evaluate_filtered("parley", store, model, collection, out)
    top_relevant, top_unrelated = [], []
    for query in collection.queries:
        hits = retrieve(BRAND, SCOPE, query.text, 10, 0.0, store=store, embed=model)
        relevant = [h.score for h in hits if collection.judgments[query.id].get(h.document_id)]
        if relevant:
            top_relevant.append(max(relevant))
    for question in OFF_TOPIC:
        hits = retrieve(BRAND, SCOPE, question, 1, 0.0, store=store, embed=model)
        top_unrelated.append(hits[0].score if hits else 0.0)
    emit(
        {
            "calibration": "weighted 0.3",
            "best_relevant_score_median": round(statistics.median(top_relevant), 3),
            "best_relevant_score_p10": round(sorted(top_relevant)[len(top_relevant) // 10], 3),
            "off_topic_best_scores": [round(s, 3) for s in top_unrelated],
        },
        out,
    )
    if os.environ.get("EVAL_OPENSEARCH", "1") != "0":
        on_opensearch(collection, model, baseline, out)
    if os.environ.get("EVAL_S3VECTORS", "1") != "0":
        on_s3vectors(collection, model, baseline, out)
    RESULTS.write_text("".join(json.dumps(line) + "\n" for line in out))


if __name__ == "__main__":
    main()
