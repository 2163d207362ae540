"""The composition root: nothing is read or built until a request needs it, each part is built
once per container, and a test can give a part instead."""

from __future__ import annotations

from typing import Any

import pytest

from parley.config import ConfigurationError, Settings
from parley.providers.embedders import HashingEmbedder
from parley.store.dynamodb import DeferredClient
from parley.wiring import Wiring


def test_making_a_wiring_reads_nothing() -> None:
    wiring = Wiring(environ={"TABLE_NAME": "x"})  # an invalid table name: read only on first use

    with pytest.raises(ConfigurationError, match="TABLE_NAME"):
        _ = wiring.settings


def test_each_part_is_built_once_and_from_the_given_settings() -> None:
    wiring = Wiring(Settings(table_name="parley-wired", usage_retention_days=7), dynamodb=object())

    assert wiring.conversations is wiring.conversations
    assert wiring.conversations.table_name == "parley-wired"
    assert wiring.usage.retention_days == 7
    assert wiring.generator.usage is wiring.usage
    assert wiring.budgets is wiring.generator.budgets


def test_the_local_vector_store_is_opened_without_building_the_embedder() -> None:
    wiring = Wiring(Settings(rag_vector_store="local", rag_local_path=":memory:", rag_embedder="minilm"))

    _ = wiring.vectors

    assert "embedder" not in vars(wiring)


def test_the_dynamodb_client_is_made_on_its_first_call() -> None:
    made: list[Any] = []

    class Client:
        def describe_table(self, **_: Any) -> str:
            return "described"

    def make() -> Client:
        made.append(Client())
        return made[-1]

    client: Any = DeferredClient(make)
    assert made == []
    assert client.describe_table(TableName="t") == "described"
    assert client.describe_table(TableName="t") == "described"
    assert len(made) == 1


def test_a_part_can_be_given_and_a_misspelt_one_is_refused() -> None:
    model = HashingEmbedder(8)

    assert Wiring(Settings(), embedder=model).embedder is model
    with pytest.raises(TypeError, match="embeder"):
        Wiring(Settings(), embeder=model)


def test_uploads_are_off_without_a_bucket() -> None:
    assert Wiring(Settings(files_bucket=None)).files is None
