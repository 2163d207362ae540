"""An upload the worker cannot embed is given back and retried, and on the queue's last delivery
ends `failed` with the reason: never left `processing` with its message in the dead-letter queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from parley.clock import SYSTEM_CLOCK
from parley.errors import ProviderError
from parley.logic.files import accept_file, process_upload
from parley.models.api.rag import FileIn
from parley.providers.embedders import HashingEmbedder
from parley.rag.local_store import LocalVectorStore
from parley.store.documents import DocumentRegistry
from parley.store.files import FileStorage
from tests.unit.conftest import TABLE, principal, unit_settings

TEXT = b"Travel policy: book economy class for every flight."


class FlakyEmbedder(HashingEmbedder):
    """Fails its first `failures` calls, as a provider under load does."""

    def __init__(self, failures: int) -> None:
        super().__init__(64)
        self.failures = failures

    def embed(self, texts: list[str]) -> list[list[float]]:
        if self.failures > 0:
            self.failures -= 1
            raise ProviderError("The embedding provider is unavailable (503).")
        return super().embed(texts)


@pytest.fixture
def upload(dynamodb: Any) -> dict[str, Any]:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="parley-unit-files")
    registry = DocumentRegistry(TABLE, dynamodb)
    storage = FileStorage("parley-unit-files", s3)
    accepted = accept_file(
        principal(),
        FileIn(
            brand_id="acme", rag_scope="hr", filename="travel.txt", content_type="text/plain", size=len(TEXT)
        ),
        registry=registry,
        storage=storage,
        clock=SYSTEM_CLOCK,
    )
    key = registry.get("acme", "hr", accepted.document_id).upload_key  # type: ignore[union-attr]
    s3.put_object(Bucket="parley-unit-files", Key=key, Body=TEXT)
    return {"key": key, "registry": registry, "storage": storage, "document_id": accepted.document_id}


def deliver(upload: dict[str, Any], embedder: HashingEmbedder, attempt: int, store: LocalVectorStore) -> str:
    return process_upload(
        upload["key"],
        registry=upload["registry"],
        storage=upload["storage"],
        store=store,
        embed=embedder,
        config=unit_settings(files_max_receives=3),
        clock=SYSTEM_CLOCK,
        attempt=attempt,
    )


def status(upload: dict[str, Any]) -> tuple[str, str | None]:
    record = upload["registry"].get("acme", "hr", upload["document_id"])
    return record.status, record.error


def test_a_passing_failure_is_retried_and_the_retry_indexes_it(
    upload: dict[str, Any], tmp_path: Path
) -> None:
    store = LocalVectorStore(str(tmp_path / "v.sqlite3"))
    embedder = FlakyEmbedder(failures=1)

    with pytest.raises(ProviderError):
        deliver(upload, embedder, attempt=1, store=store)
    given_back = status(upload)
    outcome = deliver(upload, embedder, attempt=2, store=store)

    assert given_back == ("pending", None)  # the next delivery may claim it at once
    assert outcome == "ready"
    assert status(upload) == ("ready", None)


def test_the_last_delivery_ends_failed_with_the_reason(upload: dict[str, Any], tmp_path: Path) -> None:
    store = LocalVectorStore(str(tmp_path / "v.sqlite3"))
    embedder = FlakyEmbedder(failures=10)

    for attempt in (1, 2):
        with pytest.raises(ProviderError):
            deliver(upload, embedder, attempt=attempt, store=store)
    outcome = deliver(upload, embedder, attempt=3, store=store)

    assert outcome == "failed"
    state, reason = status(upload)
    assert state == "failed"
    assert reason == "Not indexed after 3 attempts: The embedding provider is unavailable (503)."
    assert store.search("acme", "hr", HashingEmbedder(64).embed(["travel"])[0], 5, 0.0) == []


def test_the_worker_knows_the_queues_receive_count() -> None:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((Path(__file__).parents[2] / "template.yaml").read_text(), Loader=Loader)
    resources = template["Resources"]
    queue = resources["FilesQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    worker = resources["AiFilesWorkerFunction"]["Properties"]["Environment"]["Variables"][
        "FILES_MAX_RECEIVES"
    ]

    assert int(worker) == int(queue)
