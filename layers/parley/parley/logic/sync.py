"""Folders in S3 that keep themselves indexed: a brand's documents under
`sync/<brand>/<scope>/<path>` in the files bucket. An object created or overwritten there is
ingested through the files pipeline (PDF, Word, HTML, Markdown, text), its document id the path
below the scope and its title the file name; an object deleted is removed from the index.

S3's notifications (through the files queue) drive it, and they may come twice, late or out of
order, so the worker never trusts what an event says happened: it looks at the object as it is
now (HEAD) and at the document's record (whose `upload_key` is the object's key and `upload_id`
its ETag: the manifest), and makes the index match: ingest when the ETag differs, remove when the
object is gone, nothing when they agree. `POST /v1/ai/sync` reconciles a whole prefix the same way
(for the first sync, and for events lost): it lists the objects and the records, and queues one
check for each key that differs."""

from __future__ import annotations

import contextlib
import mimetypes
from dataclasses import dataclass, replace
from typing import Literal

from parley.auth.principal import ADMIN, Principal
from parley.clock import Clock
from parley.config import Settings
from parley.errors import ParleyError
from parley.logic.files import MAX_FILE_BYTES
from parley.logic.ingest import Source, index_sources
from parley.models.domain import DocumentRecord, timestamp
from parley.providers.embedders import Embedder
from parley.rag.parsing import UnreadableFile, parse
from parley.rag.vectors import VectorStore
from parley.store.documents import DocumentRegistry, RegistryChanged
from parley.store.files import FileStorage, FileTooLarge

PREFIX = "sync/"
SyncOutcome = Literal["ready", "failed", "removed", "unchanged", "absent", "ignored"]
_TYPES = {".md": "text/markdown", ".markdown": "text/markdown", ".txt": "text/plain"}


@dataclass(frozen=True)
class SyncKey:
    brand_id: str
    rag_scope: str
    document_id: str

    def __str__(self) -> str:
        return f"{PREFIX}{self.brand_id}/{self.rag_scope}/{self.document_id}"

    @classmethod
    def parse(cls, key: str) -> SyncKey | None:
        """`sync/acme/docs/handbook/leave.pdf` → acme, docs, handbook/leave.pdf; None for any other
        key (a folder marker ending in / included)."""
        if not key.startswith(PREFIX) or key.endswith("/"):
            return None
        parts = key[len(PREFIX) :].split("/", 2)
        if len(parts) != 3 or not all(parts) or len(parts[0]) > 100 or len(parts[1]) > 128:
            return None
        return cls(*parts)

    @property
    def filename(self) -> str:
        return self.document_id.rsplit("/", 1)[-1]


def prefix_of(brand_id: str, rag_scope: str) -> str:
    return f"{PREFIX}{brand_id}/{rag_scope}/"


def sync_object(
    key: str,
    *,
    registry: DocumentRegistry,
    storage: FileStorage,
    store: VectorStore,
    embed: Embedder,
    config: Settings,
    clock: Clock,
    attempt: int = 1,
) -> SyncOutcome:
    """Make the index match the object at `key` as it is now. A passing failure (the embedder or a
    store unavailable) raises so the queue delivers the check again; on its last delivery the
    document ends `failed` with the reason, its previous version still indexed."""
    target = SyncKey.parse(key)
    if target is None:
        return "ignored"
    found = storage.head(key)
    current = registry.get(target.brand_id, target.rag_scope, target.document_id)
    synced = current is not None and current.upload_key == key
    if found is None:
        if not synced or current is None:
            return "absent"  # never synced, or an API document of the same id: not the folder's
        store.delete_document(target.brand_id, target.rag_scope, target.document_id, keys=current.store_keys)
        try:
            registry.remove(current)
        except RegistryChanged:
            return "unchanged"  # the object came back meanwhile and was indexed: that stands
        return "removed"
    if (
        synced
        and current is not None
        and current.upload_id == found.etag
        and current.status in ("ready", "failed")
    ):
        return "unchanged"
    content_type = (
        _TYPES.get(_suffix(target.filename)) or mimetypes.guess_type(target.filename)[0] or found.content_type
    )
    try:
        if found.size > MAX_FILE_BYTES:
            raise FileTooLarge(f"The file is {found.size} bytes; the limit is {MAX_FILE_BYTES}.")
        data = storage.read(key, limit=MAX_FILE_BYTES)
        parsed = parse(data, content_type, target.filename)
    except (UnreadableFile, FileTooLarge) as refusal:
        _failed(registry, current, target, key, found.etag, str(refusal), clock)
        return "failed"
    source = Source(
        brand_id=target.brand_id,
        rag_scope=target.rag_scope,
        document_id=target.document_id,
        pages=parsed.pages,
        paginated=parsed.paginated,
        content_type=parsed.content_type,
        bytes=len(data),
        title=target.filename,
        filename=target.filename,
        upload_id=found.etag,
        upload_key=key,
    )
    try:
        index_sources([source], store, embed, registry, config=config, clock=clock)
    except ParleyError as failure:
        if attempt >= config.files_max_receives:
            reason = f"Not indexed after {attempt} attempts: {failure.message}"
            _failed(registry, current, target, key, found.etag, reason, clock)
            return "failed"
        raise
    return "ready"


def _suffix(filename: str) -> str:
    return "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _failed(  # noqa: PLR0917 (the record's parts)
    registry: DocumentRegistry,
    current: DocumentRecord | None,
    target: SyncKey,
    key: str,
    etag: str,
    reason: str,
    clock: Clock,
) -> None:
    """The object could not be indexed: its document says why (and which ETag it tried, so a
    reconcile does not try it again until it changes); what was indexed before stays."""
    now = timestamp(clock.now())
    if current is None:
        record = DocumentRecord(
            brand_id=target.brand_id,
            rag_scope=target.rag_scope,
            document_id=target.document_id,
            version=1,
            status="failed",
            chunks=0,
            updated_at=now,
            title=target.filename,
            filename=target.filename,
            error=reason,
            upload_id=etag,
            upload_key=key,
        )
    else:
        record = replace(
            current,
            status="failed",
            error=reason,
            upload_id=etag,
            upload_key=key,
            version=current.version + 1,
            updated_at=now,
        )
    with contextlib.suppress(RegistryChanged):  # another check of this key settled meanwhile
        registry.put(record, replaces=current.version if current else None)


@dataclass(frozen=True)
class SyncPlan:
    add: list[str]
    update: list[str]
    remove: list[str]

    @property
    def keys(self) -> list[str]:
        return [*self.add, *self.update, *self.remove]


def plan_sync(
    principal: Principal, brand_id: str, rag_scope: str, *, registry: DocumentRegistry, storage: FileStorage
) -> SyncPlan:
    """What a reconcile of the brand's folder will do: objects never indexed (add), objects whose
    ETag is not the one indexed (update), documents synced from objects now gone (remove)."""
    principal.require(ADMIN)
    principal.require_brand(brand_id)
    listed = storage.listing(prefix_of(brand_id, rag_scope))
    indexed = {
        record.upload_key: record.upload_id
        for record in registry.all_records(brand_id, rag_scope)
        if record.upload_key and record.upload_key.startswith(prefix_of(brand_id, rag_scope))
    }
    return SyncPlan(
        add=sorted(key for key in listed if key not in indexed and SyncKey.parse(key)),
        update=sorted(key for key, etag in listed.items() if key in indexed and indexed[key] != etag),
        remove=sorted(key for key in indexed if key not in listed),
    )
