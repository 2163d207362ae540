"""Credentials sealed at rest: KMS envelope encryption (moto's KMS) and the local key of make dev.
A sealed value opens only with its own context and key, and holds nothing readable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from parley.sealing import KmsSealer, LocalKeySealer, SealBroken, Sealer, open_json, seal_json

CONTEXT = {"brand_id": "acme", "assistant_id": "a1", "server_label": "orders"}
SECRET = {"authorization": "orders-secret-7f3a", "headers": {"X-Api-Key": "k-123"}}


@pytest.fixture
def kms() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("kms", region_name="us-east-1")
        yield client


@pytest.fixture(params=["kms", "local"])
def sealer(request: pytest.FixtureRequest, tmp_path: Path) -> Sealer:
    if request.param == "local":
        return LocalKeySealer(tmp_path / "secrets.key")
    client = request.getfixturevalue("kms")
    return KmsSealer(client.create_key()["KeyMetadata"]["KeyId"], client)


def test_a_sealed_value_opens_with_its_context_and_shows_nothing(sealer: Sealer) -> None:
    sealed = seal_json(sealer, SECRET, CONTEXT)

    assert open_json(sealer, sealed, CONTEXT) == SECRET
    assert "orders-secret" not in sealed and "k-123" not in sealed
    assert seal_json(sealer, SECRET, CONTEXT) != sealed  # a nonce (and a data key) of its own each time


def test_a_sealed_value_does_not_open_for_another_brand_or_server(sealer: Sealer) -> None:
    sealed = seal_json(sealer, SECRET, CONTEXT)

    for other in ({**CONTEXT, "brand_id": "globex"}, {**CONTEXT, "server_label": "billing"}):
        with pytest.raises(SealBroken):
            sealer.open(sealed, other)


def test_an_altered_value_does_not_open(sealer: Sealer) -> None:
    sealed = seal_json(sealer, SECRET, CONTEXT)
    flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]

    with pytest.raises(SealBroken):
        sealer.open(flipped, CONTEXT)


def test_the_local_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    key_file = tmp_path / "dev" / "secrets.key"
    sealed = LocalKeySealer(key_file).seal(b"token", CONTEXT)

    assert key_file.stat().st_mode & 0o777 == 0o600
    assert LocalKeySealer(key_file).open(sealed, CONTEXT) == b"token"  # another process, the same key
    with pytest.raises(SealBroken):
        LocalKeySealer(tmp_path / "other.key").open(sealed, CONTEXT)
