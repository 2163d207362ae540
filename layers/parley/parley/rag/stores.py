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
    if config.rag_vector_store == "s3vectors":
        return s3vectors_store(config, embedder())
    from parley.rag.local_store import LocalVectorStore

    return LocalVectorStore(
        config.rag_local_path, config.rag_fusion, config.rag_lexical_weight, config.rag_title_weight
    )


def s3vectors_store(config: Settings, model: Embedder) -> VectorStore:
    """Vectors in S3 Vectors (an index per embedder), words in each brand's lexicon in FILES_BUCKET."""
    import boto3
    from botocore.config import Config

    from parley.rag.lexicon_objects import LexiconObjects
    from parley.rag.s3vectors_store import S3VectorsStore

    if not config.s3vectors_bucket or not config.files_bucket:
        raise ConfigurationError("RAG_VECTOR_STORE=s3vectors needs S3VECTORS_BUCKET and FILES_BUCKET")
    retries = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10)
    index = f"{config.s3vectors_index_prefix}-{model.name}".lower().replace("_", "-")
    return S3VectorsStore(
        boto3.client("s3vectors", config=retries),
        config.s3vectors_bucket,
        index,
        model.dimension,
        LexiconObjects(boto3.client("s3", config=retries), config.files_bucket, config.rag_lexicon_prefix),
        fusion=config.rag_fusion,
        lexical_weight=config.rag_lexical_weight,
        title_weight=config.rag_title_weight,
    )
