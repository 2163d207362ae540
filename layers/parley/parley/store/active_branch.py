"""Reading a conversation's active branch: the history page (document 001), the context of a
reply, the messages a running summary catches up on. One Query each; the active branch is all
there is under MSG# (store/keys.py), so none of them reads another branch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from parley.models.domain import Conversation, Message
from parley.models.tree import Kin, siblings_count
from parley.store import items, keys
from parley.store.dynamodb import translated_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONSUMED_CAPACITY: Final = (
    "INDEXES"  # free to ask for; lets tests and `make bench` read the cost of each call
)


@dataclass(frozen=True)
class HistoryPage:
    owner: str
    message_count: int
    messages: list[Message]  # chronological


@dataclass(frozen=True)
class CompletionContext:
    conversation: Conversation
    recent: list[Message]  # chronological, the newest last
    reaches_start: bool = True  # `recent` begins with the branch's first message


def on_branch(newest_first: list[dict[str, Any]], count: int, roots: Kin | None = None) -> list[Message]:
    """The newest `count` of `newest_first` (items of the active branch, each following the next
    one) in order, each with its parent: the item before it, for the oldest the one read past
    `count` (None when there is none: the branch's first message), and its place among its
    siblings, which its parent's record counts (`roots`, ~META's, for a first message)."""
    parent_item = newest_first[count] if len(newest_first) > count else None
    parent = items.message_id_of(parent_item) if parent_item is not None else None
    parent_kin = items.kin_of(parent_item) if parent_item is not None else roots
    page: list[Message] = []
    for item in reversed(newest_first[:count]):
        kin = items.kin_of(item)
        siblings = siblings_count(parent_kin, kin) if parent_kin is not None else None
        message = items.message_from_item(item, siblings)
        message.parent_id, parent, parent_kin = parent, message.id, kin
        page.append(message)
    return page


class ActiveBranchReads:
    """The reads of ConversationStore that follow the active branch."""

    table_name: str
    client: DynamoDBClient

    def history(self, conversation_id: str, limit: int, before: str | None = None) -> HistoryPage | None:
        """The latest `limit` messages of the active branch (older than message `before`, when
        given) and its length. One more message is read: the parent of the page's oldest."""
        if before is None:
            # One Query: ~META sorts right after the newest message, so it comes first.
            found = self._query(
                conversation_id,
                "SK BETWEEN :first AND :meta",
                {":first": {"S": keys.MESSAGE_PREFIX}, ":meta": {"S": keys.META}},
                limit=limit + 2,
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
                limit=limit + 2,
            )
            newest_first = [i for i in found if i["SK"]["S"] != keys.message_sk(before)][: limit + 1]
        messages = on_branch(newest_first, limit, items.kin_of(meta))
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

    def active_through(self, conversation_id: str, message_id: str, count: int) -> tuple[list[Message], bool]:
        """The newest `count` active messages up to and including `message_id`, in order, with
        their parents (one more is read for the oldest one's), and whether they start the branch."""
        found = self._query(
            conversation_id,
            "SK BETWEEN :first AND :last",
            {":first": {"S": keys.MESSAGE_PREFIX}, ":last": {"S": keys.message_sk(message_id)}},
            limit=count + 1,
        )
        return on_branch(found, count), len(found) <= count

    def messages_after(self, conversation_id: str, after: str | None, limit: int) -> list[Message]:
        """The active branch's messages after message `after` (None: from its first), oldest
        first, at most `limit`: what a running summary catches up on."""
        start = keys.message_sk(after) if after else keys.MESSAGE_PREFIX
        with translated_errors():
            found = self.client.query(
                TableName=self.table_name,
                KeyConditionExpression="PK = :pk AND SK BETWEEN :start AND :end",
                ExpressionAttributeValues={
                    ":pk": {"S": keys.conversation_pk(conversation_id)},
                    ":start": {"S": start},
                    ":end": {"S": keys.MESSAGE_PREFIX + "~"},
                },
                Limit=limit + 1,
                ConsistentRead=True,
                ReturnConsumedCapacity=CONSUMED_CAPACITY,
            )["Items"]
        if after is not None:
            found = [item for item in found if items.message_id_of(item) != after]
        messages = [items.message_from_item(item) for item in found[:limit]]
        parent = after
        for message in messages:
            message.parent_id, parent = parent, message.id
        return messages

    def completion_context(self, conversation_id: str, recent: int) -> CompletionContext | None:
        """The conversation, its running summary and the newest `recent` messages of its active
        branch in one Query (no upper bound on SK: ~PROFILE, ~NOTES, ~META, then the messages
        newest first, one more than `recent` to tell the oldest one's parent)."""
        found = self._query(
            conversation_id,
            "SK BETWEEN :first AND :profile",
            {":first": {"S": keys.MESSAGE_PREFIX}, ":profile": {"S": keys.PROFILE}},
            limit=recent + 4,
        )
        tops = {item["SK"]["S"]: item for item in found[:3] if item["SK"]["S"].startswith("~")}
        if keys.PROFILE not in tops or keys.META not in tops or "deleted_at" in tops[keys.META]:
            return None
        conversation = items.conversation_from_items(
            tops[keys.META], tops[keys.PROFILE], tops.get(keys.NOTES)
        )
        newest_first = found[len(tops) :][: recent + 1]
        return CompletionContext(
            conversation, on_branch(newest_first, recent), reaches_start=len(newest_first) <= recent
        )

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
                ReturnConsumedCapacity=CONSUMED_CAPACITY,
            )
        return list(response["Items"])

    def _get_meta(self, conversation_id: str) -> dict[str, Any] | None:
        with translated_errors():
            response = self.client.get_item(
                TableName=self.table_name,
                Key={"PK": {"S": keys.conversation_pk(conversation_id)}, "SK": {"S": keys.META}},
                ConsistentRead=True,
                ReturnConsumedCapacity=CONSUMED_CAPACITY,
            )
        return response.get("Item")
