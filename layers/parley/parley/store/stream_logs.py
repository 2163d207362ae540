"""The event logs of streamed answers, so that a client whose connection dropped re-attaches to
its answer from any instance (parley.edge.resumable). One partition per generation, `GEN#<id>`:

    ~META        who started it (owner, the digest of their grants, the route), until when it may
                 run, and `cancelled` once a client asked it to stop; written once at the start.
                 An Idempotency-Key's alias (`GEN#key-<digest>`) is a ~META naming its generation.
    EV#<last>    a run of consecutive events, coalesced: `first_event` (its first event's number),
                 `events` (the events' SSE frames, NUL-separated, zlib-compressed) and
                 `last_run` on the run that ends the stream. Keyed by the number of its LAST event,
                 so the runs holding anything after event n are exactly `SK > EV#<n>`.

Every item expires with DynamoDB's TTL `ttl_seconds` after the stream started. A run is written
once and never updated: an answer costs one write for its ~META and one per run, each billed by
its compressed size (1 WCU per KB), whatever the answer's length."""

from __future__ import annotations

import re
import time
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parley.store.dynamodb import translated_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

META = "~META"
RUN_PREFIX = "EV#"
NUMBER_DIGITS = 9  # an event's number, zero-padded so key order is number order
ORIGIN_WAITS, ORIGIN_WAIT_SECONDS = 8, 0.25  # how long an origin is looked for before it is unknown
SEPARATOR = b"\0"  # never inside a frame: JSON escapes it
GENERATION_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def is_generation_id(value: str) -> bool:
    return bool(GENERATION_ID.match(value))


def generation_pk(generation_id: str) -> str:
    return f"GEN#{generation_id}"


def run_sk(last: int) -> str:
    return f"{RUN_PREFIX}{last:0{NUMBER_DIGITS}d}"


@dataclass(frozen=True)
class StreamOrigin:
    """What a re-attaching request is checked against."""

    owner: str
    grants: str  # digest of the grants the authorizer verified for the first request
    route: str  # `POST /v1/...`, ids filled in
    ends_by: int  # epoch second after which nothing more will be written
    cancelled: bool = False
    points_to: str | None = None  # an alias's generation (an Idempotency-Key's)


@dataclass(frozen=True)
class Run:
    first: int
    events: list[bytes]
    final: bool

    @property
    def last(self) -> int:
        return self.first + len(self.events) - 1


class StreamLogs:
    def __init__(self, table_name: str, client: DynamoDBClient, ttl_seconds: int) -> None:
        self.table_name, self.client, self.ttl_seconds = table_name, client, ttl_seconds

    def open(self, generation_id: str, origin: StreamOrigin, now: int, points_to: str | None = None) -> None:
        """The generation's ~META; with `points_to`, an alias's, naming the generation."""
        item = {
            "PK": {"S": generation_pk(generation_id)},
            "SK": {"S": META},
            "owner": {"S": origin.owner},
            "grants": {"S": origin.grants},
            "route": {"S": origin.route},
            "ends_by": {"N": str(origin.ends_by)},
            "expires_at": {"N": str(now + self.ttl_seconds)},
        }
        if points_to is not None:
            item["points_to"] = {"S": points_to}
        with translated_errors():
            self.client.put_item(TableName=self.table_name, Item=item, ReturnConsumedCapacity="TOTAL")

    def forget(self, generation_id: str) -> None:
        with translated_errors():
            self.client.delete_item(
                TableName=self.table_name,
                Key={"PK": {"S": generation_pk(generation_id)}, "SK": {"S": META}},
                ReturnConsumedCapacity="TOTAL",
            )

    def append(self, generation_id: str, run: Run, now: int) -> None:
        item: dict[str, Any] = {
            "PK": {"S": generation_pk(generation_id)},
            # An empty last run is keyed after the run before it (whose last event is first - 1).
            "SK": {"S": run_sk(max(run.last, run.first))},
            "first_event": {"N": str(run.first)},
            "events": {"B": zlib.compress(SEPARATOR.join(run.events))},
            "expires_at": {"N": str(now + self.ttl_seconds)},
        }
        if run.final:
            item["last_run"] = {"BOOL": True}
        with translated_errors():
            self.client.put_item(TableName=self.table_name, Item=item, ReturnConsumedCapacity="TOTAL")

    def origin(self, generation_id: str, consistent: bool = True) -> StreamOrigin | None:
        with translated_errors():
            item = self.client.get_item(
                TableName=self.table_name,
                Key={"PK": {"S": generation_pk(generation_id)}, "SK": {"S": META}},
                ConsistentRead=consistent,
                ReturnConsumedCapacity="TOTAL",
            ).get("Item")
        if item is None:
            return None
        return StreamOrigin(
            owner=item["owner"]["S"],
            grants=item["grants"]["S"],
            route=item["route"]["S"],
            ends_by=int(item["ends_by"]["N"]),
            cancelled=item.get("cancelled", {}).get("BOOL", False),
            points_to=item.get("points_to", {}).get("S"),
        )

    def origin_soon(self, generation_id: str) -> StreamOrigin | None:
        """The stream's origin; a stream just started writes it a moment after its first events
        (parley.edge.resumable), so a request naming it is not told too soon it does not exist."""
        for _ in range(ORIGIN_WAITS):
            origin = self.origin(generation_id)
            if origin is not None:
                return origin
            time.sleep(ORIGIN_WAIT_SECONDS)
        return self.origin(generation_id)

    def cancel(self, generation_id: str) -> bool:
        """Ask a running generation to stop; False when there is no such stream."""
        with translated_errors():
            try:
                self.client.update_item(
                    TableName=self.table_name,
                    Key={"PK": {"S": generation_pk(generation_id)}, "SK": {"S": META}},
                    UpdateExpression="SET cancelled = :yes",
                    ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeValues={":yes": {"BOOL": True}},
                    ReturnConsumedCapacity="TOTAL",
                )
            except self.client.exceptions.ConditionalCheckFailedException:
                return False
        return True

    def finished(self, generation_id: str) -> bool:
        """Whether the stream's last run is logged (one read of its newest run)."""
        with translated_errors():
            items = self.client.query(
                TableName=self.table_name,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :runs)",
                ExpressionAttributeValues={
                    ":pk": {"S": generation_pk(generation_id)},
                    ":runs": {"S": RUN_PREFIX},
                },
                ScanIndexForward=False,
                Limit=1,
                ConsistentRead=True,
                ProjectionExpression="last_run",
                ReturnConsumedCapacity="TOTAL",
            ).get("Items", [])
        return bool(items) and items[0].get("last_run", {}).get("BOOL", False)

    def runs_after(self, generation_id: str, number: int) -> list[Run]:
        """The runs holding events after event `number` (-1: from the first), in order."""
        runs: list[Run] = []
        start: dict[str, Any] | None = None
        while True:
            query: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "PK = :pk AND SK BETWEEN :after AND :end",
                "ExpressionAttributeValues": {
                    ":pk": {"S": generation_pk(generation_id)},
                    ":after": {"S": run_sk(number + 1)},
                    ":end": {"S": RUN_PREFIX + "9" * NUMBER_DIGITS},
                },
                "ConsistentRead": True,
                "ReturnConsumedCapacity": "TOTAL",
            }
            if start is not None:
                query["ExclusiveStartKey"] = start
            with translated_errors():
                page = self.client.query(**query)
            for item in page.get("Items", []):
                data = zlib.decompress(item["events"]["B"])
                events = data.split(SEPARATOR) if data else []
                runs.append(
                    Run(int(item["first_event"]["N"]), events, item.get("last_run", {}).get("BOOL", False))
                )
            start = page.get("LastEvaluatedKey")
            if start is None:
                return runs
