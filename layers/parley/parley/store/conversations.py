"""Conversations and their messages in the single table. Costs are part of the contract
(DESIGN §4): an append is one TransactWriteItems on two small items, a history page one Query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from parley.models.domain import BudgetSpent, Charge, Conversation, ConversationSummary, Message
from parley.store import items, keys
from parley.store.dynamodb import error_code, transact, translated_errors
from parley.store.usage import USAGE_RETENTION_DAYS, charge_items, spent_scope

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CAPACITY: Final = "INDEXES"  # free to ask for; lets tests and `make bench` read the cost of each call


@dataclass(frozen=True)
class HistoryPage:
    owner: str
    message_count: int
    messages: list[Message]  # chronological


@dataclass(frozen=True)
class CompletionContext:
    conversation: Conversation
    recent: list[Message]  # chronological, the newest last


class ConversationStore:
    def __init__(
        self, table_name: str, client: DynamoDBClient, usage_retention_days: int = USAGE_RETENTION_DAYS
    ) -> None:
        self.table_name = table_name
        self.client = client
        self.usage_retention_days = usage_retention_days  # of the usage counters a write updates

    def create(self, conversation: Conversation) -> None:
        puts = [items.meta_item(conversation), items.profile_item(conversation)]
        with translated_errors():
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    }
                    for item in puts
                ],
                ReturnConsumedCapacity=_CAPACITY,
            )

    def get(self, conversation_id: str) -> Conversation | None:
        """Both conversation items in one Query (`SK >= ~META` covers ~META and ~PROFILE only)."""
        found = self._query(conversation_id, "SK >= :meta", {":meta": {"S": keys.META}}, limit=2)
        by_sk = {item["SK"]["S"]: item for item in found}
        if keys.META not in by_sk or keys.PROFILE not in by_sk or "deleted_at" in by_sk[keys.META]:
            return None
        return items.conversation_from_items(by_sk[keys.META], by_sk[keys.PROFILE])

    def history(self, conversation_id: str, limit: int, before: str | None = None) -> HistoryPage | None:
        """The latest `limit` messages (older than message `before`, when given) and the counter."""
        if before is None:
            # One Query: ~META sorts right after the newest message, so it comes first.
            found = self._query(
                conversation_id,
                "SK BETWEEN :first AND :meta",
                {":first": {"S": keys.MESSAGE_PREFIX}, ":meta": {"S": keys.META}},
                limit=limit + 1,
            )
            if not found or found[0]["SK"]["S"] != keys.META or "deleted_at" in found[0]:
                return None
            meta, newest_first = found[0], found[1:]
        else:
            found_meta = self._get_meta(conversation_id)
            if found_meta is None or "deleted_at" in found_meta:
                return None
            meta = found_meta
            # BETWEEN is inclusive: the `before` message itself is read and left out.
            found = self._query(
                conversation_id,
                "SK BETWEEN :first AND :before",
                {":first": {"S": keys.MESSAGE_PREFIX}, ":before": {"S": keys.message_sk(before)}},
                limit=limit + 1,
            )
            newest_first = [i for i in found if i["SK"]["S"] != keys.message_sk(before)][:limit]
        messages = [items.message_from_item(item) for item in reversed(newest_first)]
        if messages and "has_feedback" in meta:
            messages = self._with_feedback(conversation_id, messages)
        return HistoryPage(meta["owner"]["S"], int(meta["message_count"]["N"]), messages)

    def _with_feedback(self, conversation_id: str, messages: list[Message]) -> list[Message]:
        """The page's messages with their feedback: one Query of the feedback items between the
        page's oldest and newest message (made only once the conversation has any feedback)."""
        found = self._query(
            conversation_id,
            "SK BETWEEN :oldest AND :newest",
            {
                ":oldest": {"S": keys.feedback_sk(messages[0].id)},
                ":newest": {"S": keys.feedback_sk(messages[-1].id)},
            },
            limit=len(messages),
        )
        feedback = {
            item["SK"]["S"].removeprefix(keys.FEEDBACK_PREFIX): items.feedback_from_item(item)
            for item in found
        }
        return [
            m.model_copy(update={"feedback": feedback[m.id]}) if m.id in feedback else m for m in messages
        ]

    def set_title(self, conversation_id: str, title: str) -> bool:
        """Write a generated title, unless the user set one or the conversation is gone; False
        then. One UpdateItem of ~PROFILE (whose user-index entry the listing reads)."""
        with translated_errors():
            try:
                self.client.update_item(
                    TableName=self.table_name,
                    Key={"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": keys.PROFILE}},
                    UpdateExpression="SET title = :title, title_generated = :yes",
                    ConditionExpression="attribute_exists(PK) AND "
                    "(attribute_not_exists(title) OR attribute_exists(title_generated))",
                    ExpressionAttributeValues={":title": {"S": title}, ":yes": {"BOOL": True}},
                    ReturnConsumedCapacity="INDEXES",
                )
            except ClientError as error:
                if error_code(error) == "ConditionalCheckFailedException":
                    return False
                raise
        return True

    def completion_context(self, conversation_id: str, recent: int) -> CompletionContext | None:
        """The conversation and its newest `recent` messages in one Query (no upper bound on SK:
        ~PROFILE, then ~META, then messages newest first)."""
        found = self._query(
            conversation_id,
            "SK BETWEEN :first AND :profile",
            {":first": {"S": keys.MESSAGE_PREFIX}, ":profile": {"S": keys.PROFILE}},
            limit=recent + 2,
        )
        if len(found) < 2 or found[0]["SK"]["S"] != keys.PROFILE or found[1]["SK"]["S"] != keys.META:
            return None
        if "deleted_at" in found[1]:
            return None
        conversation = items.conversation_from_items(found[1], found[0])
        messages = [items.message_from_item(item) for item in reversed(found[2:])]
        return CompletionContext(conversation, messages)

    def append(
        self,
        conversation_id: str,
        owner: str,
        messages: list[Message],
        now: str,
        charge: Charge | None = None,
    ) -> bool:
        """Write `messages` and add them to the counter, all or nothing, in one round trip; with
        the `charge` of the generation that made them, within its budgets.

        Returns False when the conversation does not exist or belongs to someone else; raises
        BudgetSpent (writing nothing) when a budget of the charge is already spent.
        """
        update = {
            "Update": {
                "TableName": self.table_name,
                "Key": {"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": keys.META}},
                "UpdateExpression": "ADD message_count :n SET updated_at = :now",
                "ConditionExpression": (
                    "attribute_exists(PK) AND #owner = :owner AND attribute_not_exists(deleted_at)"
                ),
                "ExpressionAttributeNames": {"#owner": "owner"},
                "ExpressionAttributeValues": {
                    ":n": {"N": str(len(messages))},
                    ":now": {"S": now},
                    ":owner": {"S": owner},
                },
            }
        }
        puts = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": items.message_item(message),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for message in messages
        ]
        charges = (
            charge_items(self.table_name, charge, self.usage_retention_days) if charge is not None else []
        )
        failed = transact(self.client, [update, *puts, *charges])
        if failed and failed[0] > len(puts):
            raise BudgetSpent(spent_scope(failed[0] - 1 - len(puts)))
        return not failed

    def delete(self, conversation_id: str, owner: str, now: str) -> bool:
        """Hide the conversation at once and queue it for the cleanup job, which purges its items:
        so a DELETE costs the same for 10 messages as for 10,000. False if missing or not the owner's."""
        return self.transact(
            hide(self.table_name, conversation_id, now, "#owner = :owner", {":owner": {"S": owner}})
        )

    def list_for_owner(
        self, owner: str, limit: int, after: str | None = None
    ) -> tuple[list[ConversationSummary], str | None]:
        """A page of the owner's conversations, newest first, from the user index. `after` and the
        returned cursor are the index sort key of the last conversation of the previous page."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": keys.USER_INDEX,
            "KeyConditionExpression": "GSI1PK = :user",
            "ExpressionAttributeValues": {":user": {"S": keys.user_pk(owner)}},
            "ScanIndexForward": False,
            "Limit": limit,
            "ReturnConsumedCapacity": _CAPACITY,
        }
        if after is not None:
            conversation_id = after.rsplit("#", 1)[-1]
            request["ExclusiveStartKey"] = {
                "GSI1PK": {"S": keys.user_pk(owner)},
                "GSI1SK": {"S": after},
                "PK": {"S": keys.conversation_pk(conversation_id)},
                "SK": {"S": keys.PROFILE},
            }
        with translated_errors():
            response = self.client.query(**request)
        summaries = [items.summary_from_index_item(item) for item in response["Items"]]
        last = response.get("LastEvaluatedKey")
        return summaries, (last["GSI1SK"]["S"] if last else None)

    def _query(
        self, conversation_id: str, sk_condition: str | None, values: dict[str, Any], limit: int
    ) -> list[dict[str, Any]]:
        condition = "PK = :pk" + (f" AND {sk_condition}" if sk_condition else "")
        with translated_errors():
            response = self.client.query(
                TableName=self.table_name,
                KeyConditionExpression=condition,
                ExpressionAttributeValues={":pk": {"S": keys.conversation_pk(conversation_id)}, **values},
                ScanIndexForward=False,
                Limit=limit,
                ConsistentRead=True,  # read-your-writes: a client reads history right after appending
                ReturnConsumedCapacity=_CAPACITY,
            )
        return list(response["Items"])

    def _get_meta(self, conversation_id: str) -> dict[str, Any] | None:
        with translated_errors():
            response = self.client.get_item(
                TableName=self.table_name,
                Key={"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": keys.META}},
                ConsistentRead=True,
                ReturnConsumedCapacity=_CAPACITY,
            )
        return response.get("Item")

    def transact(self, transact_items: list[Any]) -> bool:
        """Run a transaction whose first item carries the existence/ownership condition; False
        when that condition fails."""
        failed = transact(self.client, transact_items)
        if failed and failed[0] != 0:
            raise AssertionError(f"unexpected condition failure at item {failed[0]}")
        return not failed


def hide(table: str, conversation_id: str, now: str, condition: str, values: dict[str, Any]) -> list[Any]:
    """The transaction that deletes a conversation as readers see it: ~META is marked deleted and
    moved from the activity set to the purge set of the work index, and ~PROFILE leaves the user
    index. `condition` (on ~META, besides "exists and not yet deleted") guards who may do it."""
    mark: dict[str, Any] = {
        "TableName": table,
        "Key": {"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": keys.META}},
        "UpdateExpression": "SET deleted_at = :now, GSI2PK = :purge, GSI2SK = :queued",
        "ConditionExpression": f"attribute_exists(PK) AND attribute_not_exists(deleted_at) AND {condition}",
        "ExpressionAttributeValues": {
            ":now": {"S": now},
            ":purge": {"S": keys.purge_pk(conversation_id)},
            ":queued": {"S": f"{now}#{conversation_id}"},
            **values,
        },
    }
    if "#owner" in condition:
        mark["ExpressionAttributeNames"] = {"#owner": "owner"}
    return [
        {"Update": mark},
        {
            "Update": {
                "TableName": table,
                "Key": {"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": keys.PROFILE}},
                "UpdateExpression": "REMOVE GSI1PK, GSI1SK",
            }
        },
    ]
