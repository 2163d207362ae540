"""Settings read from the environment, validated once per cold start (`settings()` is cached)."""

from __future__ import annotations

import functools
import os
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError


class Settings(BaseModel):
    """Every knob Parley reads. Field names are the environment variables, lower-cased."""

    model_config = ConfigDict(frozen=True)

    table_name: str = Field("parley", min_length=3, max_length=255)
    max_message_bytes: int = Field(256 * 1024, ge=1, le=350 * 1024)
    default_model: str | None = None  # unset: the first configured provider's, else parley-offline
    history_max_messages: int = Field(200, ge=1, le=1000)

    # A provider's API key comes from the environment (local), Secrets Manager or SSM.
    openai_api_key: SecretStr | None = None
    openai_api_key_secret: str | None = None
    openai_api_key_parameter: str | None = None
    openai_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    anthropic_api_key_secret: str | None = None
    anthropic_api_key_parameter: str | None = None
    anthropic_base_url: str | None = None
    # Amazon Bedrock: the region of its runtime endpoint (unset: the function's), and an optional
    # guardrail applied to every Bedrock call.
    bedrock_region: str | None = None
    bedrock_guardrail_id: str | None = None
    bedrock_guardrail_version: str = "DRAFT"
    # The whole provider call, retries included, ends within this; below the function's timeout.
    provider_timeout_seconds: float = Field(20, gt=0, le=25)
    provider_max_retries: int = Field(2, ge=0, le=5)
    # A streamed answer is not bound by API Gateway's 29 s: it ends within this (below the
    # streaming functions' timeout).
    stream_timeout_seconds: float = Field(240, gt=0, le=880)
    # The offline provider's pause before each streamed piece (0: none), to watch a stream grow.
    offline_stream_delay_ms: int = Field(0, ge=0, le=5000)
    # All the steps of a workflow end within this (each step also within the provider deadline).
    workflow_timeout_seconds: float = Field(25, gt=0, le=26)

    # RAG: how documents are split and embedded, and where their vectors live.
    # minilm: all-MiniLM-L6-v2 run locally (make dev); openai in AWS; hashing: fast, for unit tests.
    # titan: Amazon Titan Text Embeddings V2 on Bedrock, an AWS choice that needs no API key.
    rag_embedder: Literal["hashing", "openai", "minilm", "titan"] = "hashing"
    rag_titan_dimensions: int = Field(1024, ge=256, le=1024, multiple_of=256)  # 256, 512 or 1024
    rag_hashing_dimension: int = Field(384, ge=16, le=4096)
    rag_openai_embedding_model: str = "text-embedding-3-small"
    # Hybrid retrieval: how the dense and lexical (BM25) halves are fused, and the lexical weight.
    rag_fusion: Literal["weighted", "rrf"] = "weighted"
    rag_lexical_weight: float = Field(0.3, ge=0, le=1)
    rag_chunk_tokens: int = Field(300, ge=20, le=4000)
    rag_chunk_overlap_tokens: int = Field(50, ge=0, le=1000)
    rag_vector_store: Literal["local", "opensearch"] = "local"
    rag_local_path: str = ".local/vectors.sqlite3"
    opensearch_url: str | None = None
    opensearch_service: Literal["es", "aoss", "none"] = "aoss"  # SigV4 service; "none" for a plain URL
    opensearch_index_prefix: str = "parley-chunks"
    opensearch_engine: Literal["lucene", "faiss"] = "lucene"
    # Uploaded files (POST /v1/ai/files): the private bucket they are uploaded to.
    files_bucket: str | None = None

    # Conversations untouched this many days are deleted by the cleanup job (0: kept forever).
    conversation_retention_days: int = Field(0, ge=0, le=36500)
    # The cleanup job stops this long before its function's timeout and resumes on its next run.
    cleanup_stop_margin_seconds: float = Field(10, ge=1, le=120)

    # How long a POST's Idempotency-Key is remembered (its first response is replayed until then).
    idempotency_ttl_seconds: int = Field(24 * 3600, ge=60, le=7 * 24 * 3600)

    # Daily token budgets (prompt + completion, UTC days; 0: no limit); a brand may override both.
    quota_user_daily_tokens: int = Field(200_000, ge=0)
    quota_brand_daily_tokens: int = Field(5_000_000, ge=0)
    # How long a container trusts the brand overrides it read (a changed budget applies after this).
    quota_cache_seconds: float = Field(60, ge=0, le=3600)
    # How long a brand's daily usage (the usage report) is kept.
    usage_retention_days: int = Field(400, ge=1, le=3650)

    # Usage plans: the authorizer names the API key API Gateway meters the caller's brand on,
    # `<prefix>-brand-<brand>` for a brand with a plan of its own, else `<prefix>-default`.
    usage_key_prefix: str | None = None  # unset: no usage plans (the API requires no key)
    usage_plan_brands: str = ""  # comma-separated

    # Browser origins allowed to call with credentials (the session cookie), comma-separated.
    cors_allowed_origins: str = ""

    # Shifts the functions' clock (tests and demos run at a chosen moment); 0 in AWS.
    clock_offset_seconds: float = 0
    # Stops the functions' clock at this instant (ISO 8601), for tests that assert on the time of
    # day (a Retry-After, a usage day); unset in AWS. Ids keep their own clock.
    clock_frozen_at: datetime | None = None

    jwt_issuer: str = "parley-local"
    jwt_audience: str = "parley"
    jwt_jwks_url: str | None = None
    jwt_hs256_secret: str | None = None
    jwt_leeway_seconds: int = Field(30, ge=0, le=300)
    # JWKS keys are trusted this long, then fetched again (a revoked key stops working within it);
    # a token naming an unknown key makes one re-fetch at most this often.
    jwt_jwks_lifespan_seconds: float = Field(600, ge=1, le=86400)
    jwt_jwks_refetch_cooldown_seconds: float = Field(30, ge=0, le=3600)
    # Cognito access tokens carry `client_id` and `token_use: access` instead of `aud`: they are
    # accepted for these app client ids (comma-separated; empty: only tokens with `aud`).
    jwt_cognito_client_ids: str = ""
    # Stripped from each scope of a token (Cognito names custom scopes `<resource server>/<scope>`).
    jwt_scope_prefix: str = ""

    @property
    def brands_with_usage_plans(self) -> frozenset[str]:
        return frozenset(b.strip() for b in self.usage_plan_brands.split(",") if b.strip())

    @property
    def cognito_client_ids(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.jwt_cognito_client_ids.split(",") if c.strip())

    @property
    def allowed_origins(self) -> frozenset[str]:
        return frozenset(o.strip().rstrip("/") for o in self.cors_allowed_origins.split(",") if o.strip())


class ConfigurationError(RuntimeError):
    """The function's environment is wrong: a deployment mistake, never a client's."""


@functools.cache
def settings() -> Settings:
    """The validated settings of this process; read on first use, not at import time."""
    values = {
        name: os.environ[name.upper()]
        for name in Settings.model_fields
        if os.environ.get(name.upper(), "") != ""
    }
    try:
        return Settings.model_validate(values)
    except ValidationError as error:
        raise ConfigurationError(f"invalid environment: {error}") from error
