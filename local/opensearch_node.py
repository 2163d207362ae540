"""A real OpenSearch 2.19.1 node with the k-NN plugin, from Maven Central (local/opensearch/pom.xml):
one JVM on Java 17 (OpenSearch 2.19 needs the security manager, which Java 24 removed), bound to
the loopback address, a single-node cluster. The tests start one per session; `make opensearch`
runs one in the foreground; `make dev RAG_STORE=opensearch` runs the API on one.

The k-NN zip on Maven Central carries no native libraries, so only the pure-Java lucene engine
works (faiss and nmslib would fail on first use); Parley's mappings name `"engine": "lucene"`.

`python -m local.opensearch_node [--port N] [--data DIR]` runs a node until interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from local.dynamodb import free_port
from local.template import ROOT

TOOLS = ROOT / ".tools" / "opensearch"
INSTALLED = TOOLS / ".installed"
MAIN_CLASS = "parley.local.OpenSearchNode"
VERSION = "2.19.1"
HEAP = os.environ.get("OPENSEARCH_HEAP", "768m")
READY = "parley-opensearch-ready"


def java17() -> str:
    """The `java` of a Java 17 runtime: JAVA17_HOME, else the machine's JDK 17, else the default."""
    candidates = [os.environ.get("JAVA17_HOME", "")]
    candidates += sorted(str(p) for p in Path("/usr/lib/jvm").glob("*17*") if (p / "bin" / "java").exists())
    for home in candidates:
        if home and (Path(home) / "bin" / "java").exists():
            return str(Path(home) / "bin" / "java")
    return shutil.which("java") or "java"


class OpenSearchNode:
    """One node process. Its standard input is a pipe it reads until end of file: when this
    process exits, however it exits, the pipe closes and the node stops with it."""

    def __init__(self, port: int | None = None, data_dir: Path | None = None) -> None:
        self.port = port or free_port()
        self._owned_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="parley-opensearch-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.data_dir / "node.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180) -> OpenSearchNode:
        if not INSTALLED.exists():
            raise SystemExit("OpenSearch is not installed: run `make opensearch-install` (Maven Central).")
        classpath = os.pathsep.join([str(TOOLS / "lib" / "*"), str(TOOLS / "knn" / "*")])
        command = [
            java17(),
            f"-Xms{HEAP}",
            f"-Xmx{HEAP}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            "-cp",
            classpath,
            MAIN_CLASS,
            str(self.data_dir / "node"),
            str(self.port),
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir
            )
        self._wait_until_ready(timeout)
        self._refresh_often()
        return self

    def _refresh_often(self) -> None:
        """Parley's indexes here refresh every 100 ms (a cluster's default is 1 s): a write that
        waits for the refresh (`refresh=wait_for`) answers sooner; what is visible when is the same."""
        body = json.dumps(
            {
                "index_patterns": ["parley*"],
                "template": {"settings": {"index": {"refresh_interval": "100ms"}}},
            }
        ).encode()
        request = urllib.request.Request(
            f"{self.url}/_index_template/parley-local-refresh",
            data=body,
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy():
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"OpenSearch exited with {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"OpenSearch did not become healthy within {timeout}s:\n{self.log_tail()}")
            time.sleep(0.25)

    def healthy(self) -> bool:
        """The cluster is at least yellow (a single node has no replicas to place)."""
        try:
            with urllib.request.urlopen(f"{self.url}/_cluster/health", timeout=2) as response:
                return json.load(response)["status"] in ("yellow", "green")
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            if self.process.stdin:
                self.process.stdin.close()  # the node's signal to stop
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._owned_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


MARKER_BRAND = "__refresh_marker__"  # no brand is named so: no search of Parley's finds it


def wait_for_refresh(client: Any, index: str, timeout: float = 30) -> None:
    """Until searches of `index` see every write acknowledged so far, without forcing a refresh:
    a marker written now becomes visible only with a refresh that also shows everything
    acknowledged before it (refreshes are index-wide). The marker is deleted again."""
    marker = client.index(index=index, body={"brand_id": MARKER_BRAND})["_id"]
    query = {"query": {"ids": {"values": [marker]}}}
    deadline = time.monotonic() + timeout
    while client.count(index=index, body=query)["count"] == 0:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{index} did not refresh within {timeout}s")
        time.sleep(0.05)
    client.delete(index=index, id=marker)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run one OpenSearch node with k-NN until interrupted.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("OPENSEARCH_PORT", "9200")))
    parser.add_argument("--data", type=Path, default=ROOT / ".local" / "opensearch")
    arguments = parser.parse_args()
    arguments.data.mkdir(parents=True, exist_ok=True)
    node = OpenSearchNode(arguments.port, arguments.data)
    print(f"starting OpenSearch {VERSION} with k-NN (lucene engine), data in {arguments.data} ...")
    node.start()
    print(f"OpenSearch {VERSION} listens on {node.url}; Ctrl-C stops it")
    try:
        assert node.process is not None
        node.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        node.stop()


if __name__ == "__main__":
    main()
