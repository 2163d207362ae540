"""Files too large for a request: the client uploads them straight to storage with a presigned
URL; an S3 notification (through SQS) starts the worker, which parses, chunks, embeds and indexes
them, moving the document's status from pending to processing to ready, or failed with a reason.

S3 delivers a notification at least once: a repeated one finds its upload processed (or being
processed) and adds nothing. A newer upload of the same document supersedes an older one. A new
version replaces the old only once it is wholly indexed; a file that cannot be read indexes
nothing and leaves what was there."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from parley.auth.principal import AI_INGEST, Principal
from parley.clock import Clock
from parley.config import Settings
from parley.errors import ContentTooLarge, InvalidRequest, ParleyError, StoreUnavailable
from parley.ids import uuid7
from parley.logic.ingest import Source, index_sources, pending_record
from parley.logic.limits import check_json_size
from parley.models.api.rag import FileAccepted, FileIn, Upload
from parley.models.domain import DocumentRecord, timestamp
from parley.observability import logger
from parley.providers.embedders import Embedder
from parley.rag.parsing import SUPPORTED, UnreadableFile, parse
from parley.rag.vectors import VectorStore
from parley.store.documents import DocumentRegistry, RegistryChanged
from parley.store.files import FileStorage, FileTooLarge, UploadKey

MAX_FILE_BYTES = 100 * 1024 * 1024
# A worker that claimed an upload and vanished (its function timed out) is presumed gone after
# this; SQS redelivers the notification and another worker takes the upload over.
PROCESSING_LEASE = timedelta(minutes=16)
DECLARABLE = (*SUPPORTED, "application/octet-stream", "application/xhtml+xml", "text/x-markdown")

Outcome = Literal["ready", "failed", "superseded", "duplicate"]


class UploadBusy(Exception):
    """Another worker is processing this upload now: try the notification again later."""


def accept_file(
    principal: Principal, request: FileIn, *, registry: DocumentRegistry, storage: FileStorage, clock: Clock
) -> FileAccepted:
    principal.require(AI_INGEST)
    principal.require_brand(request.brand_id)
    check_json_size(request.metadata, "metadata")
    if request.size > MAX_FILE_BYTES:
        raise ContentTooLarge(f"The file is {request.size} bytes; the limit is {MAX_FILE_BYTES}.")
    declared = request.content_type.split(";")[0].strip().lower()
    if declared not in DECLARABLE:
        raise InvalidRequest(
            f"content_type '{declared}' is not supported: upload PDF, Word (.docx), HTML, Markdown or text.",
            code="unsupported_file_type",
        )
    document_id = request.document_id or str(uuid7())
    key = str(UploadKey(request.brand_id, request.rag_scope, document_id, uuid7().hex))
    fields = {
        **request.model_dump(exclude={"expires_at"}),
        "document_id": document_id,
        "expires_at": request.expires_at.astimezone(UTC).isoformat() if request.expires_at else None,
    }
    for _ in range(3):
        current = registry.get(request.brand_id, request.rag_scope, document_id)
        try:
            registry.put(
                pending_record(current, fields, key.rsplit("/", 1)[1], key, timestamp(clock.now())),
                replaces=current.version if current else None,
            )
            break
        except RegistryChanged:
            continue
    else:
        raise StoreUnavailable("The document is being changed by other requests; retry in a moment.")
    url, headers, expires = storage.presign_put(key, request.content_type)
    return FileAccepted(
        document_id=document_id,
        status="pending",
        upload=Upload(url=url, method="PUT", headers=headers, expires_at=timestamp(expires)),
    )


def process_upload(
    key: str,
    *,
    registry: DocumentRegistry,
    storage: FileStorage,
    store: VectorStore,
    embed: Embedder,
    config: Settings,
    clock: Clock,
    attempt: int = 1,
) -> Outcome:
    """Index the upload at `key` (from an S3 notification) unless it is done, superseded or
    another worker's; UploadBusy while another worker holds it, so the message is redelivered.
    What fails for a passing reason (the embedder or a store unavailable, a timeout) gives the
    upload back and raises, so the queue delivers it again; on the queue's last delivery
    (`attempt` = FILES_MAX_RECEIVES) it ends `failed` with the reason instead: never lost in a
    dead-letter queue with its document `processing` for ever."""
    upload = UploadKey.parse(key)
    if upload is None:
        logger.warning("notification for a key Parley did not hand out", extra={"key": key[:200]})
        return "superseded"
    record = registry.get(upload.brand_id, upload.rag_scope, upload.document_id)
    if record is None or record.upload_id != upload.upload_id:
        return "superseded"  # deleted, or uploaded again since
    if record.status in ("ready", "failed"):
        return "duplicate"
    if record.status == "processing" and not _lease_expired(record, clock):
        raise UploadBusy(key)
    claimed = replace(
        record, status="processing", version=record.version + 1, updated_at=timestamp(clock.now())
    )
    try:
        registry.put(claimed, replaces=record.version)
    except RegistryChanged:
        raise UploadBusy(key) from None
    try:
        data = storage.read(key, limit=record.bytes or MAX_FILE_BYTES)
        parsed = parse(data, record.content_type, record.filename)
    except (UnreadableFile, FileTooLarge) as refusal:
        _fail(registry, claimed, str(refusal), clock)
        return "failed"
    extra = json.loads(claimed.metadata_json or "{}")
    source = Source(
        brand_id=upload.brand_id,
        rag_scope=upload.rag_scope,
        document_id=upload.document_id,
        pages=parsed.pages,
        paginated=parsed.paginated,
        content_type=parsed.content_type,
        bytes=len(data),
        title=extra.get("title") or parsed.title or claimed.filename,
        metadata=extra.get("metadata"),
        expires_at=extra.get("expires_at"),
        filename=claimed.filename,
        upload_id=upload.upload_id,
        upload_key=key,
    )
    try:
        index_sources(
            [source], store, embed, registry, replaces=lambda _: claimed, config=config, clock=clock
        )
    except ParleyError as failure:
        if attempt >= config.files_max_receives:
            _fail(registry, claimed, f"Not indexed after {attempt} attempts: {failure.message}", clock)
            return "failed"
        _give_back(registry, claimed, clock)
        raise
    return "ready"


def _fail(registry: DocumentRegistry, claimed: DocumentRecord, reason: str, clock: Clock) -> None:
    """The upload failed: the document says why; its indexed version, if any, stays."""
    failed = replace(
        claimed, status="failed", error=reason, version=claimed.version + 1, updated_at=timestamp(clock.now())
    )
    registry.put(failed, replaces=claimed.version)
    logger.info("upload failed", extra={"document_id": claimed.document_id, "reason": reason})


def _give_back(registry: DocumentRegistry, claimed: DocumentRecord, clock: Clock) -> None:
    """The upload is pending again, so the next delivery claims it at once."""
    pending = replace(
        claimed, status="pending", version=claimed.version + 1, updated_at=timestamp(clock.now())
    )
    with contextlib.suppress(RegistryChanged):  # a newer upload superseded it meanwhile
        registry.put(pending, replaces=claimed.version)


def _lease_expired(record: DocumentRecord, clock: Clock) -> bool:
    return clock.now() - datetime.fromisoformat(record.updated_at) > PROCESSING_LEASE
