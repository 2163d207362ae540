"""Conversations and their messages in the single table. Costs are part of the contract
(DESIGN §4): an append is one TransactWriteItems on two small items, written without reading
(the message lands at the top of the active branch: store/keys.py), a history page one Query
(parley.store.active_branch). Changing branch is parley.store.branch_moves."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.errors import StoreUnavailable
from parley.models.domain import (
    BudgetSpent,
    Charge,
    Conversation,
    ConversationSummary,
    Message,
    RunningSummary,
)
from parley.models.tree import Kin
from parley.store import items, keys
from parley.store.active_branch import CONSUMED_CAPACITY, ActiveBranchReads
from parley.store.dynamodb import error_code, transact, translated_errors
from parley.store.usage import USAGE_RETENTION_DAYS, charge_items, spent_scope

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_BATCH_ATTEMPTS = 5  # a BatchWriteItem's unprocessed items are sent again this many times in all


class ConversationStore(ActiveBranchReads):
    def __init__(
        self, table_name: str, client: DynamoDBClient, usage_retention_days: int = USAGE_RETENTION_DAYS
    ) -> None:
        self.table_name = table_name
        self.client = client
        self.usage_retention_days = usage_retention_days  # of the usage counters a write updates

    def create(self, conversation: Conversation) -> None:
        self._create_items([items.meta_item(conversation), items.profile_item(conversation)])

    def _create_items(self, puts: list[Any]) -> None:
        """A new conversation's items, all or nothing (sent again on a cancellation, as one write)."""
        failed = transact(
            self.client,
            [
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
                for item in puts
            ],
        )
        if failed:  # a fresh UUIDv7 taken already: no client can cause this
            raise RuntimeError(f"conversation items exist already: {failed}")

    def import_tree(
        self,
        conversation: Conversation,
        active: list[Message],
        archived: list[Message],
        records: dict[str, Kin],
        roots: Kin,
    ) -> None:
        """A whole conversation at once: its messages first (the active branch under MSG#, the
        others under ALT# with their parents, each with its family record), 25 to a
        BatchWriteItem, then its ~META (with the first messages' record) and ~PROFILE in one
        transaction, so it is listed and readable only once complete."""
        puts = [items.message_item(message, records[message.id]) for message in active] + [
            items.archived_item(message, records[message.id]) for message in archived
        ]
        for start in range(0, len(puts), 25):
            pending: list[Any] = [{"PutRequest": {"Item": item}} for item in puts[start : start + 25]]
            for attempt in range(_BATCH_ATTEMPTS):
                with translated_errors():
                    done = self.client.batch_write_item(
                        RequestItems={self.table_name: pending}, ReturnConsumedCapacity=CONSUMED_CAPACITY
                    )
                pending = list((done.get("UnprocessedItems") or {}).get(self.table_name, []))
                if not pending:
                    break
                time.sleep(0.05 * 2**attempt)
            if pending:
                raise StoreUnavailable("The conversation store is busy; retry the import in a moment.")
        meta = {**items.meta_item(conversation), **items.kin_attributes(roots)}
        if conversation.active_message_id is not None:
            meta["active_message_id"] = {"S": conversation.active_message_id}
        self._create_items([meta, items.profile_item(conversation)])

    def get(self, conversation_id: str) -> Conversation | None:
        """The conversation items in one Query (`SK >= ~META` covers ~META, ~NOTES and ~PROFILE)."""
        found = self._query(conversation_id, "SK >= :meta", {":meta": {"S": keys.META}}, limit=3)
        by_sk = {item["SK"]["S"]: item for item in found}
        if keys.META not in by_sk or keys.PROFILE not in by_sk or "deleted_at" in by_sk[keys.META]:
            return None
        return items.conversation_from_items(by_sk[keys.META], by_sk[keys.PROFILE], by_sk.get(keys.NOTES))

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

    def set_summary(self, conversation_id: str, summary: RunningSummary, top: str) -> bool:
        """Store the active branch's summary, if the branch still ends at `top` (else a change of
        branch came between, and the summary may not be its; the next fold makes another)."""
        failed = transact(
            self.client,
            [
                {
                    "ConditionCheck": {
                        "TableName": self.table_name,
                        "Key": {"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": keys.META}},
                        "ConditionExpression": (
                            "active_message_id = :top AND attribute_not_exists(deleted_at)"
                        ),
                        "ExpressionAttributeValues": {":top": {"S": top}},
                    }
                },
                {"Put": {"TableName": self.table_name, "Item": items.summary_item(conversation_id, summary)}},
            ],
        )
        return not failed

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
                "UpdateExpression": "ADD message_count :n SET updated_at = :now, active_message_id = :last",
                "ConditionExpression": (
                    "attribute_exists(PK) AND #owner = :owner AND attribute_not_exists(deleted_at)"
                ),
                "ExpressionAttributeNames": {"#owner": "owner"},
                "ExpressionAttributeValues": {
                    ":n": {"N": str(len(messages))},
                    ":now": {"S": now},
                    ":last": {"S": messages[-1].id},
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
            "ReturnConsumedCapacity": CONSUMED_CAPACITY,
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
