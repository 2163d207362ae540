"""Idempotency records: one item per caller, route and key (`IDEMPOTENCY#<sub>`, the digest of
route, key and grants), claimed by one attempt at a time.

A claim is a conditional PutItem that names its owner (a fresh id per attempt). DynamoDB may
apply a write whose answer is lost (a connection reset): the SDK sends it again, the condition
fails on the item the first send wrote, and the read that follows finds the claim is this
attempt's own, so the attempt goes on instead of answering itself "in progress". A claim holds a
lease as long as the attempt can run; a lease that ran out (its attempt died without a word) may
be claimed again. The attempt then completes the record with its response (replayed to every
retry until the record expires) or releases it (a failure: the key may be used again at once),
each conditioned on its ownership and tried again on a transient fault.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from parley.errors import StoreUnavailable
from parley.store.dynamodb import UNAVAILABLE_CODES, error_code, translated_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
WRITE_ATTEMPTS = 4  # a completion or release is sent this many times (each with the SDK's retries)
BACKOFF_SECONDS = 0.1


@dataclass(frozen=True)
class Claimed:
    """This attempt holds the key: run the request."""


@dataclass(frozen=True)
class Replay:
    response: dict[str, Any]


@dataclass(frozen=True)
class Busy:
    """Another attempt holds the key and its lease has not run out."""


@dataclass(frozen=True)
class Reused:
    """The key was used with another request body."""


Outcome = Claimed | Replay | Busy | Reused


@dataclass(frozen=True)
class RecordKey:
    partition: str  # IDEMPOTENCY#<sub>
    digest: str  # of route, key and grants
    body_digest: str
    owner: str  # this attempt

    def item_key(self) -> dict[str, Any]:
        return {"PK": {"S": self.partition}, "SK": {"S": self.digest}}


class IdempotencyRecords:
    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient,
        now: Callable[[], float] = time.time,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table_name = table_name
        self.client = client
        self.now = now
        self.pause = pause

    def claim(self, key: RecordKey, lease_seconds: float, ttl_seconds: int) -> Outcome:
        now = self.now()
        item = key.item_key() | {
            "status": {"S": IN_PROGRESS},
            "owner": {"S": key.owner},
            "body": {"S": key.body_digest},
            "lease_until": {"N": str(int(now + lease_seconds) + 1)},
            "expires_at": {"N": str(int(now) + ttl_seconds)},
        }
        try:
            with translated_errors():
                self.client.put_item(
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(PK) OR expires_at < :now OR "
                    "(#status = :in_progress AND lease_until < :now)",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":now": {"N": str(int(now))},
                        ":in_progress": {"S": IN_PROGRESS},
                    },
                    ReturnConsumedCapacity="TOTAL",
                )
            return Claimed()
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
        except StoreUnavailable:
            # The write may have been applied with its answer lost: the record says whose it is.
            stored = self._read(key)
            if stored is not None and stored.get("owner", {}).get("S") == key.owner:
                return Claimed()
            raise
        stored = self._read(key)
        if stored is None:  # expired and removed between the write and the read: try once more
            return self.claim(key, lease_seconds, ttl_seconds)
        return self._outcome(stored, key)

    def complete(self, key: RecordKey, response: dict[str, Any]) -> bool:
        """Keep `response` for the retries; False if it could not be written."""
        return self._write(
            key,
            lambda: self.client.update_item(
                TableName=self.table_name,
                Key=key.item_key(),
                UpdateExpression="SET #status = :completed, #response = :response REMOVE lease_until",
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#status": "status", "#response": "response", "#owner": "owner"},
                ExpressionAttributeValues={
                    ":completed": {"S": COMPLETED},
                    ":response": {"S": json.dumps(response)},
                    ":owner": {"S": key.owner},
                },
                ReturnConsumedCapacity="TOTAL",
            ),
        )

    def release(self, key: RecordKey) -> bool:
        """Give the key up (the attempt failed); False if the record could not be removed."""
        return self._write(
            key,
            lambda: self.client.delete_item(
                TableName=self.table_name,
                Key=key.item_key(),
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": key.owner}},
                ReturnConsumedCapacity="TOTAL",
            ),
        )

    def _write(self, key: RecordKey, write: Callable[[], Any]) -> bool:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                write()
                return True
            except ClientError as error:
                if error_code(error) == "ConditionalCheckFailedException":
                    return True  # applied by a send whose answer was lost, or no longer ours
                if error_code(error) not in UNAVAILABLE_CODES:
                    return False
            except BotoCoreError:
                pass
            if attempt + 1 < WRITE_ATTEMPTS:
                self.pause(BACKOFF_SECONDS * 2**attempt)
        return False

    def _read(self, key: RecordKey) -> dict[str, Any] | None:
        with translated_errors():
            item = self.client.get_item(
                TableName=self.table_name,
                Key=key.item_key(),
                ConsistentRead=True,
                ReturnConsumedCapacity="TOTAL",
            ).get("Item")
        return item

    def _outcome(self, stored: dict[str, Any], key: RecordKey) -> Outcome:
        if stored.get("owner", {}).get("S") == key.owner:
            return Claimed()  # this attempt's own claim, written by a send whose answer was lost
        if stored.get("body", {}).get("S") != key.body_digest:
            return Reused()
        if stored.get("status", {}).get("S") == COMPLETED and "response" in stored:
            return Replay(json.loads(stored["response"]["S"]))
        return Busy()
