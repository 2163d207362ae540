"""The configured vector store."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from parley.config import ConfigurationError, Settings
from parley.providers.embedders import Embedder
from parley.rag.vectors import VectorStore

if TYPE_CHECKING:
    from parley.rag.opensearch_store import LiveKeys


def build_vector_store(
    config: Settings, embedder: Callable[[], Embedder], live_keys: LiveKeys | None = None
) -> VectorStore:
    """`embedder` is called only where the store needs it (OpenSearch names its index after it).
    `live_keys` (the document registry) guards searches where the cluster cannot wait for a
    refresh (OpenSearch Serverless)."""
    if config.rag_vector_store == "opensearch":
        from parley.rag.opensearch_index import opensearch_client
        from parley.rag.opensearch_store import OpenSearchVectorStore

        if not config.opensearch_url:
            raise ConfigurationError("RAG_VECTOR_STORE=opensearch needs OPENSEARCH_URL")
        region = os.environ.get("AWS_REGION", "us-east-1")
        model = embedder()
        index = f"{config.opensearch_index_prefix}-{model.name}".lower()
        return OpenSearchVectorStore(
            opensearch_client(config.opensearch_url, config.opensearch_service, region),
            index,
            model.dimension,
            config.opensearch_engine,
            lexical_weight=config.rag_lexical_weight,
            title_weight=config.rag_title_weight,
            fusion=config.rag_fusion,
            wait_for_refresh=config.opensearch_service != "aoss",  # Serverless has no refresh control
            live_keys=live_keys,
        )
    from parley.rag.local_store import LocalVectorStore

    return LocalVectorStore(
        config.rag_local_path, config.rag_fusion, config.rag_lexical_weight, config.rag_title_weight
    )
