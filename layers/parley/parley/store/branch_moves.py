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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from parley.models.domain import BudgetSpent, Charge, RunningSummary
from parley.models.tree import Head, KinChange, Node, Reroute
from parley.store import items, keys
from parley.store.dynamodb import transact, translated_errors
from parley.store.usage import USAGE_RETENTION_DAYS, charge_items, spent_scope

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]
MOVES_PER_TRANSACTION: Final = 40  # 80 of TransactWriteItems' 100 items, with room for the rest
BYTES_PER_TRANSACTION: Final = 3_000_000  # of its 4 MB
KEYS_PER_BATCH: Final = 100  # BatchGetItem's limit
KIN_NAMES: Final = {  # a record's fields and the attributes that store them
    "index": "sibling_index",
    "previous": "previous_sibling",
    "next": "next_sibling",
    "children": "children",
    "newest_child": "newest_child",
}


def nodes(found: list[Item], *, active: bool) -> list[Node]:
    """Stored items as nodes. An active one's parent, the message before it, is not set here: the
    reader that reads them knows where they hang (parley.logic.branching.tree)."""
    return [Node(items.message_from_item(item), items.kin_of(item), active) for item in found]


@dataclass
class _Move:
    """One message's writes in a change, and where it is stored after it."""

    node_id: str
    writes: list[Any]
    top: str
    delta: int
    size: int
    key: str  # its sort key after the change


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
        return Head(
            meta["owner"]["S"],
            top or None,
            int(meta["message_count"]["N"]),
            top is not None,
            roots=items.kin_of(meta),
        )

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
        return nodes(found, active=True)

    def active_before(self, conversation_id: str, message_id: str) -> str | None:
        """The active message before `message_id` (its parent; None for the branch's first)."""
        with translated_errors():
            found = self.client.query(
                TableName=self.table_name,
                KeyConditionExpression="PK = :pk AND SK BETWEEN :first AND :before",
                ExpressionAttributeValues={
                    ":pk": {"S": keys.conversation_pk(conversation_id)},
                    ":first": {"S": keys.MESSAGE_PREFIX},
                    ":before": {"S": keys.message_sk(message_id)},
                },
                ScanIndexForward=False,
                Limit=2,
                ConsistentRead=True,
                ReturnConsumedCapacity="INDEXES",
            )["Items"]
        earlier = [item for item in found if items.message_id_of(item) != message_id]
        return items.message_id_of(earlier[0]) if earlier else None

    def find(self, conversation_id: str, message_ids: list[str]) -> dict[str, Node]:
        """The messages of these ids, wherever they are (archived ones with their parent; an active
        one's parent is the message before it, which this does not read). One BatchGetItem per 50."""
        sort_keys = [sk for i in message_ids for sk in (keys.message_sk(i), keys.archived_message_sk(i))]
        found = {}
        for item in self._batch_get(conversation_id, sort_keys):
            [node] = nodes([item], active=item["SK"]["S"].startswith(keys.MESSAGE_PREFIX))
            found[node.id] = node
        return found

    def archived_summaries(self, conversation_id: str, through_ids: list[str]) -> dict[str, RunningSummary]:
        """The summaries kept off the active branch that run through these messages, by their id."""
        found = self._batch_get(conversation_id, [keys.archived_summary_sk(i) for i in through_ids])
        return {
            item["SK"]["S"].removeprefix(keys.ARCHIVED_SUMMARY_PREFIX): items.summary_from_item(item)
            for item in found
        }

    def archive(self, conversation_id: str) -> tuple[dict[str, Node], dict[str, RunningSummary]]:
        """Everything off the active branch: its messages by id, its summaries by the id of the
        message each runs through. It grows with the tree: an export reads it, and a change of
        branch only in a conversation whose records predate them."""
        found = self._query_all(conversation_id, "begins_with(SK, :prefix)", {":prefix": keys.ARCHIVE_PREFIX})
        messages, summaries = {}, {}
        for item in found:
            sk = item["SK"]["S"]
            if sk.startswith(keys.ARCHIVED_SUMMARY_PREFIX):
                summaries[sk.removeprefix(keys.ARCHIVED_SUMMARY_PREFIX)] = items.summary_from_item(item)
            else:
                [messages[items.message_id_of(item)]] = nodes([item], active=False)
        return messages, summaries

    def reroute(
        self, conversation_id: str, head: Head, change: Reroute, now: str, charge: Charge | None = None
    ) -> None:
        """Write the change (BranchChanged if the branch is not where `head` says, or a record the
        change rewrites is no longer what it read; BudgetSpent, with nothing of the last
        transaction written, if the charge's budget is spent)."""
        steps = self._steps(conversation_id, change)
        for number, (writes, new_top, delta) in enumerate(steps):
            last = number == len(steps) - 1
            charges = (
                charge_items(self.table_name, charge, self.usage_retention_days)
                if last and charge is not None
                else []
            )
            roots = change.kin.get(None) if last else None
            meta = self._meta_update(
                conversation_id, head=head, new_top=new_top, delta=delta, now=now, roots=roots
            )
            failed = transact(self.client, [meta, *writes, *charges])
            if failed and failed[0] > len(writes):
                raise BudgetSpent(spent_scope(failed[0] - 1 - len(writes)))
            if failed:
                raise BranchChanged
            head = Head(head.owner, new_top, head.count + delta, recorded=True, roots=head.roots)

    def _steps(self, conversation_id: str, change: Reroute) -> list[tuple[list[Any], str, int]]:
        """The change as transactions: (writes, the top after them, the change of length)."""
        moves: list[_Move] = []
        for node in change.leaving:
            moved = items.archived_item(node.message, node.kin)
            moves.append(
                _Move(
                    node.id, self._move(node, moved), node.parent_id or "", -1, _size(moved), moved["SK"]["S"]
                )
            )
        for node in change.returning:
            moved = items.message_item(node.message, node.kin)
            moves.append(_Move(node.id, self._move(node, moved), node.id, 1, _size(moved), moved["SK"]["S"]))
        for message, kin in change.new:
            put = {
                "Put": {
                    "TableName": self.table_name,
                    "Item": items.message_item(message, kin),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            moves.append(_Move(message.id, [put], message.id, 1, len(message.content) + 1_000, ""))
        if not moves:
            return []
        groups: list[list[_Move]] = [[]]
        size = 0
        for move in moves:
            if groups[-1] and (
                len(groups[-1]) >= MOVES_PER_TRANSACTION or size + move.size > BYTES_PER_TRANSACTION
            ):
                groups.append([])
                size = 0
            groups[-1].append(move)
            size += move.size
        steps: list[tuple[list[Any], str, int]] = []
        top = change.fork or ""
        for group in groups:
            top = group[-1].top
            steps.append(([w for move in group for w in move.writes], top, sum(m.delta for m in group)))
        steps[-1][0].extend(self._kin_writes(conversation_id, change, moves, groups[-1]))
        leaving, returning = change.summary_leaving, change.summary_returning
        if leaving is not None:
            # ~NOTES goes off the branch with the message it runs through; when another summary
            # comes back in the same transaction, its Put replaces ~NOTES (one write per item).
            archive = self._archive_summary(conversation_id, leaving)
            steps[0][0].extend(archive[1:] if returning is not None and len(steps) == 1 else archive)
        if returning is not None:
            steps[-1][0].extend(self._restore_summary(conversation_id, returning))
        return steps

    def _kin_writes(
        self, conversation_id: str, change: Reroute, moves: list[_Move], last: list[_Move]
    ) -> list[Any]:
        """The records the change rewrites, all in its last transaction (with the new messages they
        count): merged into a move made there, else an Update where the message is by then."""
        writes: list[Any] = []
        in_last = {move.node_id: move for move in last}
        moved = {move.node_id: move for move in moves}
        for message_id, kin_change in change.kin.items():
            if message_id is None:
                continue  # the first messages' record: ~META's update carries it
            condition, names, values = _kin_condition(kin_change)
            if message_id in in_last:
                delete, put = in_last[message_id].writes
                put["Put"]["Item"].update(items.kin_attributes(kin_change.after))
                delete["Delete"].update(ConditionExpression=condition, ExpressionAttributeNames=names)
                if values:
                    delete["Delete"]["ExpressionAttributeValues"] = values
                continue
            if message_id in moved:
                sk = moved[message_id].key
            elif kin_change.active:
                sk = keys.message_sk(message_id)
            else:
                sk = keys.archived_message_sk(message_id)
            attributes = _changed_attributes(kin_change)
            update: dict[str, Any] = {
                "TableName": self.table_name,
                "Key": self._key(conversation_id, sk),
                "UpdateExpression": "SET " + ", ".join(f"#{name} = :{name}" for name in attributes),
                "ConditionExpression": f"attribute_exists(PK) AND {condition}",
                "ExpressionAttributeNames": {**names, **{f"#{name}": name for name in attributes}},
                "ExpressionAttributeValues": {**values, **{f":{name}": v for name, v in attributes.items()}},
            }
            writes.append({"Update": update})
        return writes

    def _move(self, node: Node, moved: Item) -> list[Any]:
        sk = keys.message_sk(node.id) if node.active else keys.archived_message_sk(node.id)
        return [
            {"Delete": {"TableName": self.table_name, "Key": self._key(node.message.conversation_id, sk)}},
            {"Put": {"TableName": self.table_name, "Item": moved}},
        ]

    def _batch_get(self, conversation_id: str, sort_keys: list[str]) -> list[Item]:
        found: list[Item] = []
        for start in range(0, len(sort_keys), KEYS_PER_BATCH):
            pending: dict[str, Any] = {
                self.table_name: {
                    "Keys": [
                        self._key(conversation_id, sk) for sk in sort_keys[start : start + KEYS_PER_BATCH]
                    ],
                    "ConsistentRead": True,
                }
            }
            while pending:
                with translated_errors():
                    response = self.client.batch_get_item(
                        RequestItems=pending, ReturnConsumedCapacity="INDEXES"
                    )
                found += response["Responses"].get(self.table_name, [])
                pending = response.get("UnprocessedKeys") or {}
        return found

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
        self,
        conversation_id: str,
        *,
        head: Head,
        new_top: str,
        delta: int,
        now: str,
        roots: KinChange | None = None,
    ) -> dict[str, Any]:
        """~META's update by one transaction of a change, conditioned on the top `head` expects
        (and, with `roots`, on the first messages' record it rewrites)."""
        names = {"#owner": "owner"}
        values: dict[str, Any] = {
            ":owner": {"S": head.owner},
            ":new_top": {"S": new_top},
            ":delta": {"N": str(delta)},
            ":now": {"S": now},
        }
        setting = "SET active_message_id = :new_top, updated_at = :now"
        kin_condition = ""
        if roots is not None:
            condition, kin_names, kin_values = _kin_condition(roots)
            attributes = _changed_attributes(roots)
            setting += "".join(f", #{name} = :{name}" for name in attributes)
            names.update(kin_names, **{f"#{name}": name for name in attributes})
            values.update(kin_values, **{f":{name}": value for name, value in attributes.items()})
            kin_condition = f" AND {condition}"
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
                "UpdateExpression": f"{setting} ADD message_count :delta",
                "ConditionExpression": (
                    f"#owner = :owner AND attribute_not_exists(deleted_at) AND {expected}{kin_condition}"
                ),
                "ExpressionAttributeNames": names,
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


def _changed_attributes(change: KinChange) -> dict[str, Any]:
    """The attributes a record's change sets: those of its fields that differ."""
    after = items.kin_attributes(change.after)
    return {
        attribute: after[attribute]
        for field, attribute in KIN_NAMES.items()
        if getattr(change.before, field) != getattr(change.after, field) and attribute in after
    }


def _kin_condition(change: KinChange) -> tuple[str, dict[str, str], dict[str, Any]]:
    """That the fields a change rewrites are still as it read them (ABA-safe: a count only grows)."""
    before = items.kin_attributes(change.before)
    parts, names, values = [], {}, {}
    for field, attribute in KIN_NAMES.items():
        if getattr(change.before, field) == getattr(change.after, field):
            continue
        names[f"#was_{attribute}"] = attribute
        if attribute in before:
            values[f":was_{attribute}"] = before[attribute]
            parts.append(f"#was_{attribute} = :was_{attribute}")
        else:
            parts.append(f"attribute_not_exists(#was_{attribute})")
    return " AND ".join(parts) or "attribute_exists(PK)", names, values
