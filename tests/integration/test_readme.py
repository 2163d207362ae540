"""The README's snippets run as pasted, against `make dev` (on a port of the test's own: the one
change made to them): the curl tour, and the Python of the OpenAI SDK and LangChain, which makes
the assistant it then uses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from local.dynamodb import free_port
from local.template import ROOT
from tests.integration.dev_process import interrupt, start_dev

pytestmark = pytest.mark.integration

README = (ROOT / "README.md").read_text()


def snippets(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_the_readmes_snippets_run_as_pasted(tmp_path: Path) -> None:
    port = free_port()
    [tour] = [s for s in snippets("bash") if "TOKEN=$(make -s token" in s]
    [python] = snippets("python")
    dev = start_dev(
        LOCAL_MODEL="on",  # make dev as a newcomer runs it: the local model answers
        PORT=str(port),
        DYNAMODB_PORT=str(free_port()),
        LOCAL_DATA_DIR=str(tmp_path / "dynamodb"),
        RAG_LOCAL_PATH=str(tmp_path / "vectors.sqlite3"),
    )
    try:
        curl = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", tour.replace("127.0.0.1:3000", f"127.0.0.1:{port}")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        sdk = subprocess.run(
            [sys.executable, "-c", python.replace("127.0.0.1:3000", f"127.0.0.1:{port}")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        interrupt(dev)

    assert curl.returncode == 0, curl.stderr[-3000:]
    assert '"assistant_message":null' in curl.stdout.replace(" ", "")
    assert "event: done" in curl.stdout and '"rag_context"' in curl.stdout
    assert '"error"' not in curl.stdout
    assert sdk.returncode == 0, sdk.stderr[-3000:]
    completion, answer = sdk.stdout.strip().splitlines()
    assert completion.startswith("ChatCompletion(") and "model='smollm2-135m-instruct'" in completion
    assert "finish_reason='stop'" in completion or "finish_reason='length'" in completion
    # The local model answered, as make dev's default: its words are its own, so only their shape.
    assert "Local model: local/smollm2-135m-instruct" in dev.opening  # type: ignore[attr-defined]
    assert answer.startswith("content=") and "Offline" not in answer and len(answer) > len("content=''")
