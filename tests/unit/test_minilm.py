"""all-MiniLM-L6-v2, on either engine (ONNX Runtime, numpy), computes what sentence-transformers
computes from the same packaged weights (reference vectors made once with sentence-transformers,
see the file's `produced_with`), truncation of long texts included; and it ranks a question's own
passage first."""

from __future__ import annotations

import json
from pathlib import Path

import numpy
import pytest

from parley.providers.minilm import MiniLMEmbedder

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module", params=["onnxruntime", "numpy"])
def model(request: pytest.FixtureRequest) -> MiniLMEmbedder:
    embedder = MiniLMEmbedder(engine=request.param)
    assert embedder.engine == request.param
    return embedder


def test_vectors_match_sentence_transformers(model: MiniLMEmbedder) -> None:
    mine = numpy.array(model.embed(REFERENCE["texts"]))
    reference = numpy.array(REFERENCE["vectors"])

    assert mine.shape == reference.shape == (len(REFERENCE["texts"]), 384)
    assert numpy.abs(mine - reference).max() < 1e-5


def test_a_question_is_closest_to_the_passage_that_answers_it(model: MiniLMEmbedder) -> None:
    question, refunds, shipping = numpy.array(
        model.embed(
            [
                "How long do refunds take?",
                "Refunds are paid back to the original card within 14 days.",
                "Orders ship within two business days from our warehouse.",
            ]
        )
    )

    assert question @ refunds > question @ shipping + 0.2
    assert numpy.linalg.norm(question) == pytest.approx(1.0, abs=1e-6)


def test_onnx_runtime_is_the_engine_where_it_is_installed() -> None:
    assert MiniLMEmbedder().engine == "onnxruntime"
