"""`make dev` as a user runs it: it serves the API, keeps data across a restart, and Ctrl-C
stops everything it started (the gateway and DynamoDB Local, and the OpenSearch node of
`make dev RAG_STORE=opensearch`)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from local.dynamodb import free_port
from local.schedule import schedule_expression
from local.token import mint
from tests.integration.dev_process import interrupt, start_dev
from tests.integration.vector_chunks import eventually

pytestmark = pytest.mark.integration


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_dev_serves_keeps_data_across_restarts_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port, ddb_port = free_port(), free_port()
    headers = {"Authorization": f"Bearer {mint('alice')}"}

    first = start_dev(PORT=str(port), DYNAMODB_PORT=str(ddb_port), LOCAL_DATA_DIR=str(tmp_path))
    said = first.opening  # type: ignore[attr-defined]
    try:
        created = httpx.post(
            f"http://127.0.0.1:{port}/v1/conversations", json={"title": "kept"}, headers=headers
        )
    finally:
        interrupt(first)
    assert created.status_code == 201
    assert f"Cleanup: {schedule_expression()}, the template's schedule" in said
    assert not port_open(port) and not port_open(ddb_port)

    second = start_dev(PORT=str(port), DYNAMODB_PORT=str(ddb_port), LOCAL_DATA_DIR=str(tmp_path))
    try:
        listing = httpx.get(f"http://127.0.0.1:{port}/v1/conversations", headers=headers)
    finally:
        interrupt(second)

    assert [c["title"] for c in listing.json()["conversations"]] == ["kept"]
    assert not port_open(port) and not port_open(ddb_port)


def test_dev_on_opensearch_answers_from_the_node_and_stops_it(tmp_path: Path) -> None:
    port, node_port = free_port(), free_port()
    headers = {"Authorization": f"Bearer {mint('alice', ['acme'])}"}
    base = f"http://127.0.0.1:{port}"

    dev = start_dev(
        PORT=str(port),
        LOCAL_DATA_DIR=str(tmp_path / "dynamodb"),
        RAG_VECTOR_STORE="opensearch",
        RAG_EMBEDDER="hashing",
        OPENSEARCH_PORT=str(node_port),
        OPENSEARCH_DATA_DIR=str(tmp_path / "opensearch"),
        RAG_LOCAL_PATH=str(tmp_path / "unused.sqlite3"),
    )
    try:
        ingested = httpx.post(
            f"{base}/v1/ai/documents",
            json={"brand_id": "acme", "rag_scope": "hr", "document_id": "leave", "content": LEAVE},
            headers=headers,
            timeout=30,
        )
        question = {
            "messages": [{"role": "user", "content": "How long is parental leave?"}],
            "brand_id": "acme",
            "user_id": "alice",
        }
        answer = eventually(
            lambda: httpx.post(f"{base}/v1/ai/chat", json={**question, "rag_scope": "hr"}, headers=headers),
            until=lambda response: response.status_code != 200 or bool(response.json()["rag_context"]),
        )
        indices = httpx.get(f"http://127.0.0.1:{node_port}/_cat/indices?format=json").json()
    finally:
        interrupt(dev)

    assert ingested.status_code == 201, ingested.text
    assert answer.status_code == 200, answer.text
    assert answer.json()["rag_context"][0]["id"] == "leave:0"
    assert [i["index"] for i in indices if i["index"].startswith("parley-chunks")] == [
        "parley-chunks-hashing384"
    ]
    assert not port_open(port) and not port_open(node_port)
    assert not (tmp_path / "unused.sqlite3").exists()  # the local store was not used


def test_dev_on_s3vectors_answers_from_its_endpoint_and_stops_it(tmp_path: Path) -> None:
    port, vectors_port = free_port(), free_port()
    headers = {"Authorization": f"Bearer {mint('alice', ['acme'])}"}
    base = f"http://127.0.0.1:{port}"

    dev = start_dev(
        PORT=str(port),
        LOCAL_DATA_DIR=str(tmp_path / "dynamodb"),
        RAG_VECTOR_STORE="s3vectors",
        RAG_EMBEDDER="hashing",
        S3VECTORS_PORT=str(vectors_port),
        RAG_LOCAL_PATH=str(tmp_path / "unused.sqlite3"),
    )
    said = dev.opening  # type: ignore[attr-defined]
    try:
        ingested = httpx.post(
            f"{base}/v1/ai/documents",
            json={"brand_id": "acme", "rag_scope": "hr", "document_id": "leave", "content": LEAVE},
            headers=headers,
            timeout=30,
        )
        question = {
            "messages": [{"role": "user", "content": "How long is parental leave?"}],
            "brand_id": "acme",
            "user_id": "alice",
            "rag_scope": "hr",
        }
        answer = httpx.post(f"{base}/v1/ai/chat", json=question, headers=headers, timeout=30)
    finally:
        interrupt(dev)

    assert (
        f"S3 Vectors (local, in memory: ingest again after a restart): http://127.0.0.1:{vectors_port}"
        in said
    )
    assert ingested.status_code == 201, ingested.text
    assert answer.status_code == 200, answer.text
    assert answer.json()["rag_context"][0]["id"] == "leave:0"
    assert not port_open(port) and not port_open(vectors_port)
    assert not (tmp_path / "unused.sqlite3").exists()  # the local store was not used


LEAVE = "Parental leave lasts sixteen weeks at full pay."


def test_dev_runs_on_without_a_local_model_that_cannot_start(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:  # the local model's port, held by someone else
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        model_port = taken.getsockname()[1]
        dev = start_dev(
            PORT=str(port),
            LOCAL_MODEL="on",
            LOCAL_MODEL_PORT=str(model_port),
            LOCAL_DATA_DIR=str(tmp_path),
        )
        try:
            models = httpx.get(
                f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {mint('alice')}"}
            )
        finally:
            interrupt(dev)

    said = dev.opening  # type: ignore[attr-defined]
    assert f"Local model: not started on port {model_port}" in said
    assert models.status_code == 200
    assert "local/smollm2-135m-instruct" not in [m["id"] for m in models.json()["data"]]
