"""What the cleanup job does to conversations, found through the work index (never a Scan): the
inactive ones are hidden like a DELETE, and the hidden ones are purged item by item."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.store import keys
from parley.store.conversations import ConversationStore, hide
from parley.store.dynamodb import error_code, translated_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_BATCH = 25
ShouldStop = Callable[[], bool]


class ConversationLifecycle:
    def __init__(self, conversations: ConversationStore) -> None:
        self.conversations = conversations
        self.table_name = conversations.table_name
        self.client: DynamoDBClient = conversations.client

    def due(self, shard: int, before_day: str) -> Iterator[tuple[str, str]]:
        """(conversation id, its check key) of every conversation of the shard whose check day is
        before `before_day` (YYYY-MM-DD): it may have been inactive since."""
        for item in self._index(f"ACTIVE#{shard}", "GSI2SK < :day", {":day": {"S": before_day}}):
            yield item["PK"]["S"].removeprefix("CONV#"), item["GSI2SK"]["S"]

    def last_activity(self, conversation_id: str) -> str | None:
        """When the conversation was last written to (its ~META's updated_at), if it still exists."""
        with translated_errors():
            item = self.client.get_item(
                TableName=self.table_name,
                Key={"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": keys.META}},
                ProjectionExpression="updated_at, deleted_at",
                ConsistentRead=True,
            ).get("Item")
        return item["updated_at"]["S"] if item and "deleted_at" not in item else None

    def expire(self, conversation_id: str, check_key: str, updated_at: str, now: str) -> bool:
        """Hide an inactive conversation, unless it was written to since its activity was read."""
        condition = "GSI2SK = :seen AND updated_at = :updated"
        values = {":seen": {"S": check_key}, ":updated": {"S": updated_at}}
        return self.conversations.transact(hide(self.table_name, conversation_id, now, condition, values))

    def check_again(self, conversation_id: str, check_key: str, day: str) -> None:
        """Move a still-active conversation's check day on (to the day of its last activity)."""
        try:
            with translated_errors():
                self.client.update_item(
                    TableName=self.table_name,
                    Key={"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": keys.META}},
                    UpdateExpression="SET GSI2SK = :next",
                    ConditionExpression="GSI2SK = :seen",
                    ExpressionAttributeValues={
                        ":next": {"S": keys.activity_sk(day, conversation_id)},
                        ":seen": {"S": check_key},
                    },
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":  # moved by a run alongside
                raise

    def queued(self, shard: int) -> Iterator[str]:
        """Ids of the shard's hidden conversations waiting to be purged, the oldest first."""
        for item in self._index(f"PURGE#{shard}", None, {}):
            yield item["PK"]["S"].removeprefix("CONV#")

    def purge(self, conversation_id: str, should_stop: ShouldStop) -> bool:
        """Delete every item of a hidden conversation, ~META last (it keeps the conversation in the
        purge queue). Stops between batches when told to; True once nothing is left."""
        partition = keys.conversation_pk(conversation_id)
        batch: list[dict[str, Any]] = []
        for key in self._keys(partition):
            if key["SK"]["S"] == keys.META:
                continue
            batch.append({"DeleteRequest": {"Key": key}})
            if len(batch) == _BATCH:
                self._write(batch)
                batch = []
                if should_stop():
                    return False
        if batch:
            self._write(batch)
        try:
            with translated_errors():
                self.client.delete_item(
                    TableName=self.table_name,
                    Key={"PK": {"S": partition}, "SK": {"S": keys.META}},
                    ConditionExpression="attribute_exists(deleted_at)",
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":  # purged by a run alongside
                raise
        return True

    def _index(
        self, partition: str, condition: str | None, values: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        return self._pages(
            {
                "TableName": self.table_name,
                "IndexName": keys.WORK_INDEX,
                "KeyConditionExpression": "GSI2PK = :pk" + (f" AND {condition}" if condition else ""),
                "ExpressionAttributeValues": {":pk": {"S": partition}, **values},
            }
        )

    def _keys(self, partition: str) -> Iterator[dict[str, Any]]:
        return self._pages(
            {
                "TableName": self.table_name,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": partition}},
                "ProjectionExpression": "PK, SK",
            }
        )

    def _pages(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item a Query finds, page after page."""
        while True:
            with translated_errors():
                response = self.client.query(**request)
            yield from response["Items"]
            if "LastEvaluatedKey" not in response:
                return
            request = {**request, "ExclusiveStartKey": response["LastEvaluatedKey"]}

    def _write(self, requests: list[dict[str, Any]]) -> None:
        """One BatchWriteItem, its unprocessed items retried with backoff."""
        pending: dict[str, Any] = {self.table_name: requests}
        for attempt in range(10):
            with translated_errors():
                response = self.client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
        raise RuntimeError(f"{len(pending[self.table_name])} deletes still unprocessed after retries")
