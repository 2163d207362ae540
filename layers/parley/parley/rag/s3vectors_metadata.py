"""What a chunk's vector carries in S3 Vectors, and Parley's filters in S3 Vectors' filter language.

Filterable (S3 Vectors allows 2 KB of them per vector): `brand_id`, `rag_scope`, `document_id`,
`expires` (epoch seconds; absent when the chunk never expires) and the document's metadata values, typed as
Parley's filters compare them: a string is stored as "s:<value>" and a boolean as "b:true" or
"b:false" under `m.<key>`, so neither ever equals a number; a number as itself under the same key;
a string that is a date also as epoch milliseconds under `d.<key>` (a key longer than 61
characters is named by its hash). Lists and objects in the metadata are kept in the lexicon but
are not filterable, as on the other stores.
Non-filterable: the chunk's text, title, position and page (four of the ten keys an index may
declare).

A chunk beyond S3 Vectors' limits (2 KB filterable, 40 KB in all, 50 keys) is refused with a 400
naming the limit before anything is written."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from parley.errors import InvalidRequest
from parley.models.filters import Filters, date_fields
from parley.rag.lexicon import epoch
from parley.rag.vectors import ChunkRecord

NON_FILTERABLE = ("content", "title", "chunk_index", "page")
MAX_FILTERABLE_BYTES, MAX_METADATA_BYTES, MAX_KEYS = 2 * 1024, 40 * 1024, 50
_KEY_ROOM = 63  # characters of a metadata key, as S3 Vectors' API names them


def metadata_key(prefix: str, key: str) -> str:
    named = f"{prefix}.{key}"
    return named if len(named) <= _KEY_ROOM else f"{prefix}#{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def _typed(value: Any) -> Any:
    if isinstance(value, bool):
        return f"b:{'true' if value else 'false'}"
    if isinstance(value, str):
        return f"s:{value}"
    return value


def filterable(chunk: ChunkRecord) -> dict[str, Any]:
    found: dict[str, Any] = {
        "brand_id": chunk.brand_id,
        "rag_scope": chunk.rag_scope,
        "document_id": chunk.document_id,
    }
    expires = epoch(chunk.expires_at)
    if expires is not None:
        found["expires"] = expires
    for key, value in chunk.metadata.items():
        if isinstance(value, str | bool) or (isinstance(value, int | float) and math.isfinite(value)):
            found[metadata_key("m", key)] = _typed(value)
    for key, moment in date_fields(chunk.metadata).items():
        found[metadata_key("d", key)] = moment
    return found


def vector_metadata(chunk: ChunkRecord) -> dict[str, Any]:
    """The chunk's metadata as its vector carries it; a 400 when S3 Vectors would refuse it."""
    own = filterable(chunk)
    size = _size(own)
    if size > MAX_FILTERABLE_BYTES:
        raise InvalidRequest(
            f"On the s3vectors store a chunk's filterable metadata (brand, scope, document id, expiry "
            f"and the document's string, number, boolean and date values) is at most {MAX_FILTERABLE_BYTES} "
            f"bytes; document {chunk.document_id}'s is {size}.",
            param="metadata",
        )
    carried = {
        **own,
        "content": chunk.content,
        "chunk_index": chunk.chunk_index,
        **({"title": chunk.title} if chunk.title else {}),
        **({"page": chunk.page} if chunk.page is not None else {}),
    }
    if len(carried) > MAX_KEYS:
        raise InvalidRequest(
            f"On the s3vectors store a chunk carries at most {MAX_KEYS} metadata keys; document "
            f"{chunk.document_id} needs {len(carried)} (fewer filterable values, please).",
            param="metadata",
        )
    if _size(carried) > MAX_METADATA_BYTES:
        raise InvalidRequest(
            f"On the s3vectors store a chunk's metadata and text are at most {MAX_METADATA_BYTES} "
            f"bytes; a chunk of document {chunk.document_id} has {_size(carried)} (RAG_CHUNK_TOKENS "
            "makes chunks smaller).",
            param="metadata",
        )
    return carried


def vector_filter(brand_id: str, rag_scope: str | None, filters: Filters, now: float) -> dict[str, Any]:
    """The brand, scope, expiry and metadata filters as one S3 Vectors filter."""
    parts: list[dict[str, Any]] = [
        {"brand_id": {"$eq": brand_id}},
        {"$or": [{"expires": {"$exists": False}}, {"expires": {"$gt": now}}]},
    ]
    if rag_scope is not None:
        parts.append({"rag_scope": {"$eq": rag_scope}})
    for condition in filters:
        if condition.kind is not None:
            key = metadata_key("d" if condition.kind == "date" else "m", condition.key)
            parts += [{key: {f"${op}": bound}} for op, bound in condition.bounds]
        else:
            parts.append({metadata_key("m", condition.key): {"$in": [_typed(v) for v in condition.values]}})
    return {"$and": parts}


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
