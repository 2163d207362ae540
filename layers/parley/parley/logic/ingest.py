"""Document ingestion: chunk, embed in batches, and make the chunks the document's only ones in
the vector store, recording in the document registry which chunks those are (the vector store
may not find them by searching yet). Deletion removes every chunk of a document."""

from __future__ import annotations

import contextlib
from datetime import UTC

from parley.auth.principal import AI_INGEST, Principal
from parley.clock import utc_now
from parley.config import settings
from parley.errors import ContentTooLarge, DocumentNotFound, StoreUnavailable
from parley.ids import uuid7
from parley.logic.limits import check_json_size
from parley.models.api.rag import DocumentIn, IngestedDocument, IngestResponse
from parley.providers.embedders import Embedder, embedder
from parley.rag.chunking import chunk_text
from parley.rag.stores import vector_store
from parley.rag.vectors import ChunkRecord, VectorStore
from parley.store.documents import DocumentRecord, DocumentRegistry, RegistryChanged, document_registry

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
MAX_BATCH_BYTES = 5 * 1024 * 1024
EMBED_BATCH = 256
REGISTRY_ATTEMPTS = 3


def ingest_documents(
    principal: Principal,
    documents: list[DocumentIn],
    store: VectorStore | None = None,
    embed: Embedder | None = None,
    registry: DocumentRegistry | None = None,
) -> IngestResponse:
    """All documents are checked before any is written."""
    principal.require(AI_INGEST)
    total = 0
    for document in documents:
        principal.require_brand(document.brand_id)
        size = len(document.content.encode())
        if size > MAX_DOCUMENT_BYTES:
            raise ContentTooLarge(f"Document content is {size} bytes; the limit is {MAX_DOCUMENT_BYTES}.")
        check_json_size(document.metadata, "metadata")
        total += size
    if total > MAX_BATCH_BYTES:
        raise ContentTooLarge(f"The batch holds {total} bytes of content; the limit is {MAX_BATCH_BYTES}.")
    store, embed, registry = store or vector_store(), embed or embedder(), registry or document_registry()
    config = settings()
    pieces = [
        chunk_text(d.content, config.rag_chunk_tokens, config.rag_chunk_overlap_tokens) for d in documents
    ]
    # Every chunk of the batch is embedded together, in batches of EMBED_BATCH: one model or API
    # call serves many small documents.
    texts = [text for chunks in pieces for text in chunks]
    vectors: list[list[float]] = []
    for start in range(0, len(texts), EMBED_BATCH):
        vectors += embed.embed(texts[start : start + EMBED_BATCH])
    ingested, position = [], 0
    for document, chunks in zip(documents, pieces, strict=True):
        ingested.append(
            _store_one(document, chunks, vectors[position : position + len(chunks)], store, registry)
        )
        position += len(chunks)
    return IngestResponse(documents=ingested)


def _store_one(
    document: DocumentIn,
    texts: list[str],
    vectors: list[list[float]],
    store: VectorStore,
    registry: DocumentRegistry,
) -> IngestedDocument:
    document_id = document.document_id or str(uuid7())
    expires_at = document.expires_at.astimezone(UTC).isoformat() if document.expires_at else None
    chunks = [
        ChunkRecord(
            brand_id=document.brand_id,
            rag_scope=document.rag_scope,
            document_id=document_id,
            chunk_index=index,
            content=text,
            embedding=vector,
            title=document.title,
            metadata=document.metadata or {},
            expires_at=expires_at,
        )
        for index, (text, vector) in enumerate(zip(texts, vectors, strict=True))
    ]
    brand_id, rag_scope = document.brand_id, document.rag_scope
    current = registry.get(brand_id, rag_scope, document_id)
    keys = store.replace_document(
        brand_id, rag_scope, document_id, chunks, previous=current.store_keys if current else ()
    )
    for _ in range(REGISTRY_ATTEMPTS):
        record = DocumentRecord(
            brand_id=brand_id,
            rag_scope=rag_scope,
            document_id=document_id,
            version=current.version + 1 if current else 1,
            status="ready",
            chunks=len(chunks),
            updated_at=utc_now().isoformat(),
            store_keys=keys,
            title=document.title,
            bytes=len(document.content.encode()),
            content_type="text/plain",
            expires_at=expires_at,
        )
        try:
            registry.put(record, replaces=current.version if current else None)
            break
        except RegistryChanged:
            # Another ingestion (or a deletion) of this document settled meanwhile: this one,
            # the later, replaces what that one wrote.
            current = registry.get(brand_id, rag_scope, document_id)
            if current:
                store.remove_chunks(current.store_keys)
    else:
        store.remove_chunks(keys)
        raise StoreUnavailable("The document is being changed by other requests; retry in a moment.")
    return IngestedDocument(
        document_id=document_id, brand_id=document.brand_id, rag_scope=document.rag_scope, chunks=len(chunks)
    )


def delete_document(
    principal: Principal,
    document_id: str,
    brand_id: str,
    rag_scope: str,
    *,
    store: VectorStore | None = None,
    registry: DocumentRegistry | None = None,
) -> None:
    """Every chunk the registry knows of and any other the store finds; then the record. A
    document with no chunk left is a 404."""
    principal.require(AI_INGEST)
    principal.require_brand(brand_id)
    store, registry = store or vector_store(), registry or document_registry()
    record = registry.get(brand_id, rag_scope, document_id)
    removed = store.delete_document(
        brand_id, rag_scope, document_id, keys=record.store_keys if record else ()
    )
    if record is not None:
        with contextlib.suppress(RegistryChanged):  # a newer version was written meanwhile: it stands
            registry.remove(record)
    if removed == 0:  # never ingested, deleted already, or expired and cleaned up
        raise DocumentNotFound(document_id)
