"""`make dev` as a child process, for the tests that start, stop and restart it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading

from local.processes import tied_to_this_process
from local.template import ROOT

READY = re.compile(r"listening on http://127\.0\.0\.1:\d+")


def start_dev(**variables: str) -> subprocess.Popen[str]:
    """Start `python -m local.dev` with these environment variables; return once it listens.
    Without the local model unless asked for (LOCAL_MODEL=on): the tests that need it say so."""
    env = {**os.environ, "LOCAL_MODEL": "off", **variables}
    if "AWS_ENDPOINT_URL_DYNAMODB" not in variables:
        env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)  # let it start its own DynamoDB Local
    process = subprocess.Popen(
        [sys.executable, "-m", "local.dev"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=tied_to_this_process(),  # noqa: PLW1509 (a killed test run takes this make dev along)
    )
    assert process.stdout is not None
    opening: list[str] = []
    for line in process.stdout:
        opening.append(line)
        if READY.search(line):
            process.opening = "".join(opening)  # type: ignore[attr-defined]  # what it said up to then
            # Keep reading what it prints: a full pipe would block its logging, and so the process.
            threading.Thread(target=process.stdout.read, name="dev-output", daemon=True).start()
            return process
    raise AssertionError(f"make dev exited with {process.wait()}")


def interrupt(process: subprocess.Popen[str]) -> None:
    """Ctrl-C, as a developer would, and wait for it to finish."""
    process.send_signal(signal.SIGINT)
    process.wait(30)
