"""Settings read from the environment, validated once per container by its composition root
(`parley.wiring`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from parley.endpoint_config import CompatibleEndpoint, parse_endpoints

RerankModel = Literal["", "amazon.rerank-v1:0", "cohere.rerank-v3-5:0"]


class BrandRerank(BaseModel):
    """One brand's reranking (RAG_RERANK_BY_BRAND): the Bedrock model ("" for none) and depth."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: RerankModel
    top_n: int = Field(30, ge=1, le=1000)


class Settings(BaseModel):
    """Every knob Parley reads. Field names are the environment variables, lower-cased; each
    description is the one docs/configuration.md shows (`make configuration`)."""

    model_config = ConfigDict(frozen=True)

    table_name: str = Field("parley", min_length=3, max_length=255, description="the DynamoDB table")
    max_message_bytes: int = Field(
        256 * 1024,
        ge=1,
        le=350 * 1024,
        description="largest `content` accepted, in UTF-8 bytes (larger is a 413)",
    )
    default_model: str | None = Field(
        None,
        description="model of a conversation created without one; unset: `gpt-4o-mini` if OpenAI is configured, else `claude-sonnet-4-6` if Anthropic is, else the first model of the first OpenAI-compatible endpoint (`make dev`: the local model), else `parley-offline`",
    )
    conversation_titles: bool = Field(
        True,
        description="title an untitled conversation after its first exchange (one short, metered model call and one UpdateItem)",
    )
    title_model: str | None = Field(
        None,
        description="model that titles an untitled conversation after its first exchange (metered); unset: the conversation's own",
    )
    history_max_messages: int = Field(
        200,
        ge=1,
        le=1000,
        description="most recent messages read as context (then trimmed to the model's window)",
    )
    history_strategy: Literal["summary", "window"] = Field(
        "summary",
        description="what becomes of the turns that no longer fit the prompt: `summary` folds them into the conversation's running summary (one extra, metered generation when they fall out), `window` leaves them out",
    )
    summary_model: str | None = Field(
        None,
        description="model that writes running summaries (metered); unset: the conversation's own",
    )

    openai_api_key: SecretStr | None = Field(
        None, description="OpenAI key (local use); in AWS use one of the next two"
    )
    openai_api_key_secret: str | None = Field(
        None,
        description='Secrets Manager secret holding the OpenAI key (bare, or `{"api_key": ...}`); cached 5 minutes',
    )
    openai_api_key_parameter: str | None = Field(
        None, description="SSM SecureString parameter holding the OpenAI key; cached 5 minutes"
    )
    openai_base_url: str | None = Field(
        None, description="any OpenAI-compatible server (vLLM, Ollama, a proxy); unset: OpenAI"
    )
    anthropic_api_key: SecretStr | None = Field(
        None, description="Anthropic key (local use); in AWS use one of the next two"
    )
    anthropic_api_key_secret: str | None = Field(
        None, description="Secrets Manager secret holding the Anthropic key"
    )
    anthropic_api_key_parameter: str | None = Field(
        None, description="SSM SecureString parameter holding the Anthropic key"
    )
    anthropic_base_url: str | None = Field(
        None, description="another Anthropic-compatible endpoint; unset: Anthropic"
    )
    bedrock_region: str | None = Field(
        None, description="region of the Bedrock runtime; unset: the function's"
    )
    bedrock_guardrail_id: str | None = Field(
        None, description="a Bedrock guardrail applied to every Bedrock call"
    )
    bedrock_guardrail_version: str = Field("DRAFT", description="the guardrail's version")
    openai_compatible_endpoints: tuple[CompatibleEndpoint, ...] = Field(
        (),
        description='JSON list of OpenAI-compatible servers, `[{"name", "base_url", "api_key" or "api_key_secret_arn", "models": [{"id", "context_window", "max_output", "input_per_mtok", "output_per_mtok", "tools", "json_schema"}]}]`; their models are `<name>/<id>` (docs/models.md)',
    )
    guardrail_id: str | None = Field(
        None,
        description="a Bedrock guardrail (id or ARN) applied with ApplyGuardrail to the input and output of every provider",
    )
    guardrail_version: str = Field("DRAFT", description="the version of GUARDRAIL_ID")
    guardrail_on_error: Literal["block", "allow"] = Field(
        "block",
        description="when ApplyGuardrail fails or times out: `block` refuses the turn (503), `allow` lets it through unchecked (logged)",
    )
    guardrail_stream_window_chars: int = Field(
        400,
        ge=50,
        le=10_000,
        description="a streamed answer is checked each time this many characters have come (and at its end)",
    )
    guardrail_timeout_seconds: float = Field(
        5, gt=0, le=15, description="deadline of one ApplyGuardrail call (then GUARDRAIL_ON_ERROR applies)"
    )
    provider_timeout_seconds: float = Field(
        20,
        gt=0,
        le=25,
        description="deadline of a whole provider call, SDK retries included (below the function's 28 s timeout and API Gateway's 29 s)",
    )
    provider_max_retries: int = Field(
        2,
        ge=0,
        le=5,
        description="retries the provider SDK makes on 429/5xx/529 and connection errors (Parley adds none)",
    )
    stream_timeout_seconds: float = Field(
        240,
        gt=0,
        le=880,
        description="deadline of a streamed answer (below the streaming functions' 900 s timeout)",
    )
    offline_stream_delay_ms: int = Field(
        0,
        ge=0,
        le=5000,
        description="pause before each piece the offline model streams (0: none), to watch a stream grow",
    )
    mcp_allow_hosts: str = Field(
        "",
        description="hosts (`host` or `host:port`, comma-separated) an MCP server may be on though not public, over http too: for `make dev` and tests only",
    )
    secrets_kms_key_id: str | None = Field(
        None,
        description="the KMS key (id, ARN or alias) that seals credentials kept at rest: an assistant's MCP servers' (set by template.yaml)",
    )
    local_secrets_key_file: str | None = Field(
        None,
        description="without a KMS key: a local key file sealing them instead (`make dev`: under .local/); neither: credentials are not stored",
    )
    mcp_max_steps: int = Field(
        8, ge=1, le=32, description="rounds of tool calls one answer may make before it must answer"
    )
    mcp_call_timeout_seconds: float = Field(
        15, gt=0, le=120, description="deadline of one MCP tool call (within the answer's own deadline)"
    )
    mcp_max_output_bytes: int = Field(
        32_768,
        ge=1_024,
        le=1_048_576,
        description="of a tool's output, what the model reads (the rest is cut, with a marker saying so)",
    )
    mcp_tools_cache_seconds: float = Field(
        60,
        ge=0,
        le=3600,
        description="how long a server's tool list is reused (per server and credentials, never across users); 0: listed on every request",
    )
    mcp_max_servers: int = Field(5, ge=1, le=20, description="MCP servers one request or assistant may name")
    mcp_max_tools: int = Field(
        64, ge=1, le=128, description="tools all of a request's MCP servers may offer the model together"
    )
    workflow_timeout_seconds: float = Field(
        25,
        gt=0,
        le=26,
        description="deadline of all the steps of a workflow together (each step also within the provider deadline)",
    )

    rag_embedder: Literal["hashing", "openai", "minilm", "titan"] = Field(
        "hashing",
        description="`minilm` (all-MiniLM-L6-v2 on ONNX Runtime, else numpy; `make dev`), `openai` (AWS), `titan` (Bedrock, no key) or `hashing` (unit tests)",
    )
    rag_titan_dimensions: int = Field(
        1024,
        ge=256,
        le=1024,
        multiple_of=256,
        description="Titan Text Embeddings V2 dimension: 256, 512 or 1024",
    )
    rag_hashing_dimension: int = Field(384, ge=16, le=4096, description="vector size of the hashing embedder")
    rag_openai_embedding_model: str = Field("text-embedding-3-small", description="OpenAI embedding model")
    rag_fusion: Literal["weighted", "rrf"] = Field(
        "weighted", description="how the dense and BM25 halves of a search are fused: `weighted` or `rrf`"
    )
    rag_lexical_weight: float = Field(0.3, ge=0, le=1, description="the BM25 share of a weighted fusion")
    rag_title_weight: float = Field(
        0.5,
        ge=0,
        le=4,
        description="BM25's weight of a word in a chunk's title, a content word's being 1 (0: titles are not searched by words)",
    )
    rag_feedback_documents: int = Field(
        0,
        ge=0,
        le=20,
        description="pseudo-relevance feedback: the top results of a first search whose shared words are added to the lexical half of a second (0, the default: one search; `make eval` shows why)",
    )
    rag_feedback_terms: int = Field(10, ge=1, le=50, description="words feedback adds at most")
    rag_feedback_weight: float = Field(
        0.3, gt=0, lt=1, description="the added words' share of the lexical query (RM3's 1 - lambda)"
    )
    rag_rerank_model: RerankModel = Field(
        "",
        description="rerank the fused top results with Amazon Bedrock's Rerank and this model (metered per 100 documents); empty: no reranking unless an assistant names a model",
    )
    rag_rerank_top_n: int = Field(30, ge=1, le=1000, description="fused results handed to the reranker")
    rag_rerank_by_brand: dict[str, BrandRerank] = Field(
        default_factory=dict,
        description='JSON object, a brand\'s own reranking over RAG_RERANK_MODEL\'s: `{"<brand>": {"model", "top_n"}}`, `"model": ""` turning it off for that brand; an assistant\'s `rerank` still comes first',
    )
    rag_rerank_region: str | None = Field(
        None,
        description="region of Bedrock's Rerank (Amazon Rerank 1.0: us-west-2, ca-central-1, eu-central-1, ap-northeast-1; Cohere Rerank 3.5 also us-east-1); unset: BEDROCK_REGION, else the function's",
    )
    rag_rerank_timeout_seconds: float = Field(
        2,
        gt=0,
        le=10,
        description="deadline of one Rerank call; past it (or on any failure) the fused order stands",
    )
    rag_chunk_tokens: int = Field(300, ge=20, le=4000, description="chunk size, in estimated tokens")
    rag_chunk_overlap_tokens: int = Field(
        50, ge=0, le=1000, description="overlap of consecutive chunks, in estimated tokens"
    )
    rag_vector_store: Literal["local", "opensearch", "s3vectors"] = Field(
        "local",
        description="`local` (SQLite: exact dense search beside FTS5), `opensearch`, or `s3vectors` (Amazon S3 Vectors beside each brand's FTS5 file in FILES_BUCKET)",
    )
    s3vectors_bucket: str | None = Field(
        None, description="the S3 Vectors vector bucket (RAG_VECTOR_STORE=s3vectors)"
    )
    s3vectors_index_prefix: str = Field(
        "parley-chunks", description="S3 Vectors index name prefix (the embedder's name is appended)"
    )
    rag_lexicon_prefix: str = Field(
        "lexicons/", description="where in FILES_BUCKET the s3vectors store keeps each brand's word index"
    )
    rag_local_path: str = Field(".local/vectors.sqlite3", description="the local store's file")
    opensearch_url: str | None = Field(None, description="OpenSearch endpoint (AWS: the collection's)")
    opensearch_service: Literal["es", "aoss", "none"] = Field(
        "aoss",
        description="SigV4 service: `aoss` (Serverless), `es` (managed domains), or `none` for a plain URL",
    )
    opensearch_index_prefix: str = Field(
        "parley-chunks", description="index name prefix (the embedder's name and dimension are appended)"
    )
    opensearch_engine: Literal["lucene", "faiss"] = Field(
        "lucene",
        description="k-NN engine: `lucene`, or `faiss` (cosine needs k-NN 2.19 or later: not Serverless, which runs 2.17)",
    )
    ingest_deadline_seconds: float = Field(
        20,
        gt=0,
        le=26,
        description="how long a synchronous POST /v1/ai/documents may embed (below the function's 28 s timeout): a batch that would take longer is a 413 batch_too_large, before anything is stored",
    )
    files_bucket: str | None = Field(
        None, description="the private bucket uploaded files go to (locally moto's)"
    )
    files_queue_url: str | None = Field(
        None, description="the files queue, where POST /v1/ai/sync queues its checks (locally moto's)"
    )
    files_max_receives: int = Field(
        5,
        ge=1,
        le=1000,
        description="the upload queue's maxReceiveCount: on its last delivery an upload that cannot be embedded or stored ends `failed` with the reason (earlier ones are retried)",
    )

    conversation_retention_days: int = Field(
        0,
        ge=0,
        le=36500,
        description="days without writes after which the cleanup deletes a conversation (0: never)",
    )
    cleanup_stop_margin_seconds: float = Field(
        10, ge=1, le=120, description="how long before its timeout the cleanup stops (the next run resumes)"
    )

    responses_background_function: str = Field(
        "",
        description="the function that runs `background: true` responses (empty: background is refused)",
    )
    stream_log_ttl_seconds: int = Field(
        24 * 3600,
        ge=600,
        le=7 * 24 * 3600,
        description="how long a streamed answer's events are kept for a client to re-attach (DynamoDB TTL)",
    )
    stream_heartbeat_seconds: float = Field(
        15,
        ge=1,
        le=240,
        description="an idle stream gets a comment this often (API Gateway closes one idle 5 minutes)",
    )

    idempotency_ttl_seconds: int = Field(
        24 * 3600,
        ge=60,
        le=7 * 24 * 3600,
        description="how long an `Idempotency-Key` is remembered (its first response is replayed until then)",
    )

    quota_user_daily_tokens: int = Field(
        200_000,
        ge=0,
        description="daily token budget of one user in a brand, prompt + completion, UTC days (0: no limit; a brand may override it)",
    )
    quota_brand_daily_tokens: int = Field(
        5_000_000,
        ge=0,
        description="daily token budget of a whole brand (0: no limit; a brand may override it)",
    )
    quota_cache_seconds: float = Field(
        60,
        ge=0,
        le=3600,
        description="how long a container trusts the brand overrides it read: a changed budget applies after this",
    )
    usage_retention_days: int = Field(
        400, ge=1, le=3650, description="how long a brand's daily usage (the usage report) is kept"
    )

    usage_key_prefix: str | None = Field(
        None,
        description="the authorizer names `<prefix>-brand-<brand>` or `<prefix>-default` as the usage-plan key; unset: no usage plans",
    )
    usage_plan_brands: str = Field("", description="comma-separated brands with usage plans of their own")

    cors_allowed_origins: str = Field(
        "",
        description="comma-separated browser origins allowed to call with credentials (the session cookie)",
    )

    clock_offset_seconds: float = Field(
        0, description="shifts the functions' clock (tests and demos run at a chosen moment); 0 in AWS"
    )
    clock_frozen_at: datetime | None = Field(
        None,
        description="stops the functions' clock at this ISO 8601 instant, for tests that assert on the time of day; unset in AWS (ids keep their own clock)",
    )

    jwt_issuer: str = Field("parley-local", description="required `iss` of tokens")
    jwt_audience: str = Field("parley", description="required `aud` of tokens")
    jwt_jwks_url: str | None = Field(
        None, description="JWKS of your identity provider (Cognito, any OIDC issuer): RS256/ES256 tokens"
    )
    jwt_hs256_secret: str | None = Field(
        None, description="HS256 secret, for local development only; unset in AWS, so HS256 is refused"
    )
    jwt_leeway_seconds: int = Field(30, ge=0, le=300, description="clock skew allowed on `exp`/`nbf`")
    jwt_jwks_lifespan_seconds: float = Field(
        600,
        ge=1,
        le=86400,
        description="how long JWKS keys are trusted before they are fetched again (a revoked key stops working within it)",
    )
    jwt_jwks_refetch_cooldown_seconds: float = Field(
        30,
        ge=0,
        le=3600,
        description="how often a token naming an unknown `kid` may make a re-fetch (key rotation)",
    )
    jwt_cognito_client_ids: str = Field(
        "",
        description="Cognito app client ids whose access tokens (`token_use: access`, `client_id`, no `aud`) are accepted; empty: only tokens with `aud`",
    )
    jwt_scope_prefix: str = Field(
        "", description="stripped from each scope (Cognito names custom scopes `<resource server>/<scope>`)"
    )

    @field_validator("rag_rerank_by_brand", mode="before")
    @classmethod
    def _brand_reranks(cls, value: object) -> object:
        if isinstance(value, str):
            value = json.loads(value) if value.strip() else {}
        if not isinstance(value, dict):
            raise ValueError("a JSON object of brand ids")
        return value

    @field_validator("openai_compatible_endpoints", mode="before")
    @classmethod
    def _endpoints(cls, value: object) -> tuple[CompatibleEndpoint, ...]:
        return parse_endpoints(value)

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


def settings_from(environ: Mapping[str, str]) -> Settings:
    """The validated settings of an environment (unset and empty variables take the defaults)."""
    values = {
        name: environ[name.upper()] for name in Settings.model_fields if environ.get(name.upper(), "") != ""
    }
    try:
        settings = Settings.model_validate(values)
    except ValidationError as error:
        # Each problem by the setting it is in, never with the value (it may hold a key).
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']).upper()}: {problem['msg']}"
            for problem in error.errors(include_input=False, include_url=False)
        )
        raise ConfigurationError(f"invalid environment: {problems}") from None
    if environ.get("AWS_LAMBDA_FUNCTION_NAME") and any(
        e.api_key for e in settings.openai_compatible_endpoints
    ):
        raise ConfigurationError(
            "invalid environment: in AWS an endpoint's key comes from api_key_secret_arn (Secrets Manager or SSM), never plain api_key"
        )
    return settings
