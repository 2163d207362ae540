"""How Parley's OpenSearch index looks and how it is reached: the mapping (a lucene HNSW
`knn_vector`, cosine, and the words read as the local store's FTS5 reads them), the document a
chunk becomes, the tenant filter every query carries, and the client."""

from __future__ import annotations

import math
from typing import Any

from parley.models.filters import KEY, Condition, Filters, date_millis
from parley.rag.vectors import ChunkRecord

VECTOR_FIELD = "embedding"
# Words as the local store's FTS5 reads them (`porter unicode61 remove_diacritics`): lower-cased,
# accents folded, Porter-stemmed, so BM25 matches "refunds" to "refund" in both stores.
TEXT_ANALYZER = {
    "analyzer": {
        "parley_text": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "asciifolding", "porter_stem"],
        }
    }
}


def lexical_fields(title_weight: float) -> list[str]:
    """The fields BM25 reads, the title weighted as the local store weighs its title column."""
    return ["content", f"title^{title_weight}"] if title_weight > 0 else ["content"]


# A chunk's filterable metadata: one nested entry per scalar value, its key in `k` and the value
# typed as stored: `v` a tagged keyword ("s:<string>", "b:true"), `n` a number, `d` a date (a
# string that is one, in epoch milliseconds). The fields never depend on the keys, so tenants'
# metadata cannot clash in the shared mapping or grow it.
META_FIELD = "meta"
META_MAPPING = {
    "type": "nested",
    "properties": {
        "k": {"type": "keyword"},
        "v": {"type": "keyword", "ignore_above": 300},
        "n": {"type": "double"},
        "d": {"type": "date", "format": "epoch_millis"},
    },
}


def index_mapping(dimension: int, engine: str) -> dict[str, Any]:
    return {
        "settings": {"index": {"knn": True}, "analysis": TEXT_ANALYZER},
        "mappings": {
            "properties": {
                VECTOR_FIELD: {
                    "type": "knn_vector",
                    "dimension": dimension,
                    "method": {
                        "name": "hnsw",
                        "engine": engine,
                        "space_type": "cosinesimil",
                        "parameters": {"m": 16, "ef_construction": 128},
                    },
                },
                "brand_id": {"type": "keyword"},
                "rag_scope": {"type": "keyword"},
                "document_id": {"type": "keyword"},
                "generation": {"type": "keyword"},
                "chunk_index": {"type": "integer"},
                "page": {"type": "integer"},
                "content": {"type": "text", "analyzer": "parley_text"},
                "title": {"type": "text", "analyzer": "parley_text"},
                "metadata": {"type": "object", "enabled": False},
                META_FIELD: META_MAPPING,
                "expires_at": {"type": "date"},
            }
        },
    }


def chunk_document(chunk: ChunkRecord, generation: str) -> dict[str, Any]:
    document: dict[str, Any] = {
        VECTOR_FIELD: chunk.embedding,
        "brand_id": chunk.brand_id,
        "rag_scope": chunk.rag_scope,
        "document_id": chunk.document_id,
        "generation": generation,
        "chunk_index": chunk.chunk_index,
        "content": chunk.content,
        "title": chunk.title,
        "metadata": chunk.metadata,
        META_FIELD: meta_entries(chunk.metadata),
    }
    if chunk.expires_at:
        document["expires_at"] = chunk.expires_at
    if chunk.page is not None:
        document["page"] = chunk.page
    return document


def meta_entries(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for key, value in metadata.items():
        if not isinstance(key, str) or not KEY.fullmatch(key):
            continue  # a key no filter can name
        if isinstance(value, bool):
            entries.append({"k": key, "v": f"b:{str(value).lower()}"})
        elif isinstance(value, int | float):
            if math.isfinite(value):
                entries.append({"k": key, "n": value})
        elif isinstance(value, str):
            entry: dict[str, Any] = {"k": key, "v": f"s:{value}"}
            if (epoch_ms := date_millis(value)) is not None:
                entry["d"] = epoch_ms
            entries.append(entry)
    return entries


def metadata_filters(filters: Filters) -> list[dict[str, Any]]:
    """One nested query per condition: the key and its value must be the same entry's."""
    return [
        {
            "nested": {
                "path": META_FIELD,
                "query": {"bool": {"filter": [{"term": {"meta.k": c.key}}, _value_query(c)]}},
            }
        }
        for c in filters
    ]


def _value_query(condition: Condition) -> dict[str, Any]:
    if condition.kind == "number":
        return {"range": {"meta.n": dict(condition.bounds)}}
    if condition.kind == "date":
        return {"range": {"meta.d": {op: int(bound) for op, bound in condition.bounds}}}
    tagged = [
        f"b:{str(v).lower()}" if isinstance(v, bool) else f"s:{v}"
        for v in condition.values
        if isinstance(v, bool | str)
    ]
    numbers = [v for v in condition.values if isinstance(v, int | float) and not isinstance(v, bool)]
    options: list[dict[str, Any]] = []
    if tagged:
        options.append({"terms": {"meta.v": tagged}})
    if numbers:
        options.append({"terms": {"meta.n": numbers}})
    return {"bool": {"should": options, "minimum_should_match": 1}}


def tenant_filter(brand_id: str, rag_scope: str | None, filters: Filters = ()) -> list[dict[str, Any]]:
    """Brand (always), scope (when given), not expired, and the metadata filters: applied by the
    server inside k-NN and inside the lexical query."""
    clauses: list[dict[str, Any]] = [
        {"term": {"brand_id": brand_id}},
        {
            "bool": {
                "should": [
                    {"bool": {"must_not": {"exists": {"field": "expires_at"}}}},
                    {"range": {"expires_at": {"gt": "now"}}},
                ],
                "minimum_should_match": 1,
            }
        },
    ]
    if rag_scope is not None:
        clauses.insert(1, {"term": {"rag_scope": rag_scope}})
    return clauses + metadata_filters(filters)


def opensearch_client(url: str, service: str, region: str, timeout: float = 10) -> Any:
    """A client for a plain URL (`service` "none"), or signed with SigV4 for Amazon OpenSearch
    Service ("es") or Serverless ("aoss") using the function's own credentials."""
    import boto3
    from opensearchpy import OpenSearch, Urllib3AWSV4SignerAuth, Urllib3HttpConnection

    options: dict[str, Any] = {
        "hosts": [url],
        "connection_class": Urllib3HttpConnection,
        "timeout": timeout,
        "max_retries": 2,
        # A timed-out _bulk may have been applied: sent again it would index the chunks twice
        # under new ids (a Serverless vector collection takes no ids of ours). Refused
        # connections, which sent nothing, are retried.
        "retry_on_timeout": False,
    }
    if service != "none":
        credentials = boto3.Session().get_credentials()
        options["http_auth"] = Urllib3AWSV4SignerAuth(credentials, region, service)
    return OpenSearch(**options)
