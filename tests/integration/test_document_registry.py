"""Ingestion and deletion over a near-real-time vector store, a real OpenSearch node: the document
registry (DynamoDB Local) remembers which chunks each document has, so a replacement or deletion
right after an ingestion, before any refresh, acts on exactly the right chunks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from local.dynamodb import client
from local.opensearch_node import OpenSearchNode
from parley.auth.principal import ALL_SCOPES, Principal
from parley.clock import SYSTEM_CLOCK
from parley.config import Settings
from parley.errors import DocumentNotFound
from parley.logic.ingest import delete_document, ingest_documents
from parley.models.api.rag import DocumentIn
from parley.models.domain import DocumentRecord
from parley.providers.embedders import HashingEmbedder
from parley.rag.opensearch_index import opensearch_client
from parley.rag.opensearch_store import OpenSearchVectorStore
from parley.store.documents import DocumentRegistry
from tests.conftest import LocalStack
from tests.integration.vector_chunks import visible_after_a_refresh

pytestmark = pytest.mark.integration

EMBED = HashingEmbedder(64)
CALLER = Principal("ingester", frozenset({"acme", "globex"}), frozenset(ALL_SCOPES))


@pytest.fixture
def store(opensearch_node: OpenSearchNode) -> Iterator[OpenSearchVectorStore]:
    own = OpenSearchVectorStore(
        opensearch_client(opensearch_node.url, "none", "us-east-1"),
        f"parley-docs-{uuid.uuid4().hex[:10]}",
        EMBED.dimension,
    )
    yield own
    own.client.indices.delete(index=own.index, ignore_unavailable=True)


@pytest.fixture
def registry(local_stack: LocalStack) -> DocumentRegistry:
    return DocumentRegistry(local_stack.table_name, client(local_stack.database.endpoint))


def ingest(store: OpenSearchVectorStore, registry: DocumentRegistry, document_id: str, *texts: str) -> None:
    ingest_documents(
        CALLER,
        [DocumentIn(brand_id="acme", rag_scope="hr", document_id=document_id, content="\n\n".join(texts))],
        store=store,
        embed=EMBED,
        registry=registry,
        config=Settings(),
        clock=SYSTEM_CLOCK,
    )


def stored(store: OpenSearchVectorStore) -> list[str]:
    return sorted(visible_after_a_refresh(store).values())


def test_two_ingestions_within_a_refresh_leave_only_the_second_version(
    store: OpenSearchVectorStore, registry: DocumentRegistry
) -> None:
    document_id = str(uuid.uuid4())
    ingest(store, registry, document_id, "first version")
    ingest(store, registry, document_id, "second version")

    assert stored(store) == ["second version"]
    record = registry.get("acme", "hr", document_id)
    assert record is not None and record.version == 2 and record.chunks == 1
    assert record.store_keys == list(visible_after_a_refresh(store))


def test_a_delete_right_after_an_ingestion_removes_it_then_is_a_404(
    store: OpenSearchVectorStore, registry: DocumentRegistry
) -> None:
    document_id = str(uuid.uuid4())
    ingest(store, registry, document_id, "soon gone")

    delete_document(CALLER, document_id, "acme", "hr", store=store, registry=registry)

    assert stored(store) == [] and registry.get("acme", "hr", document_id) is None
    with pytest.raises(DocumentNotFound):
        delete_document(CALLER, document_id, "acme", "hr", store=store, registry=registry)


def test_another_brands_document_of_the_same_ids_is_its_own(
    store: OpenSearchVectorStore, registry: DocumentRegistry
) -> None:
    document_id = str(uuid.uuid4())
    ingest(store, registry, document_id, "acme's text")

    with pytest.raises(DocumentNotFound):
        delete_document(CALLER, document_id, "globex", "hr", store=store, registry=registry)
    assert stored(store) == ["acme's text"] and registry.get("globex", "hr", document_id) is None


class RacingRegistry(DocumentRegistry):
    """Lets another ingestion of the same document settle just before this one's first write."""

    def __init__(self, inner: DocumentRegistry, store: OpenSearchVectorStore, document_id: str) -> None:
        super().__init__(inner.table_name, inner.client)
        self.store, self.document_id, self.raced = store, document_id, False

    def put(self, record: DocumentRecord, replaces: int | None) -> None:
        if not self.raced:
            self.raced = True
            ingest(self.store, DocumentRegistry(self.table_name, self.client), self.document_id, "the other")
        super().put(record, replaces)


def test_of_two_concurrent_ingestions_the_later_to_settle_stands_alone(
    store: OpenSearchVectorStore, registry: DocumentRegistry
) -> None:
    document_id = str(uuid.uuid4())
    ingest(store, registry, document_id, "the original")

    ingest(store, RacingRegistry(registry, store, document_id), document_id, "the later")

    assert stored(store) == ["the later"]
    record = registry.get("acme", "hr", document_id)
    assert record is not None and record.version == 3
    assert record.store_keys == list(visible_after_a_refresh(store))
