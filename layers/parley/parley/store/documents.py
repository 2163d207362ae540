"""The document registry: one item per RAG document (`DOC#["<brand>","<scope>","<document>"]`,
`~META`), with what the vector store needs to find the document's chunks again without a search
(the keys it returned when it indexed them) and what a client may read about it.

A vector store whose searches lag its writes (OpenSearch refreshes about once a second) cannot
find a just-indexed document by searching; the registry is read after write, so a replacement or
a deletion right after an ingestion removes exactly the chunks that ingestion wrote. Each write
is conditional on the version it replaces: of two concurrent replacements one is told so and
settles after the other."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.models.domain import DocumentRecord
from parley.store import keys
from parley.store.dynamodb import error_code, translated_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class RegistryChanged(Exception):
    """The document's item is not at the version the write expected (another request changed it)."""


BATCH_GET = 100  # keys per BatchGetItem
_OPTIONAL = ("title", "content_type", "filename", "error", "upload_id", "upload_key", "metadata_json")


class DocumentRegistry:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self.client = client

    def get(self, brand_id: str, rag_scope: str, document_id: str) -> DocumentRecord | None:
        with translated_errors():
            response = self.client.get_item(
                TableName=self.table_name,
                Key=_key(brand_id, rag_scope, document_id),
                ConsistentRead=True,
                ReturnConsumedCapacity="TOTAL",
            )
        item = response.get("Item")
        return _record(item, brand_id, rag_scope, document_id) if item else None

    def put(self, record: DocumentRecord, replaces: int | None) -> None:
        """Write `record` over the version `replaces` (None: the document must not exist yet);
        RegistryChanged when the stored item is at another version."""
        item: dict[str, Any] = _key(record.brand_id, record.rag_scope, record.document_id) | {
            "GSI1PK": {"S": keys.brand_documents_pk(record.brand_id)},
            "GSI1SK": {"S": keys.brand_documents_sk(record.rag_scope, record.document_id)},
            "version": {"N": str(record.version)},
            "status": {"S": record.status},
            "chunks": {"N": str(record.chunks)},
            "updated_at": {"S": record.updated_at},
            "store_keys": {"S": json.dumps(record.store_keys, separators=(",", ":"))},
        }
        for name in _OPTIONAL:
            if (value := getattr(record, name)) is not None:
                item[name] = {"S": value}
        if record.bytes is not None:
            item["bytes"] = {"N": str(record.bytes)}
        if record.pages is not None:
            item["pages"] = {"N": str(record.pages)}
        if record.expires_at is not None:  # DynamoDB's TTL removes the item after the document expires
            item["expires_at"] = {"N": str(int(datetime.fromisoformat(record.expires_at).timestamp()))}
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(PK)"}
            if replaces is None
            else {
                "ConditionExpression": "version = :replaces",
                "ExpressionAttributeValues": {":replaces": {"N": str(replaces)}},
            }
        )
        self._conditional(lambda: self.client.put_item(TableName=self.table_name, Item=item, **condition))

    def listing(
        self, brand_id: str, rag_scope: str | None, limit: int, after: tuple[str, str] | None = None
    ) -> tuple[list[DocumentRecord], tuple[str, str] | None]:
        """A page of the brand's documents (of one scope, when given) by scope then id, and the
        (scope, id) of the last for the next page: a Query of the user index, whose entries
        carry only keys and a title, then one BatchGetItem of the page's items."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": keys.USER_INDEX,
            "KeyConditionExpression": "GSI1PK = :brand",
            "ExpressionAttributeValues": {":brand": {"S": keys.brand_documents_pk(brand_id)}},
            "Limit": limit,
            "ReturnConsumedCapacity": "INDEXES",
        }
        if rag_scope is not None:
            request["KeyConditionExpression"] += " AND begins_with(GSI1SK, :scope)"
            request["ExpressionAttributeValues"][":scope"] = {"S": keys.scope_documents_prefix(rag_scope)}
        if after is not None:
            request["ExclusiveStartKey"] = {
                "GSI1PK": {"S": keys.brand_documents_pk(brand_id)},
                "GSI1SK": {"S": keys.brand_documents_sk(*after)},
                **_key(brand_id, *after),
            }
        with translated_errors():
            found = self.client.query(**request)
        records = self._records(brand_id, [_scope_and_id(entry) for entry in found["Items"]])
        last = found.get("LastEvaluatedKey")
        return records, (_scope_and_id(last) if last else None)

    def all_records(self, brand_id: str, rag_scope: str) -> list[DocumentRecord]:
        """Every document of the brand's scope, page after page (a folder reconcile reads them)."""
        records: list[DocumentRecord] = []
        after: tuple[str, str] | None = None
        while True:
            page, after = self.listing(brand_id, rag_scope, 100, after)
            records += page
            if after is None:
                return records

    def current_keys(
        self, brand_id: str, documents: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], frozenset[str]]:
        """The store keys of each document's current version (a document deleted since is left
        out): strongly consistent reads, a BatchGetItem per 100 documents."""
        wanted = sorted(set(documents))
        current: dict[tuple[str, str], frozenset[str]] = {}
        for start in range(0, len(wanted), BATCH_GET):
            for record in self._records(brand_id, wanted[start : start + BATCH_GET]):
                current[(record.rag_scope, record.document_id)] = frozenset(record.store_keys)
        return current

    def _records(self, brand_id: str, ids: list[tuple[str, str]]) -> list[DocumentRecord]:
        """The items of `ids` (a page, at most 100), in that order; one gone since is left out."""
        if not ids:
            return []
        wanted = [_key(brand_id, scope, document) for scope, document in ids]
        found: dict[str, dict[str, Any]] = {}
        while wanted:
            with translated_errors():
                response = self.client.batch_get_item(
                    RequestItems={self.table_name: {"Keys": wanted, "ConsistentRead": True}},
                    ReturnConsumedCapacity="TOTAL",
                )
            for item in response["Responses"].get(self.table_name, []):
                found[item["PK"]["S"]] = item
            unprocessed: dict[str, Any] = dict(response.get("UnprocessedKeys") or {})
            wanted = list(unprocessed.get(self.table_name, {}).get("Keys", []))
        return [
            _record(found[pk], brand_id, scope, document)
            for scope, document in ids
            if (pk := keys.document_pk(brand_id, scope, document)) in found
        ]

    def remove(self, record: DocumentRecord) -> None:
        """Remove the item if it is still at `record`'s version; RegistryChanged otherwise."""
        self._conditional(
            lambda: self.client.delete_item(
                TableName=self.table_name,
                Key=_key(record.brand_id, record.rag_scope, record.document_id),
                ConditionExpression="version = :version",
                ExpressionAttributeValues={":version": {"N": str(record.version)}},
            )
        )

    def _conditional(self, write: Any) -> None:
        try:
            with translated_errors():
                write()
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise RegistryChanged from None
            raise


def _scope_and_id(entry: dict[str, Any]) -> tuple[str, str]:
    scope, document = json.loads(entry["GSI1SK"]["S"])
    return str(scope), str(document)


def _key(brand_id: str, rag_scope: str, document_id: str) -> dict[str, Any]:
    return {"PK": {"S": keys.document_pk(brand_id, rag_scope, document_id)}, "SK": {"S": keys.META}}


def _record(item: dict[str, Any], brand_id: str, rag_scope: str, document_id: str) -> DocumentRecord:
    return DocumentRecord(
        brand_id=brand_id,
        rag_scope=rag_scope,
        document_id=document_id,
        version=int(item["version"]["N"]),
        status=item["status"]["S"],
        chunks=int(item["chunks"]["N"]),
        updated_at=item["updated_at"]["S"],
        store_keys=json.loads(item["store_keys"]["S"]),
        bytes=int(item["bytes"]["N"]) if "bytes" in item else None,
        pages=int(item["pages"]["N"]) if "pages" in item else None,
        expires_at=(
            datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC).isoformat()
            if "expires_at" in item
            else None
        ),
        **{name: item[name]["S"] for name in _OPTIONAL if name in item},
    )
