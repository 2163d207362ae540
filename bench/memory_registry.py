"""The document registry kept in memory, for benchmarks that ingest without DynamoDB (the local
vector store they use hands out no keys, so the registry only counts versions)."""

from __future__ import annotations

from parley.models.domain import DocumentRecord
from parley.store.documents import DocumentRegistry, RegistryChanged


class MemoryRegistry(DocumentRegistry):
    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str], DocumentRecord] = {}

    def get(self, brand_id: str, rag_scope: str, document_id: str) -> DocumentRecord | None:
        return self.records.get((brand_id, rag_scope, document_id))

    def put(self, record: DocumentRecord, replaces: int | None) -> None:
        key = (record.brand_id, record.rag_scope, record.document_id)
        current = self.records.get(key)
        if (current.version if current else None) != replaces:
            raise RegistryChanged
        self.records[key] = record

    def remove(self, record: DocumentRecord) -> None:
        key = (record.brand_id, record.rag_scope, record.document_id)
        if key not in self.records or self.records[key].version != record.version:
            raise RegistryChanged
        del self.records[key]
