"""all-MiniLM-L6-v2's encoder on ONNX Runtime: a graph built in memory from the packaged
safetensors weights when the model loads (nothing exported, nothing downloaded), run on the CPU.

The graph uses ONNX Runtime's fused transformer operators (the `com.microsoft` domain, which its
CPU provider implements): `EmbedLayerNormalization` (word, position and token-type embeddings
summed and normalised), per layer `Attention` (query, key and value in one product, 12 heads,
padding masked), `SkipLayerNormalization` (bias, residual and LayerNorm in one pass) and
`BiasGelu` (BERT's exact GELU). It computes what `minilm_numpy` computes, the same layers in the
same order; the tests hold both to sentence-transformers' own vectors."""

from __future__ import annotations

from typing import Any

from parley.providers.minilm_numpy import EPSILON, HEADS

_MICROSOFT = "com.microsoft"
# The ONNX format revision ONNX Runtime 1.20 and later read (the `onnx` package writes a newer
# one by default, which the runtime refuses), and the standard operator set the graph needs.
_IR_VERSION = 9
_OPSET = 17


def onnx_graph(weights: dict[str, Any], layers: int) -> bytes:
    """The serialised model: inputs `input_ids`, `token_type_ids`, `attention_mask` (int32,
    batch x length), output `hidden` (float32, batch x length x hidden)."""
    import numpy
    from onnx import TensorProto, helper, numpy_helper

    initializers: list[Any] = []
    nodes: list[Any] = []

    def weight(name: str, value: Any) -> str:
        array = numpy.ascontiguousarray(value, dtype=numpy.float32)
        initializers.append(numpy_helper.from_array(array, name))
        return name

    def node(operator: str, inputs: list[str], output: str, **attributes: Any) -> str:
        domain = "" if operator == "MatMul" else _MICROSOFT
        nodes.append(helper.make_node(operator, inputs, [output], domain=domain, **attributes))
        return output

    def norm(prefix: str, name: str) -> list[str]:
        return [
            weight(f"{name}.gamma", weights[f"{prefix}.weight"]),
            weight(f"{name}.beta", weights[f"{prefix}.bias"]),
        ]

    def transposed(prefix: str, name: str) -> str:
        return weight(name, weights[f"{prefix}.weight"].T)

    embedding = [
        weight("word", weights["embeddings.word_embeddings.weight"]),
        weight("position", weights["embeddings.position_embeddings.weight"]),
        weight("token_type", weights["embeddings.token_type_embeddings.weight"]),
    ]
    nodes.append(
        helper.make_node(
            "EmbedLayerNormalization",
            ["input_ids", "token_type_ids", *embedding, *norm("embeddings.LayerNorm", "embedded")],
            ["embedded", "mask_index"],
            domain=_MICROSOFT,
            epsilon=EPSILON,
        )
    )
    x = "embedded"
    for n in range(layers):
        prefix = f"encoder.layer.{n}"
        self_attention = f"{prefix}.attention.self"
        parts = ("query", "key", "value")
        qkv = weight(
            f"qkv.{n}", numpy.concatenate([weights[f"{self_attention}.{p}.weight"] for p in parts]).T
        )
        qkv_bias = weight(
            f"qkv_bias.{n}", numpy.concatenate([weights[f"{self_attention}.{p}.bias"] for p in parts])
        )
        attended = node("Attention", [x, qkv, qkv_bias, "attention_mask"], f"attended.{n}", num_heads=HEADS)
        projected = node(
            "MatMul",
            [attended, transposed(f"{prefix}.attention.output.dense", f"attention_out.{n}")],
            f"projected.{n}",
        )
        attention_bias = weight(f"attention_out_bias.{n}", weights[f"{prefix}.attention.output.dense.bias"])
        normed = node(
            "SkipLayerNormalization",
            [
                projected,
                x,
                *norm(f"{prefix}.attention.output.LayerNorm", f"attention_norm.{n}"),
                attention_bias,
            ],
            f"attention_normed.{n}",
            epsilon=EPSILON,
        )
        inner = node(
            "MatMul", [normed, transposed(f"{prefix}.intermediate.dense", f"inner.{n}")], f"inner.{n}.out"
        )
        inner_bias = weight(f"inner_bias.{n}", weights[f"{prefix}.intermediate.dense.bias"])
        activated = node("BiasGelu", [inner, inner_bias], f"activated.{n}")
        out = node("MatMul", [activated, transposed(f"{prefix}.output.dense", f"out.{n}")], f"out.{n}.out")
        out_bias = weight(f"out_bias.{n}", weights[f"{prefix}.output.dense.bias"])
        x = node(
            "SkipLayerNormalization",
            [out, normed, *norm(f"{prefix}.output.LayerNorm", f"output_norm.{n}"), out_bias],
            "hidden" if n == layers - 1 else f"layer.{n}",
            epsilon=EPSILON,
        )
    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT32, ["batch", "length"])
        for name in ("input_ids", "token_type_ids", "attention_mask")
    ]
    output = helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "length", None])
    graph = helper.make_graph(nodes, "all-MiniLM-L6-v2", inputs, [output], initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", _OPSET), helper.make_opsetid(_MICROSOFT, 1)],
        ir_version=_IR_VERSION,
        producer_name="parley",
    )
    return bytes(model.SerializeToString())


class OnnxEncoder:
    """The last hidden states (batch, length, hidden) of token ids, on ONNX Runtime's CPU provider
    with `threads` threads (None: one per physical core, the runtime's default)."""

    name = "onnxruntime"

    def __init__(self, weights: dict[str, Any], layers: int, threads: int | None = None) -> None:
        import numpy
        import onnxruntime  # type: ignore[import-untyped]

        self._np: Any = numpy
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.inter_op_num_threads = 1  # the graph is one chain: nothing runs beside it
        if threads is not None:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3  # errors only: the runtime's notices are not the service's
        self._session = onnxruntime.InferenceSession(
            onnx_graph(weights, layers), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, ids: Any, types: Any, mask: Any) -> Any:
        np = self._np
        feed = {
            "input_ids": ids.astype(np.int32),
            "token_type_ids": types.astype(np.int32),
            "attention_mask": mask.astype(np.int32),
        }
        return self._session.run(["hidden"], feed)[0]
