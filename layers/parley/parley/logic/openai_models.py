"""GET /v1/models and POST /v1/embeddings of the OpenAI-compatible surface: the models this
deployment can serve (the registry's models whose provider is configured, the embedder, and each
assistant of the caller's brands as `assistant:<id>`), and embeddings from the deployment's
embedder in OpenAI's shape."""

from __future__ import annotations

import base64
import os
import struct
from datetime import UTC, datetime

from parley.auth.principal import AI_CHAT, Principal
from parley.config import Settings
from parley.errors import AssistantNotFound, BatchTooLarge, InputsTooLarge, InvalidRequest, ModelNotFound
from parley.logic.catalog import find_assistant
from parley.logic.embedding import Deadline, embed_within
from parley.logic.generation import Generator
from parley.logic.openai_chat import ASSISTANT_PREFIX, metered_brand
from parley.models.api.openai import (
    Embedding,
    EmbeddingList,
    EmbeddingRequest,
    EmbeddingUsage,
    ModelCard,
    ModelList,
)
from parley.models.domain import TokenUsage
from parley.providers.credentials import is_configured
from parley.providers.embedders import Embedder, embedder_name
from parley.providers.registry import ModelSpec, known_models
from parley.store.catalog import CatalogStore
from parley.tokens import estimate_tokens

# The registry's models have no creation time of their own: they are listed as of Parley 1.0.
REGISTRY_CREATED = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
# Names the deployment's embedder whatever it is (minilm-l6-v2 locally, OpenAI's or Titan in AWS).
EMBEDDING_ALIAS = "parley-embedding"
OWNERS = {"offline": "parley", "openai": "openai", "anthropic": "anthropic", "bedrock": "amazon-bedrock"}


def servable(spec: ModelSpec, config: Settings) -> bool:
    """Whether this deployment can answer with the model: offline always, OpenAI and Anthropic
    with a key configured, Bedrock inside Lambda (its execution role) or at a configured endpoint,
    an OpenAI-compatible endpoint's models as it lists them."""
    provider = spec.provider
    if provider in ("offline", "endpoint"):
        return True
    if provider == "bedrock":
        return os.environ.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda") or bool(
            os.environ.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
        )
    return provider in ("openai", "anthropic") and is_configured(config, provider)


def list_models(principal: Principal, *, store: CatalogStore, config: Settings) -> ModelList:
    principal.require(AI_CHAT)
    cards = [
        ModelCard(id=spec.id, created=REGISTRY_CREATED, owned_by=_owner(spec))
        for spec in known_models(config).values()
        if servable(spec, config)
    ]
    cards.append(ModelCard(id=embedder_name(config), created=REGISTRY_CREATED, owned_by="parley"))
    for brand_id in sorted(principal.brands):
        for assistant_id, created_at, name in store.brand_assistants(brand_id):
            cards.append(
                ModelCard(
                    id=f"{ASSISTANT_PREFIX}{assistant_id}",
                    created=_seconds(created_at),
                    owned_by=brand_id,
                    name=name,
                )
            )
    return ModelList(data=cards)


def get_model(principal: Principal, model_id: str, *, store: CatalogStore, config: Settings) -> ModelCard:
    principal.require(AI_CHAT)
    if model_id.startswith(ASSISTANT_PREFIX):
        try:
            assistant = find_assistant(principal, model_id.removeprefix(ASSISTANT_PREFIX), store=store)
        except AssistantNotFound as missing:
            raise ModelNotFound(model_id) from missing
        created = _seconds(assistant.created_at)
        return ModelCard(id=model_id, created=created, owned_by=assistant.brand_id, name=assistant.name)
    if model_id == embedder_name(config):
        return ModelCard(id=model_id, created=REGISTRY_CREATED, owned_by="parley")
    spec = known_models(config).get(model_id)
    if spec is None or not servable(spec, config):
        raise ModelNotFound(model_id)
    return ModelCard(id=spec.id, created=REGISTRY_CREATED, owned_by=_owner(spec))


def _owner(spec: ModelSpec) -> str:
    return spec.endpoint or OWNERS[spec.provider]


def embeddings(
    principal: Principal,
    request: EmbeddingRequest,
    brand_header: str | None = None,
    *,
    model: Embedder,
    generator: Generator,
    config: Settings,
) -> EmbeddingList:
    """Vectors of the deployment's embedder (the one RAG uses; its name, or `parley-embedding`
    whatever it is), as floats or as base64 of little-endian float32, OpenAI's two encodings.
    Metered in the brand (the X-Parley-Brand header's, else the token's one brand) and counted in
    its budgets, as a generation is; inputs that would not be embedded before the deadline are a
    413 before any is."""
    principal.require(AI_CHAT)
    brand_id = metered_brand(principal, brand_header)
    if request.model not in (model.name, EMBEDDING_ALIAS):
        raise ModelNotFound(request.model)
    if request.dimensions is not None and request.dimensions != model.dimension:
        raise InvalidRequest(
            f"{model.name} embeds in {model.dimension} dimensions; 'dimensions' cannot change that.",
            param="dimensions",
        )
    texts = [request.input] if isinstance(request.input, str) else request.input
    if empty := [n for n, text in enumerate(texts) if not text]:
        raise InvalidRequest("An input to embed is empty.", param=f"input[{empty[0]}]")
    generation = generator.open(brand_id, principal)  # before anything is spent
    try:
        vectors = embed_within(texts, model, Deadline(config.ingest_deadline_seconds))
    except BatchTooLarge as refusal:
        raise InputsTooLarge(len(texts), refusal.fits, config.ingest_deadline_seconds) from None
    tokens = sum(estimate_tokens(text) for text in texts)
    generation.meter.add(
        model.name,
        TokenUsage(prompt_tokens=tokens, completion_tokens=0, total_tokens=tokens),
        tokens * getattr(model, "input_per_million", 0.0) / 1_000_000,
    )
    generation.settle_alone()
    data = [
        Embedding(index=n, embedding=_base64(vector) if request.encoding_format == "base64" else vector)
        for n, vector in enumerate(vectors)
    ]
    return EmbeddingList(
        data=data, model=model.name, usage=EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens)
    )


def _base64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def _seconds(created_at: str) -> int:
    return int(datetime.fromisoformat(created_at).timestamp())
