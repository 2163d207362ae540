"""Reranking the fused top results with a cross-encoder where the cloud has one: Amazon Bedrock's
`Rerank` (bedrock-agent-runtime) with Amazon Rerank 1.0 or Cohere Rerank 3.5. A reranker that
fails or is slow never fails the answer: the fused order stands, and the failure is logged.
Any other reranker (a local cross-encoder, say) fits behind `Reranker`."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from typing import Any, Protocol

from parley.config import Settings
from parley.observability import logger
from parley.rag.vectors import ScoredChunk

MAX_DOCUMENTS = 1000  # Rerank's sources, at most
MAX_CHARACTERS = 32_000  # of the query, and of each source
DOCUMENTS_PER_QUERY = 100  # Bedrock bills one query per 100 documents reranked (or part)


@dataclass(frozen=True)
class RerankModel:
    regions: frozenset[str]  # where Bedrock serves it
    usd_per_thousand_queries: float


RERANK_MODELS = {
    "amazon.rerank-v1:0": RerankModel(
        frozenset({"us-west-2", "ca-central-1", "eu-central-1", "ap-northeast-1"}), 1.00
    ),
    "cohere.rerank-v3-5:0": RerankModel(
        frozenset({"us-east-1", "us-west-2", "ca-central-1", "eu-central-1", "ap-northeast-1"}), 2.00
    ),
}


@dataclass(frozen=True)
class RerankChoice:
    model: str
    top_n: int = 30  # fused results handed to the reranker


@dataclass(frozen=True)
class Reranked:
    chunks: list[ScoredChunk]
    model: str
    queries: int = 0  # billed queries
    cost_usd: float = 0.0
    fell_back: bool = False  # the reranker failed: the fused order


class Reranker(Protocol):
    def rerank(self, question: str, chunks: list[ScoredChunk], choice: RerankChoice) -> Reranked: ...


def billed_queries(documents: int) -> int:
    return math.ceil(documents / DOCUMENTS_PER_QUERY)


class BedrockReranker:
    def __init__(self, client: Any, region: str, partition: str = "aws") -> None:
        self.client = client
        self.region = region
        self.partition = partition

    def rerank(self, question: str, chunks: list[ScoredChunk], choice: RerankChoice) -> Reranked:
        documents = [c for c in chunks if c.content.strip()][:MAX_DOCUMENTS]
        if not documents or not question.strip():
            return Reranked(chunks, choice.model)
        model_arn = f"arn:{self.partition}:bedrock:{self.region}::foundation-model/{choice.model}"
        try:
            results = self._results(question, documents, model_arn)
        except Exception as error:  # any failure: the fused order, never an error for the user
            logger.warning(
                "rerank failed; the fused order is used",
                extra={"model": choice.model, "error_type": type(error).__name__},
            )
            return Reranked(chunks, choice.model, fell_back=True)
        ordered = [replace(documents[index], score=score) for index, score in results]
        queries = billed_queries(len(documents))
        price = RERANK_MODELS[choice.model].usd_per_thousand_queries if choice.model in RERANK_MODELS else 0.0
        return Reranked(ordered, choice.model, queries, round(queries * price / 1000, 8))

    def _results(
        self, question: str, documents: list[ScoredChunk], model_arn: str
    ) -> list[tuple[int, float]]:
        """(index, relevance) of every document, most relevant first, across the result pages."""
        request: dict[str, Any] = {
            "queries": [{"type": "TEXT", "textQuery": {"text": question[:MAX_CHARACTERS]}}],
            "sources": [
                {
                    "type": "INLINE",
                    "inlineDocumentSource": {
                        "type": "TEXT",
                        "textDocument": {"text": c.content[:MAX_CHARACTERS]},
                    },
                }
                for c in documents
            ],
            "rerankingConfiguration": {
                "type": "BEDROCK_RERANKING_MODEL",
                "bedrockRerankingConfiguration": {
                    "numberOfResults": len(documents),
                    "modelConfiguration": {"modelArn": model_arn},
                },
            },
        }
        found: list[tuple[int, float]] = []
        while True:
            response = self.client.rerank(**request)
            found += [(int(r["index"]), float(r["relevanceScore"])) for r in response.get("results") or []]
            token = response.get("nextToken")
            if not token or len(found) >= len(documents):
                break
            request["nextToken"] = token
        best: dict[int, float] = {}
        for index, score in found:
            if 0 <= index < len(documents):
                best.setdefault(index, score)
        return sorted(best.items(), key=lambda pair: -pair[1])


def rerank_region(config: Settings) -> str:
    """Where Rerank is called: RAG_RERANK_REGION, else BEDROCK_REGION, else the function's."""
    return config.rag_rerank_region or config.bedrock_region or os.environ.get("AWS_REGION") or "us-east-1"


def default_rerank(config: Settings) -> RerankChoice | None:
    """RAG_RERANK_MODEL's choice, for searches that name none; None without one."""
    return RerankChoice(config.rag_rerank_model, config.rag_rerank_top_n) if config.rag_rerank_model else None


def brand_reranks(config: Settings) -> dict[str, RerankChoice | None]:
    """RAG_RERANK_BY_BRAND: each named brand's own choice over the deployment's (None: off)."""
    return {
        brand: RerankChoice(own.model, own.top_n) if own.model else None
        for brand, own in config.rag_rerank_by_brand.items()
    }


def bedrock_reranker(region: str, timeout: float) -> BedrockReranker:
    """Bedrock's Rerank in `region`, with the deadline as its timeouts and no retry (the fallback
    is the fused order, at once)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=min(1.0, timeout),
        read_timeout=timeout,
        retries={"mode": "standard", "max_attempts": 1},
    )
    session = boto3.session.Session()
    partition = session.get_partition_for_region(region)
    return BedrockReranker(
        session.client("bedrock-agent-runtime", region_name=region, config=config), region, partition
    )
