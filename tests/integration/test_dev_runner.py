"""`make dev` as a user runs it: it serves the API, keeps data across a restart, and Ctrl-C
stops everything it started (the gateway and DynamoDB Local)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from local.dynamodb import free_port
from local.template import ROOT
from local.token import mint

pytestmark = pytest.mark.integration


def start(port: int, ddb_port: int, data_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PORT": str(port), "DYNAMODB_PORT": str(ddb_port), "LOCAL_DATA_DIR": str(data_dir)}
    env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local.dev"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    for line in process.stdout:
        if re.search(r"listening on http://127\.0\.0\.1:\d+", line):
            return process
        assert time.monotonic() < deadline, "make dev did not start in time"
    raise AssertionError(f"make dev exited with {process.wait()}")


def interrupt(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(30)


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_dev_serves_keeps_data_across_restarts_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port, ddb_port = free_port(), free_port()
    headers = {"Authorization": f"Bearer {mint('alice')}"}

    first = start(port, ddb_port, tmp_path)
    try:
        created = httpx.post(
            f"http://127.0.0.1:{port}/v1/conversations", json={"title": "kept"}, headers=headers
        )
    finally:
        interrupt(first)
    assert created.status_code == 201
    assert not port_open(port) and not port_open(ddb_port)

    second = start(port, ddb_port, tmp_path)
    try:
        listing = httpx.get(f"http://127.0.0.1:{port}/v1/conversations", headers=headers)
    finally:
        interrupt(second)

    assert [c["title"] for c in listing.json()["conversations"]] == ["kept"]
    assert not port_open(port) and not port_open(ddb_port)
