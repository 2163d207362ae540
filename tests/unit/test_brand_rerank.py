"""RAG_RERANK_BY_BRAND: a brand's own reranking over the deployment's, under an assistant's; a wrong
setting is a configuration error naming it."""

from __future__ import annotations

import json

import pytest

from parley.config import ConfigurationError, settings_from
from parley.providers.embedders import Embedder
from parley.rag.rerank import RerankChoice, brand_reranks, default_rerank
from parley.rag.retrieval import Retriever
from parley.rag.vectors import VectorStore


def retriever_of(environ: dict[str, str]) -> Retriever:
    config = settings_from(environ)

    def unused_store() -> VectorStore:
        raise AssertionError("no search runs")

    def unused_embedder() -> Embedder:
        raise AssertionError("no search runs")

    return Retriever(
        unused_store,
        unused_embedder,
        default_rerank=default_rerank(config),
        brand_reranks=brand_reranks(config),
    )


def test_an_assistants_choice_then_the_brands_then_the_deployments() -> None:
    retriever = retriever_of(
        {
            "RAG_RERANK_MODEL": "amazon.rerank-v1:0",
            "RAG_RERANK_TOP_N": "20",
            "RAG_RERANK_BY_BRAND": json.dumps(
                {"acme": {"model": "cohere.rerank-v3-5:0", "top_n": 50}, "quiet": {"model": ""}}
            ),
        }
    )
    assistants = RerankChoice("amazon.rerank-v1:0", 7)

    assert retriever.rerank_for("acme", None) == RerankChoice("cohere.rerank-v3-5:0", 50)
    assert retriever.rerank_for("acme", assistants) == assistants
    assert retriever.rerank_for("quiet", None) is None
    assert retriever.rerank_for("quiet", assistants) == assistants
    assert retriever.rerank_for("other", None) == RerankChoice("amazon.rerank-v1:0", 20)


def test_a_brand_reranks_where_the_deployment_does_not() -> None:
    retriever = retriever_of({"RAG_RERANK_BY_BRAND": '{"acme": {"model": "amazon.rerank-v1:0"}}'})

    assert retriever.rerank_for("acme", None) == RerankChoice("amazon.rerank-v1:0", 30)
    assert retriever.rerank_for("other", None) is None


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '["acme"]',
        '{"acme": {"model": "cohere.rerank-v9"}}',
        '{"acme": {"model": "amazon.rerank-v1:0", "top_n": 0}}',
        '{"acme": {"model": "amazon.rerank-v1:0", "depth": 5}}',
    ],
)
def test_a_wrong_brand_rerank_setting_is_refused_by_name(value: str) -> None:
    with pytest.raises(ConfigurationError, match="RAG_RERANK_BY_BRAND"):
        settings_from({"RAG_RERANK_BY_BRAND": value})
