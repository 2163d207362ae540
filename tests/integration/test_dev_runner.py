"""`make dev` as a user runs it: it serves the API, keeps data across a restart, and Ctrl-C
stops everything it started (the gateway and DynamoDB Local)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from local.dynamodb import free_port
from local.token import mint
from tests.integration.dev_process import interrupt, start_dev

pytestmark = pytest.mark.integration


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_dev_serves_keeps_data_across_restarts_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port, ddb_port = free_port(), free_port()
    headers = {"Authorization": f"Bearer {mint('alice')}"}

    first = start_dev(PORT=str(port), DYNAMODB_PORT=str(ddb_port), LOCAL_DATA_DIR=str(tmp_path))
    try:
        created = httpx.post(
            f"http://127.0.0.1:{port}/v1/conversations", json={"title": "kept"}, headers=headers
        )
    finally:
        interrupt(first)
    assert created.status_code == 201
    assert not port_open(port) and not port_open(ddb_port)

    second = start_dev(PORT=str(port), DYNAMODB_PORT=str(ddb_port), LOCAL_DATA_DIR=str(tmp_path))
    try:
        listing = httpx.get(f"http://127.0.0.1:{port}/v1/conversations", headers=headers)
    finally:
        interrupt(second)

    assert [c["title"] for c in listing.json()["conversations"]] == ["kept"]
    assert not port_open(port) and not port_open(ddb_port)
