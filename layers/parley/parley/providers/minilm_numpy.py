"""all-MiniLM-L6-v2's encoder in plain numpy: the engine where ONNX Runtime is not installed, and
the reference the ONNX graph is checked against. Six BERT layers (12 heads, hidden size 384, exact
GELU); every dense step is one 2-D matrix product over the batch's tokens."""

from __future__ import annotations

import math
from typing import Any

HEADS = 12
EPSILON = 1e-12


class NumpyEncoder:
    """The last hidden states (batch, length, hidden) of token ids, from the safetensors weights."""

    name = "numpy"

    def __init__(self, weights: dict[str, Any], layers: int) -> None:
        import numpy

        self._np: Any = numpy
        self._embeddings = (
            weights["embeddings.word_embeddings.weight"],
            weights["embeddings.position_embeddings.weight"],
            weights["embeddings.token_type_embeddings.weight"],
            _Norm.of(weights, "embeddings.LayerNorm"),
        )
        self._layers = [_Layer.of(numpy, weights, f"encoder.layer.{n}") for n in range(layers)]

    def __call__(self, ids: Any, types: Any, mask: Any) -> Any:
        np = self._np
        batch, length = ids.shape
        words, positions, token_types, norm = self._embeddings
        x = words[ids] + positions[:length][None, :, :] + token_types[types]
        x = norm(np, x.reshape(batch * length, -1))
        blocked = ((1.0 - mask.astype(np.float32)) * np.float32(-1e9))[:, None, None, :]  # padding
        for layer in self._layers:
            x = layer(np, x, blocked, batch, length)
        return x.reshape(batch, length, -1)


class _Norm:
    def __init__(self, weight: Any, bias: Any) -> None:
        self.weight, self.bias = weight, bias

    @classmethod
    def of(cls, weights: dict[str, Any], prefix: str) -> _Norm:
        return cls(weights[f"{prefix}.weight"], weights[f"{prefix}.bias"])

    def __call__(self, np: Any, x: Any) -> Any:
        """LayerNorm over the last axis, in place on `x` (which the caller no longer needs)."""
        x -= x.mean(axis=-1, keepdims=True)
        variance = np.square(x).mean(axis=-1, keepdims=True)
        variance += np.float32(EPSILON)
        x /= np.sqrt(variance)
        x *= self.weight
        x += self.bias
        return x


class _Layer:
    """One encoder layer, its weights laid out once for the products: query, key and value in one
    (hidden x 3 hidden) matrix, every matrix transposed and contiguous."""

    def __init__(self, qkv: Any, qkv_bias: Any, dense: tuple[Any, ...], norms: tuple[_Norm, _Norm]) -> None:
        self.qkv, self.qkv_bias = qkv, qkv_bias
        self.attention_out, self.attention_out_bias, self.inner, self.inner_bias, self.out, self.out_bias = (
            dense
        )
        self.attention_norm, self.output_norm = norms

    @classmethod
    def of(cls, np: Any, weights: dict[str, Any], prefix: str) -> _Layer:
        def t(name: str) -> Any:
            return np.ascontiguousarray(weights[f"{prefix}.{name}.weight"].T)

        self_attention = f"{prefix}.attention.self"
        qkv = np.ascontiguousarray(
            np.concatenate([weights[f"{self_attention}.{n}.weight"] for n in ("query", "key", "value")]).T
        )
        qkv_bias = np.concatenate([weights[f"{self_attention}.{n}.bias"] for n in ("query", "key", "value")])
        dense = (
            t("attention.output.dense"),
            weights[f"{prefix}.attention.output.dense.bias"],
            t("intermediate.dense"),
            weights[f"{prefix}.intermediate.dense.bias"],
            t("output.dense"),
            weights[f"{prefix}.output.dense.bias"],
        )
        norms = (
            _Norm.of(weights, f"{prefix}.attention.output.LayerNorm"),
            _Norm.of(weights, f"{prefix}.output.LayerNorm"),
        )
        return cls(qkv, qkv_bias, dense, norms)

    def __call__(self, np: Any, x: Any, blocked: Any, batch: int, length: int) -> Any:
        hidden = x.shape[1]
        size = hidden // HEADS
        projected = x @ self.qkv
        projected += self.qkv_bias
        # (3, batch, heads, length, size), each head's matrices contiguous for the batched products
        query, key, value = np.ascontiguousarray(
            projected.reshape(batch, length, 3, HEADS, size).transpose(2, 0, 3, 1, 4)
        )
        query *= np.float32(1.0 / math.sqrt(size))
        context = np.empty((batch, length, HEADS, size), dtype=np.float32)
        for n in range(batch):  # one text's attention at a time: its scores stay in cache
            scores = query[n] @ key[n].transpose(0, 2, 1)
            scores += blocked[n]
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context[n] = (scores @ value[n]).transpose(1, 0, 2)
        context = context.reshape(batch * length, hidden)
        attended = context @ self.attention_out
        attended += self.attention_out_bias
        attended += x
        x = self.attention_norm(np, attended)
        inner = x @ self.inner
        inner += self.inner_bias
        _gelu(np, inner)
        out = inner @ self.out
        out += self.out_bias
        out += x
        return self.output_norm(np, out)


def _gelu(np: Any, x: Any) -> None:
    """BERT's exact GELU, x·Φ(x), in place, with erf from Abramowitz and Stegun 7.1.26 (error
    < 1.5e-7). With q = (1 - erf(|x|/√2)) / 2, GELU(x) = max(x, 0) - |x|·q for either sign.
    Done a block of rows at a time, so its temporaries stay in the processor's cache (the
    whole array at once is bound by memory, and cost more than the matrix products)."""
    rows = max(1, _GELU_BLOCK // x.shape[1])
    for start in range(0, x.shape[0], rows):
        block = x[start : start + rows]
        a = np.abs(block)
        t = a * np.float32(0.3275911 / math.sqrt(2.0))
        t += np.float32(1.0)
        np.reciprocal(t, out=t)
        q = t * np.float32(0.5 * 1.061405429)
        for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
            q += np.float32(0.5 * coefficient)
            q *= t
        np.square(a, out=t)
        t *= np.float32(-0.5)
        np.maximum(t, np.float32(-80.0), out=t)  # exp(-80) is still a normal float32
        np.exp(t, out=t)
        q *= t
        q *= a
        np.maximum(block, np.float32(0.0), out=block)
        block -= q


_GELU_BLOCK = 1 << 16  # elements per block
