"""Document ingestion: text or a file read into pages, chunked (a chunk of a PDF knows its page),
embedded in batches, and made the document's only chunks in the vector store, recording in the
document registry which chunks those are (the vector store may not find them by searching yet).
Deletion removes every chunk of a document, and its stored file."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC
from typing import Any

from parley.auth.principal import AI_INGEST, Principal
from parley.clock import Clock
from parley.config import Settings
from parley.errors import ContentTooLarge, DocumentNotFound, InvalidRequest, StoreUnavailable
from parley.ids import uuid7
from parley.logic.embedding import Deadline, embed_within
from parley.logic.limits import check_json_size
from parley.models.api.rag import DocumentIn, DocumentStatus, IngestedDocument, IngestResponse
from parley.models.domain import DocumentRecord, timestamp
from parley.providers.embedders import Embedder
from parley.rag.chunking import chunk_text
from parley.rag.parsing import TEXT, UnreadableFile, parse
from parley.rag.vectors import BulkReplacing, ChunkRecord, VectorStore
from parley.store.documents import DocumentRegistry, RegistryChanged
from parley.store.files import PREFIX as UPLOADS

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
MAX_INLINE_FILE_BYTES = 4 * 1024 * 1024  # content_base64, decoded: a Lambda request is at most 6 MB
MAX_BATCH_BYTES = 5 * 1024 * 1024
REGISTRY_ATTEMPTS = 3


@dataclass(frozen=True)
class Source:
    """One document to index: its ids, what the client said of it, and its text page by page."""

    brand_id: str
    rag_scope: str
    document_id: str
    pages: list[str]
    paginated: bool
    content_type: str
    bytes: int
    title: str | None = None
    metadata: dict[str, Any] | None = None
    expires_at: str | None = None
    filename: str | None = None
    upload_id: str | None = None
    upload_key: str | None = None


def ingest_documents(
    principal: Principal,
    documents: list[DocumentIn],
    *,
    store: VectorStore,
    embed: Embedder,
    registry: DocumentRegistry,
    config: Settings,
    clock: Clock,
    within_deadline: bool = True,
) -> IngestResponse:
    """All documents are checked (and files parsed) before any is written, and all are embedded
    before any is stored; a batch the request's deadline cannot hold is a 413 (the bench and the
    evaluation, which are no request, pass within_deadline=False)."""
    principal.require(AI_INGEST)
    for document in documents:
        principal.require_brand(document.brand_id)
        check_json_size(document.metadata, "metadata")
    sources = [_source(document) for document in documents]
    total = sum(source.bytes for source in sources)
    if total > MAX_BATCH_BYTES:
        raise ContentTooLarge(f"The batch holds {total} bytes of content; the limit is {MAX_BATCH_BYTES}.")
    ingested = index_sources(
        sources,
        store,
        embed,
        registry,
        config=config,
        clock=clock,
        deadline=Deadline(config.ingest_deadline_seconds) if within_deadline else None,
    )
    return IngestResponse(documents=ingested)


def _source(document: DocumentIn) -> Source:
    expires_at = document.expires_at.astimezone(UTC).isoformat() if document.expires_at else None
    common: dict[str, Any] = {
        "brand_id": document.brand_id,
        "rag_scope": document.rag_scope,
        "document_id": document.document_id or str(uuid7()),
        "title": document.title,
        "metadata": document.metadata,
        "expires_at": expires_at,
        "filename": document.filename,
    }
    if document.content is not None:
        size = len(document.content.encode())
        if size > MAX_DOCUMENT_BYTES:
            raise ContentTooLarge(f"Document content is {size} bytes; the limit is {MAX_DOCUMENT_BYTES}.")
        return Source(pages=[document.content], paginated=False, content_type=TEXT, bytes=size, **common)
    try:
        data = base64.b64decode(document.content_base64 or "", validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("content_base64 is not valid base64.") from None
    if len(data) > MAX_INLINE_FILE_BYTES:
        raise ContentTooLarge(
            f"The file is {len(data)} bytes; content_base64 takes at most {MAX_INLINE_FILE_BYTES} "
            "(upload larger files with POST /v1/ai/files)."
        )
    try:
        parsed = parse(data, document.content_type, document.filename)
    except UnreadableFile as refusal:
        raise InvalidRequest(str(refusal), code="unreadable_file") from None
    return Source(
        pages=parsed.pages,
        paginated=parsed.paginated,
        content_type=parsed.content_type,
        bytes=len(data),
        **{**common, "title": document.title or parsed.title},
    )


def index_sources(
    sources: list[Source],
    store: VectorStore,
    embed: Embedder,
    registry: DocumentRegistry,
    replaces: Callable[[Source], DocumentRecord | None] | None = None,
    *,
    config: Settings,
    clock: Clock,
    deadline: Deadline | None = None,
) -> list[IngestedDocument]:
    """Chunk every source, embed all their chunks together (in batches of EMBED_BATCH: one model
    or API call serves many small documents), then store each. `replaces` names the record a
    source's write must supersede (by default: what the registry holds now)."""
    pieces = [
        [
            (text, number if source.paginated else None)
            for number, page in enumerate(source.pages, 1)
            for text in chunk_text(page, config.rag_chunk_tokens, config.rag_chunk_overlap_tokens)
        ]
        for source in sources
    ]
    texts = [text for chunks in pieces for text, _ in chunks]
    vectors = embed_within(texts, embed, deadline)
    records, position = [], 0
    for source, chunks in zip(sources, pieces, strict=True):
        records.append(_chunk_records(source, chunks, vectors[position : position + len(chunks)]))
        position += len(chunks)
    written = _written_at_once(sources, records, store)
    return [
        _store_one(
            source,
            chunks,
            store,
            registry,
            current=replaces(source)
            if replaces
            else registry.get(source.brand_id, source.rag_scope, source.document_id),
            updated_at=timestamp(clock.now()),
            written=written,
        )
        for source, chunks in zip(sources, records, strict=True)
    ]


def _written_at_once(sources: list[Source], records: list[list[ChunkRecord]], store: VectorStore) -> bool:
    """A batch of one brand's scope goes to a store that writes many documents at once in one
    call (the S3 Vectors store rewrites the brand's lexicon once, not once a document); True
    when it did."""
    places = {(source.brand_id, source.rag_scope) for source in sources}
    distinct = len({source.document_id for source in sources}) == len(sources)
    if len(sources) < 2 or len(places) != 1 or not distinct or not isinstance(store, BulkReplacing):
        return False
    brand_id, rag_scope = next(iter(places))
    store.replace_documents(
        brand_id, rag_scope, [(s.document_id, chunks) for s, chunks in zip(sources, records, strict=True)]
    )
    return True


def _chunk_records(
    source: Source, pieces: list[tuple[str, int | None]], vectors: list[list[float]]
) -> list[ChunkRecord]:
    return [
        ChunkRecord(
            brand_id=source.brand_id,
            rag_scope=source.rag_scope,
            document_id=source.document_id,
            chunk_index=index,
            content=text,
            embedding=vector,
            title=source.title,
            metadata=source.metadata or {},
            expires_at=source.expires_at,
            page=page,
        )
        for index, ((text, page), vector) in enumerate(zip(pieces, vectors, strict=True))
    ]


def _store_one(
    source: Source,
    chunks: list[ChunkRecord],
    store: VectorStore,
    registry: DocumentRegistry,
    *,
    current: DocumentRecord | None,
    updated_at: str,
    written: bool = False,
) -> IngestedDocument:
    """The document's chunks written (unless `written` already, with the batch) and its record."""
    brand_id, rag_scope, document_id = source.brand_id, source.rag_scope, source.document_id
    keys = (
        []
        if written
        else store.replace_document(
            brand_id, rag_scope, document_id, chunks, previous=current.store_keys if current else ()
        )
    )
    pages = len(source.pages) if source.paginated else None
    for _ in range(REGISTRY_ATTEMPTS):
        record = DocumentRecord(
            brand_id=brand_id,
            rag_scope=rag_scope,
            document_id=document_id,
            version=current.version + 1 if current else 1,
            status="ready",
            chunks=len(chunks),
            updated_at=updated_at,
            store_keys=keys,
            title=source.title,
            bytes=source.bytes,
            content_type=source.content_type,
            filename=source.filename,
            expires_at=source.expires_at,
            pages=pages,
            upload_id=source.upload_id,
            upload_key=source.upload_key,
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
        document_id=document_id, brand_id=brand_id, rag_scope=rag_scope, chunks=len(chunks), pages=pages
    )


def document_status(
    principal: Principal,
    document_id: str,
    brand_id: str,
    rag_scope: str,
    *,
    registry: DocumentRegistry,
) -> DocumentStatus:
    """A document's state: pending (upload awaited), processing, ready or failed (with why)."""
    principal.require(AI_INGEST)
    principal.require_brand(brand_id)
    record = registry.get(brand_id, rag_scope, document_id)
    if record is None:
        raise DocumentNotFound(document_id)
    return DocumentStatus(
        document_id=document_id,
        status=record.status,
        error=record.error,
        filename=record.filename,
        content_type=record.content_type,
        bytes=record.bytes,
        pages=record.pages,
        chunks=record.chunks,
        updated_at=record.updated_at,
    )


def delete_document(
    principal: Principal,
    document_id: str,
    brand_id: str,
    rag_scope: str,
    *,
    store: VectorStore,
    registry: DocumentRegistry,
    remove_file: Callable[[str], None] | None = None,
) -> None:
    """Every chunk the registry knows of and any other the store finds, the stored file, then
    the record. A document with nothing left of it is a 404."""
    principal.require(AI_INGEST)
    principal.require_brand(brand_id)
    record = registry.get(brand_id, rag_scope, document_id)
    removed = store.delete_document(
        brand_id, rag_scope, document_id, keys=record.store_keys if record else ()
    )
    if (
        record is not None
        and record.upload_key
        and remove_file is not None
        and record.upload_key.startswith(UPLOADS)
    ):
        remove_file(record.upload_key)  # an upload is Parley's; a synced folder's object is the brand's
    if record is not None:
        with contextlib.suppress(RegistryChanged):  # a newer version was written meanwhile: it stands
            registry.remove(record)
    if removed == 0 and (record is None or record.status == "ready"):
        raise DocumentNotFound(document_id)  # never ingested, deleted already, or expired


def pending_record(
    current: DocumentRecord | None,
    source_fields: dict[str, Any],
    upload_id: str,
    upload_key: str,
    updated_at: str,
) -> DocumentRecord:
    """The record of a file whose upload is awaited: the indexed version (if any) stays as it is
    until the new one is indexed."""
    base = current or DocumentRecord(
        brand_id=source_fields["brand_id"],
        rag_scope=source_fields["rag_scope"],
        document_id=source_fields["document_id"],
        version=0,
        status="pending",
        chunks=0,
        updated_at="",
    )
    return replace(
        base,
        version=base.version + 1,
        status="pending",
        error=None,
        updated_at=updated_at,
        filename=source_fields["filename"],
        content_type=source_fields["content_type"],
        bytes=source_fields["size"],
        upload_id=upload_id,
        upload_key=upload_key,
        metadata_json=json.dumps(
            {
                "title": source_fields.get("title"),
                "metadata": source_fields.get("metadata"),
                "expires_at": source_fields.get("expires_at"),
            }
        ),
    )
