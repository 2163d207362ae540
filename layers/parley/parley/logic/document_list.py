"""GET /v1/ai/documents: a brand's documents (of one scope, when asked), a page at a time, each
with its status, as GET /v1/ai/documents/{id} shows one."""

from __future__ import annotations

import base64
import binascii
import json

from parley.auth.principal import AI_INGEST, Principal
from parley.errors import InvalidRequest
from parley.models.api.rag import DocumentPage, ListedDocument
from parley.store.documents import DocumentRegistry


def list_documents(
    principal: Principal,
    brand_id: str,
    rag_scope: str | None,
    limit: int,
    cursor: str | None = None,
    *,
    registry: DocumentRegistry,
) -> DocumentPage:
    principal.require(AI_INGEST)
    principal.require_brand(brand_id)
    records, last = registry.listing(brand_id, rag_scope, limit, _position(cursor) if cursor else None)
    return DocumentPage(
        documents=[
            ListedDocument(
                document_id=r.document_id,
                rag_scope=r.rag_scope,
                title=r.title,
                status=r.status,
                error=r.error,
                filename=r.filename,
                content_type=r.content_type,
                bytes=r.bytes,
                pages=r.pages,
                chunks=r.chunks,
                updated_at=r.updated_at,
            )
            for r in records
        ],
        next_cursor=_cursor(last) if last else None,
    )


def _cursor(position: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode().rstrip("=")


def _position(cursor: str) -> tuple[str, str]:
    """The (scope, document id) a cursor of this route's holds; a 400 for anything else."""
    try:
        scope, document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(scope, str) and isinstance(document, str):
            return scope, document
    except (ValueError, TypeError, binascii.Error):
        pass
    raise InvalidRequest(
        "cursor is not one this route gave: pass next_cursor as it came.", code="invalid_cursor"
    )
