"""Stored responses of the Responses API: one item per response, `RESP#<id>` / `~META`, holding
the response object as answered, its input items, and where it lives (its conversation and the
assistant message it is), so a `previous_response_id` continues from that message. An item
expires with DynamoDB's TTL RETENTION_DAYS after it was made, as OpenAI keeps responses 30 days."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parley.models.api.responses import Response
from parley.store import keys
from parley.store.dynamodb import translated_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RETENTION_DAYS = 30


@dataclass(frozen=True)
class StoredResponse:
    response: Response
    owner: str
    brand_id: str | None
    conversation_id: str
    message_id: str  # the assistant message the response is
    input_items: list[dict[str, Any]]


class ResponseStore:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name, self.client = table_name, client

    def put(self, stored: StoredResponse) -> None:
        item: dict[str, Any] = {
            "PK": {"S": keys.response_pk(stored.response.id)},
            "SK": {"S": keys.META},
            "owner": {"S": stored.owner},
            "conversation_id": {"S": stored.conversation_id},
            "message_id": {"S": stored.message_id},
            "response": {"S": stored.response.model_dump_json()},
            "input_items": {"S": json.dumps(stored.input_items, separators=(",", ":"))},
            "expires_at": {"N": str(stored.response.created_at + RETENTION_DAYS * 86400)},
        }
        if stored.brand_id is not None:
            item["brand_id"] = {"S": stored.brand_id}
        with translated_errors():
            self.client.put_item(TableName=self.table_name, Item=item, ReturnConsumedCapacity="TOTAL")

    def get(self, response_id: str) -> StoredResponse | None:
        with translated_errors():
            item = self.client.get_item(
                TableName=self.table_name,
                Key=self._key(response_id),
                ConsistentRead=True,
                ReturnConsumedCapacity="TOTAL",
            ).get("Item")
        if item is None:
            return None
        return StoredResponse(
            response=Response.model_validate_json(item["response"]["S"]),
            owner=item["owner"]["S"],
            brand_id=item.get("brand_id", {}).get("S"),
            conversation_id=item["conversation_id"]["S"],
            message_id=item["message_id"]["S"],
            input_items=json.loads(item["input_items"]["S"]),
        )

    def delete(self, response_id: str) -> None:
        with translated_errors():
            self.client.delete_item(
                TableName=self.table_name, Key=self._key(response_id), ReturnConsumedCapacity="TOTAL"
            )

    def _key(self, response_id: str) -> dict[str, Any]:
        return {"PK": {"S": keys.response_pk(response_id)}, "SK": {"S": keys.META}}
