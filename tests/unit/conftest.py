"""Unit tests run without a network (sockets refused) and with DynamoDB through moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pytest_socket import disable_socket, enable_socket

from local.dynamodb import create_table
from parley.auth.principal import ALL_SCOPES, Principal
from parley.store.conversations import ConversationStore
from tests.conftest import clear_process_caches

TABLE = "parley-unit"


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name, value in {
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "unit",
        "AWS_SECRET_ACCESS_KEY": "unit",
        "TABLE_NAME": TABLE,
        "JWT_HS256_SECRET": "unit-secret",
        "JWT_ISSUER": "parley-local",
        "JWT_AUDIENCE": "parley",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "RAG_VECTOR_STORE": "local",
        "RAG_LOCAL_PATH": ":memory:",
        "RAG_EMBEDDER": "hashing",
        "FILES_BUCKET": "parley-unit-files",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.delenv("JWT_JWKS_URL", raising=False)
    clear_process_caches()
    yield monkeypatch
    clear_process_caches()


@pytest.fixture
def dynamodb(environment: pytest.MonkeyPatch) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        yield client


@pytest.fixture
def store(dynamodb: Any) -> ConversationStore:
    return ConversationStore(TABLE, dynamodb)


def principal(
    user_id: str = "alice", brands: tuple[str, ...] = ("acme",), scopes: tuple[str, ...] = ALL_SCOPES
) -> Principal:
    return Principal(user_id=user_id, brands=frozenset(brands), scopes=frozenset(scopes))
