"""Unit tests run without a network (sockets refused) and with DynamoDB through moto."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pytest_socket import disable_socket, enable_socket

from local.dynamodb import create_table
from parley.auth.principal import ALL_SCOPES, Principal
from parley.config import Settings, settings_from
from parley.store.conversations import ConversationStore
from parley.wiring import Wiring

TABLE = "parley-unit"


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


# Parley's settings in the unit tests, as values (a test changes a copy: `unit_settings(...)`).
UNIT_ENVIRONMENT = {
    "TABLE_NAME": TABLE,
    "JWT_HS256_SECRET": "unit-secret",
    "JWT_ISSUER": "parley-local",
    "JWT_AUDIENCE": "parley",
    "RAG_VECTOR_STORE": "local",
    "RAG_LOCAL_PATH": ":memory:",
    "RAG_EMBEDDER": "hashing",
    "FILES_BUCKET": "parley-unit-files",
}
# What boto3 (under moto) and Powertools read: not Parley's settings.
AWS_ENVIRONMENT = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "unit",
    "AWS_SECRET_ACCESS_KEY": "unit",
}


def unit_settings(**changes: Any) -> Settings:
    return settings_from(UNIT_ENVIRONMENT).model_copy(update=changes)


def generating(store: ConversationStore, **changes: Any) -> dict[str, Any]:
    """What the generating use cases take besides the store, on the store's table and client."""
    wiring = Wiring(unit_settings(table_name=store.table_name, **changes), dynamodb=store.client)
    return {"store": store, "generator": wiring.generator, "config": wiring.settings}


def appending(store: ConversationStore, **changes: Any) -> dict[str, Any]:
    """What append_message takes besides the store: `generating`'s, and the branches."""
    wiring = Wiring(unit_settings(table_name=store.table_name, **changes), dynamodb=store.client)
    return {**generating(store, **changes), "branches": wiring.branches}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The process environment of a function's container, for the tests that load a function
    (which makes its own wiring from the environment, as in Lambda)."""
    for name, value in {**AWS_ENVIRONMENT, **UNIT_ENVIRONMENT}.items():
        monkeypatch.setenv(name, value)
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("JWT_JWKS_URL", raising=False)
    return monkeypatch


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)  # an integration stack's endpoints: moto answers here, in process
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
