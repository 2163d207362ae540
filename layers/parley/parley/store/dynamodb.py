"""The DynamoDB client, made once per process, and translation of its errors."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from parley.errors import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Throttling, 5xx and unanswered requests are retried by botocore's standard mode (3 attempts in
# all, jittered backoff of at most 1 s then 2 s). The worst case, three attempts that each wait out
# the read timeout plus both backoffs, is 9 s: inside the 10 s timeout of the functions that only
# touch DynamoDB, so a client gets Parley's 503 rather than API Gateway's error. DynamoDB answers
# in milliseconds; 2 s without an answer is a lost request. The endpoint comes from boto3's own
# AWS_ENDPOINT_URL_DYNAMODB.
_CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "total_max_attempts": 3},
    tcp_keepalive=True,
    max_pool_connections=32,  # one per Lambda container is enough; the local gateway shares it
)

_CONFLICT_RETRIES = 8
_UNANSWERED_RESENDS = 2  # sends of a transaction the SDK gave up on, with its token, before asking
# Cancellation reasons that say "nothing was written, try the same items again".
_RETRYABLE_CANCELLATIONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}

UNAVAILABLE_CODES = {  # capacity and service faults: nothing was done, the same call may go again
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}


def dynamodb_client() -> DynamoDBClient:
    """A client for a container's life (its composition root keeps one): connections are reused
    across invocations."""
    return boto3.client("dynamodb", config=_CLIENT_CONFIG)


class DeferredClient:
    """A client made on first use (boto3 takes tens of milliseconds to make one): it stands in
    for the client and forwards every attribute to it."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextmanager
def translated_errors() -> Iterator[None]:
    """Raise the layer's StoreUnavailable for capacity and service faults; let the rest through."""
    try:
        yield
    except ClientError as error:
        if error_code(error) in UNAVAILABLE_CODES:
            raise StoreUnavailable("The conversation store is busy; retry in a moment.") from error
        raise
    except BotoCoreError as error:
        raise StoreUnavailable("The conversation store could not be reached; retry in a moment.") from error


class ItemsRefused(Exception):
    """A transaction DynamoDB cancelled as invalid for some of its items (an item that would
    outgrow 400 KB, say): nothing was written. `positions`: those items."""

    def __init__(self, positions: list[int]) -> None:
        super().__init__(f"items {positions} refused as invalid")
        self.positions = positions


def transact(client: DynamoDBClient, transact_items: list[Any]) -> list[int]:
    """Run a TransactWriteItems; [] when written, else the positions of the items whose
    condition failed (nothing was written then).

    Concurrent writers of one item (appends to a conversation, generations of a brand) make
    DynamoDB cancel some transactions with TransactionConflict, and a hot partition with
    ThrottlingError; nothing was written then, and the same items are sent again after a
    jittered pause, with the same ClientRequestToken (DynamoDB takes a token's resend as the
    same write for ten minutes). Past the retries it is a 503 with Retry-After, never a 500.
    """
    # One token for every send of these items: a send that DynamoDB applied but whose answer was
    # lost (a reset) and a resend after a cancellation are then one write, never two or a
    # condition failing on the write's own first send.
    token = uuid.uuid4().hex
    unanswered = 0
    for attempt in range(_CONFLICT_RETRIES + 1):
        try:
            with translated_errors():
                client.transact_write_items(
                    TransactItems=transact_items, ReturnConsumedCapacity="INDEXES", ClientRequestToken=token
                )
            return []
        except StoreUnavailable:
            # Throttled or unanswered past the SDK's retries: any send may have been applied. The
            # same token may be sent again; past that, the write's own new item says whether it was.
            unanswered += 1
            if unanswered <= _UNANSWERED_RESENDS:
                time.sleep(0.1 * 2**unanswered)
                continue
            if _was_written(client, transact_items):
                return []
            raise
        except ClientError as error:
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            failed = [position for position, code in enumerate(reasons) if code == "ConditionalCheckFailed"]
            if failed:
                return failed
            if invalid := [position for position, code in enumerate(reasons) if code == "ValidationError"]:
                raise ItemsRefused(invalid) from error
            if not _RETRYABLE_CANCELLATIONS & set(reasons):
                raise
            if attempt == _CONFLICT_RETRIES:
                raise StoreUnavailable("The conversation store is busy; retry in a moment.") from error
            time.sleep(random.uniform(0, 0.01 * 2**attempt))  # full jitter
    raise AssertionError("unreachable")


def _was_written(client: DynamoDBClient, transact_items: list[Any]) -> bool:
    """Whether a transaction whose answers were all lost was applied: its first new item (a Put
    that required the key to be free; keys Parley makes are fresh UUIDv7s) is there. False when
    it has none, or the read fails too."""
    for entry in transact_items:
        put = entry.get("Put") or {}
        if "attribute_not_exists(PK)" in str(put.get("ConditionExpression", "")):
            key = {"PK": put["Item"]["PK"], "SK": put["Item"]["SK"]}
            try:
                found = client.get_item(TableName=put["TableName"], Key=key, ConsistentRead=True)
            except (ClientError, BotoCoreError):
                return False
            return "Item" in found
    return False
