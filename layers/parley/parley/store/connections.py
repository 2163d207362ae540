"""Users' own credentials for MCP servers, sealed (parley.sealing): one item per brand, user and
server label, `CONN#<brand>#<user>` / `<label>`; a user's connections in a brand are one Query."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from parley.models.api.connections import Connection
from parley.store import keys
from parley.store.dynamodb import translated_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class ConnectionStore:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name, self.client = table_name, client

    def put(self, brand_id: str, user_id: str, connection: Connection, sealed: str) -> None:
        item: dict[str, Any] = {
            "PK": {"S": keys.connection_pk(brand_id, user_id)},
            "SK": {"S": connection.server_label},
            "sealed": {"S": sealed},
            "shown": {"S": connection.model_dump_json()},
        }
        with translated_errors():
            self.client.put_item(TableName=self.table_name, Item=item, ReturnConsumedCapacity="TOTAL")

    def sealed(self, brand_id: str, user_id: str, server_label: str) -> str | None:
        with translated_errors():
            item = self.client.get_item(
                TableName=self.table_name,
                Key=self._key(brand_id, user_id, server_label),
                ConsistentRead=True,
                ReturnConsumedCapacity="TOTAL",
            ).get("Item")
        return item["sealed"]["S"] if item else None

    def list(self, brand_id: str, user_id: str) -> list[Connection]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": keys.connection_pk(brand_id, user_id)}},
            "ProjectionExpression": "shown",
            "ReturnConsumedCapacity": "TOTAL",
        }
        found: list[Connection] = []
        while True:
            with translated_errors():
                page = self.client.query(**request)
            found += [Connection.model_validate(json.loads(item["shown"]["S"])) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def delete(self, brand_id: str, user_id: str, server_label: str) -> None:
        with translated_errors():
            self.client.delete_item(
                TableName=self.table_name,
                Key=self._key(brand_id, user_id, server_label),
                ReturnConsumedCapacity="TOTAL",
            )

    def _key(self, brand_id: str, user_id: str, server_label: str) -> dict[str, Any]:
        return {"PK": {"S": keys.connection_pk(brand_id, user_id)}, "SK": {"S": server_label}}
