"""Changing a conversation's active branch: messages move between the active branch (MSG#) and
off it (ALT#), keeping their ids, so that reading the active branch reads nothing else and an
append stays one small write (store/keys.py).

A change is a `Reroute`: the active messages that leave (newest first), the archived ones that
come back (oldest first), then any new messages. It is written in transactions of at most
`MOVES_PER_TRANSACTION` moves, each conditioned on the active message it expects at the top of
the branch and leaving a whole branch behind it (a prefix of the old one, then of the new), so a
change cut short leaves a shorter branch and the rest off it, never a broken one; the last
transaction carries the new messages and the charge of the generation that made them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from parley.models.domain import BudgetSpent, Charge, Conversation, Message, RunningSummary
from parley.store import items, keys
from parley.store.dynamodb import transact, translated_errors
from parley.store.usage import USAGE_RETENTION_DAYS, charge_items, spent_scope

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]
MOVES_PER_TRANSACTION: Final = 40  # 80 of TransactWriteItems' 100 items, with room for the rest
BYTES_PER_TRANSACTION: Final = 3_000_000  # of its 4 MB


@dataclass(frozen=True)
class Head:
    """The top of the active branch as ~META records it: what a change is conditioned on."""

    owner: str
    top: str | None  # the active branch's newest message ("" or None: none)
    count: int  # its length
    recorded: bool  # ~META names the top (a conversation written before branches does not)

    @classmethod
    def of(cls, conversation: Conversation) -> Head:
        """The head a conversation read whole shows (its ~META is read with it)."""
        return cls(
            conversation.user_id,
            conversation.active_message_id,
            conversation.message_count,
            conversation.active_recorded,
        )


@dataclass(frozen=True)
class Node:
    """A stored message as a change of branch sees it: the message, with its parent, and how it
    is stored."""

    message: Message
    item: Item

    @property
    def id(self) -> str:
        return self.message.id

    @property
    def parent_id(self) -> str | None:
        return self.message.parent_id

    @property
    def siblings(self) -> list[str]:
        branch = self.message.branch
        return branch.sibling_ids if branch is not None else [self.id]


def nodes(found: list[Item]) -> list[Node]:
    """Stored items as nodes. An active one's parent, the message before it, is not set here: the
    change that reads them knows where they hang (parley.logic.branch_plans.Tree)."""
    return [Node(items.message_from_item(item), item) for item in found]


@dataclass
class Reroute:
    """One change of the active branch. `leaving`: active messages newest first; `returning`:
    (archived message, its siblings now) oldest first; `new`: messages after them, in order."""

    leaving: list[Node] = field(default_factory=list)
    returning: list[tuple[Node, list[str]]] = field(default_factory=list)
    new: list[Message] = field(default_factory=list)
    fork: str | None = None  # the active message the branch keeps up to (None: none, a new root)
    summary_leaving: RunningSummary | None = None  # the active one, when its last message leaves
    summary_returning: RunningSummary | None = None  # an archived one whose last message returns


class BranchChanged(Exception):
    """The active branch changed between its read and this write (another request)."""


class BranchStore:
    def __init__(
        self, table_name: str, client: DynamoDBClient, usage_retention_days: int = USAGE_RETENTION_DAYS
    ) -> None:
        self.table_name = table_name
        self.client = client
        self.usage_retention_days = usage_retention_days

    def head(self, conversation_id: str) -> Head | None:
        with translated_errors():
            meta = self.client.get_item(
                TableName=self.table_name,
                Key=self._key(conversation_id, keys.META),
                ConsistentRead=True,
                ReturnConsumedCapacity="TOTAL",
            ).get("Item")
        if meta is None or "deleted_at" in meta:
            return None
        top = meta.get("active_message_id", {}).get("S")
        return Head(meta["owner"]["S"], top or None, int(meta["message_count"]["N"]), top is not None)

    def active_from(self, conversation_id: str, message_id: str | None) -> list[Node]:
        """`message_id` and every active message after it, oldest first ([] when it is not on the
        active branch); with None, the whole active branch."""
        start = keys.message_sk(message_id) if message_id else keys.MESSAGE_PREFIX
        found = self._query_all(
            conversation_id,
            "SK BETWEEN :start AND :end",
            {":start": start, ":end": keys.MESSAGE_PREFIX + "~"},
        )
        if message_id and (not found or items.message_id_of(found[0]) != message_id):
            return []
        return nodes(found)

    def archive(self, conversation_id: str) -> tuple[dict[str, Node], dict[str, RunningSummary]]:
        """Everything off the active branch: its messages by id, its summaries by the id of the
        message each runs through."""
        found = self._query_all(conversation_id, "begins_with(SK, :prefix)", {":prefix": keys.ARCHIVE_PREFIX})
        messages, summaries = {}, {}
        for item in found:
            sk = item["SK"]["S"]
            if sk.startswith(keys.ARCHIVED_SUMMARY_PREFIX):
                summaries[sk.removeprefix(keys.ARCHIVED_SUMMARY_PREFIX)] = items.summary_from_item(item)
            else:
                [messages[items.message_id_of(item)]] = nodes([item])
        return messages, summaries

    def reroute(
        self, conversation_id: str, head: Head, change: Reroute, now: str, charge: Charge | None = None
    ) -> None:
        """Write the change (BranchChanged if the branch is not where `head` says; BudgetSpent,
        with nothing of the last transaction written, if the charge's budget is spent)."""
        steps = self._steps(conversation_id, change)
        for number, (writes, new_top, delta) in enumerate(steps):
            last = number == len(steps) - 1
            charges = (
                charge_items(self.table_name, charge, self.usage_retention_days)
                if last and charge is not None
                else []
            )
            meta = self._meta_update(conversation_id, head, new_top, delta, now)
            failed = transact(self.client, [meta, *writes, *charges])
            if failed and failed[0] > len(writes):
                raise BudgetSpent(spent_scope(failed[0] - 1 - len(writes)))
            if failed:
                raise BranchChanged
            head = Head(head.owner, new_top, head.count + delta, recorded=True)

    def _steps(self, conversation_id: str, change: Reroute) -> list[tuple[list[Any], str, int]]:
        """The change as transactions: (writes, the top after them, the change of length)."""
        moves: list[tuple[list[Any], str, int, int]] = []  # writes, top after, delta, bytes
        for node in change.leaving:
            moved = items.archived_item(node.item, node.parent_id)
            moves.append((self._move(node.item, moved), node.parent_id or "", -1, _size(moved)))
        for node, siblings in change.returning:
            moved = items.restored_item(node.item, siblings)
            moves.append((self._move(node.item, moved), node.id, 1, _size(moved)))
        for message in change.new:
            put = {
                "Put": {
                    "TableName": self.table_name,
                    "Item": items.message_item(message),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            moves.append(([put], message.id, 1, len(message.content) + 1_000))
        if not moves:
            return []
        steps: list[tuple[list[Any], str, int]] = []
        writes: list[Any] = []
        top, delta, size, count = change.fork or "", 0, 0, 0
        for move_writes, move_top, move_delta, move_size in moves:
            if writes and (count >= MOVES_PER_TRANSACTION or size + move_size > BYTES_PER_TRANSACTION):
                steps.append((writes, top, delta))
                writes, delta, size, count = [], 0, 0, 0
            writes += move_writes
            top, delta, size, count = move_top, delta + move_delta, size + move_size, count + 1
        steps.append((writes, top, delta))
        leaving, returning = change.summary_leaving, change.summary_returning
        if leaving is not None:
            # ~NOTES goes off the branch with the message it runs through; when another summary
            # comes back in the same transaction, its Put replaces ~NOTES (one write per item).
            archive = self._archive_summary(conversation_id, leaving)
            steps[0][0].extend(archive[1:] if returning is not None and len(steps) == 1 else archive)
        if returning is not None:
            steps[-1][0].extend(self._restore_summary(conversation_id, returning))
        return steps

    def _move(self, item: Item, moved: Item) -> list[Any]:
        return [
            {"Delete": {"TableName": self.table_name, "Key": {"PK": item["PK"], "SK": item["SK"]}}},
            {"Put": {"TableName": self.table_name, "Item": moved}},
        ]

    def _archive_summary(self, conversation_id: str, summary: RunningSummary) -> list[Any]:
        archived = items.summary_item(
            conversation_id, summary, keys.archived_summary_sk(summary.through_message_id)
        )
        return [
            {"Delete": {"TableName": self.table_name, "Key": self._key(conversation_id, keys.NOTES)}},
            {"Put": {"TableName": self.table_name, "Item": archived}},
        ]

    def _restore_summary(self, conversation_id: str, summary: RunningSummary) -> list[Any]:
        archived = self._key(conversation_id, keys.archived_summary_sk(summary.through_message_id))
        return [
            {"Delete": {"TableName": self.table_name, "Key": archived}},
            {"Put": {"TableName": self.table_name, "Item": items.summary_item(conversation_id, summary)}},
        ]

    def _meta_update(
        self, conversation_id: str, head: Head, new_top: str, delta: int, now: str
    ) -> dict[str, Any]:
        """~META's update by one transaction of a change, conditioned on the top `head` expects."""
        values: dict[str, Any] = {
            ":owner": {"S": head.owner},
            ":new_top": {"S": new_top},
            ":delta": {"N": str(delta)},
            ":now": {"S": now},
        }
        if head.recorded:
            expected = "active_message_id = :top"
            values[":top"] = {"S": head.top or ""}
        else:  # written before branches: its top is its newest message, its length the counter
            expected = "attribute_not_exists(active_message_id) AND message_count = :count"
            values[":count"] = {"N": str(head.count)}
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": self._key(conversation_id, keys.META),
                "UpdateExpression": (
                    "SET active_message_id = :new_top, updated_at = :now ADD message_count :delta"
                ),
                "ConditionExpression": f"#owner = :owner AND attribute_not_exists(deleted_at) AND {expected}",
                "ExpressionAttributeNames": {"#owner": "owner"},
                "ExpressionAttributeValues": values,
            }
        }

    def _query_all(self, conversation_id: str, condition: str, values: dict[str, str]) -> list[Item]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": f"PK = :pk AND {condition}",
            "ExpressionAttributeValues": {
                ":pk": {"S": keys.conversation_pk(conversation_id)},
                **{name: {"S": value} for name, value in values.items()},
            },
            "ConsistentRead": True,
            "ReturnConsumedCapacity": "INDEXES",
        }
        found: list[Item] = []
        while True:
            with translated_errors():
                response = self.client.query(**request)
            found += response["Items"]
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _key(self, conversation_id: str, sk: str) -> dict[str, Any]:
        return {"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": sk}}


def _size(item: Item) -> int:
    return sum(len(name) + len(str(value)) for name, value in item.items())
