"""Ratings of assistant messages: one small item per rated message (`CONV#<id>`, `FB#<message id>`)
beside the messages, never a rewrite of a message; the brand's day counters count ups and downs
per model, in the same transaction; the conversation's ~META gets a `has_feedback` mark once, so
history pages look for ratings only in conversations that have some."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.models.domain import Feedback, Message
from parley.store import items, keys
from parley.store.dynamodb import transact, translated_errors
from parley.store.usage import USAGE_RETENTION_DAYS, rating_update

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class FeedbackChanged(Exception):
    """The rating changed between its read and this write (another request): try again."""


class FeedbackStore:
    def __init__(
        self, table_name: str, client: DynamoDBClient, usage_retention_days: int = USAGE_RETENTION_DAYS
    ) -> None:
        self.table_name = table_name
        self.client = client
        self.usage_retention_days = usage_retention_days  # of the usage counters a write updates

    def message(self, conversation_id: str, message_id: str) -> Message | None:
        item = self._get(conversation_id, keys.message_sk(message_id))
        return items.message_from_item(item) if item else None

    def rating(self, conversation_id: str, message_id: str) -> tuple[Feedback, str, str] | None:
        """The message's rating, the model it rated and the day it was counted on."""
        item = self._get(conversation_id, keys.feedback_sk(message_id))
        if item is None:
            return None
        return items.feedback_from_item(item), item["model"]["S"], item.get("day", {}).get("S", "")

    def put(
        self,
        conversation_id: str,
        message_id: str,
        feedback: Feedback,
        *,
        model: str,
        brand_id: str | None,
        previous: tuple[Feedback, str, str] | None,
        mark_conversation: bool,
    ) -> None:
        """Write the rating over `previous` (None: there was none) and move the day counters."""
        day = feedback.updated_at[:10]
        item = items.feedback_item(conversation_id, message_id, feedback, model) | {"day": {"S": day}}
        writes: list[Any] = [
            {"Put": {"TableName": self.table_name, "Item": item, **self._unchanged(previous)}}
        ]
        writes += self._counters(brand_id, previous, (feedback.rating, model, day))
        if mark_conversation:
            writes.append(self._mark(conversation_id))
        if transact(self.client, writes):
            raise FeedbackChanged

    def delete(
        self,
        conversation_id: str,
        message_id: str,
        *,
        brand_id: str | None,
        previous: tuple[Feedback, str, str],
    ) -> None:
        key = {"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": keys.feedback_sk(message_id)}}
        writes: list[Any] = [
            {"Delete": {"TableName": self.table_name, "Key": key, **self._unchanged(previous)}}
        ]
        writes += self._counters(brand_id, previous, None)
        if transact(self.client, writes):
            raise FeedbackChanged

    def _counters(
        self,
        brand_id: str | None,
        previous: tuple[Feedback, str, str] | None,
        new: tuple[str, str, str] | None,
    ) -> list[Any]:
        """Take the previous rating back from the day it was counted on, count the new one today."""
        changes: dict[tuple[str, str], dict[str, int]] = {}
        counted: list[tuple[str, str, str, int]] = (
            [(previous[0].rating, previous[1], previous[2], -1)] if previous is not None else []
        )
        if new is not None:
            counted.append((*new, 1))
        for rating, model, day, step in counted:
            change = changes.setdefault((day, model), {})
            change[f"ratings_{rating}"] = change.get(f"ratings_{rating}", 0) + step
        return [
            rating_update(
                self.table_name, brand_id, day, model, change, retention_days=self.usage_retention_days
            )
            for (day, model), change in changes.items()
            if day and any(change.values())
        ]

    def _unchanged(self, previous: tuple[Feedback, str, str] | None) -> dict[str, Any]:
        if previous is None:
            return {"ConditionExpression": "attribute_not_exists(PK)"}
        return {
            "ConditionExpression": "updated_at = :seen",
            "ExpressionAttributeValues": {":seen": {"S": previous[0].updated_at}},
        }

    def _mark(self, conversation_id: str) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": {"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": keys.META}},
                "UpdateExpression": "SET has_feedback = :yes",
                "ConditionExpression": "attribute_exists(PK)",
                "ExpressionAttributeValues": {":yes": {"BOOL": True}},
            }
        }

    def _get(self, conversation_id: str, sk: str) -> dict[str, Any] | None:
        with translated_errors():
            response = self.client.get_item(
                TableName=self.table_name,
                Key={"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": sk}},
                ConsistentRead=True,
                ReturnConsumedCapacity="TOTAL",
            )
        return response.get("Item")
