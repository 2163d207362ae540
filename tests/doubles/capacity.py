"""Counts DynamoDB requests and the capacity they cost (ReturnConsumedCapacity), reported as AWS
bills it: DynamoDB Local reports a transactional write or read at the units of a plain one, while
AWS bills transactions twice (two underlying reads or writes per item: prepare and commit), so
TransactWriteItems and TransactGetItems are doubled here. Used by the cost-budget tests (through
`DynamoDBProxy`) and by `make bench` (attached to the in-process client)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling
TRANSACTIONAL = ("TransactWriteItems", "TransactGetItems")


@dataclass
class Call:
    operation: str
    read_units: float
    write_units: float
    index_units: float = 0.0


@dataclass
class CapacityRecorder:
    """Attach to a boto3 DynamoDB client (`with CapacityRecorder(client)`), or receive calls from
    a proxy (`record`); every call made while attached is recorded."""

    client: Any = None
    calls: list[Call] = field(default_factory=list)

    def __enter__(self) -> CapacityRecorder:
        if self.client is not None:
            self.client.meta.events.register(
                "after-call.dynamodb", self._after_call, unique_id=f"capacity-{id(self)}"
            )
        return self

    def __exit__(self, *_: object) -> None:
        if self.client is not None:
            self.client.meta.events.unregister("after-call.dynamodb", unique_id=f"capacity-{id(self)}")

    def _after_call(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        self.record(model.name, parsed)

    def record(self, operation: str, parsed: dict[str, Any]) -> None:
        consumed = parsed.get("ConsumedCapacity") or []
        consumed = [consumed] if isinstance(consumed, dict) else consumed
        read = sum(c.get("ReadCapacityUnits", 0) or 0 for c in consumed)
        write = sum(c.get("WriteCapacityUnits", 0) or 0 for c in consumed)
        if not read and not write:  # some responses report only the total
            total = sum(c.get("CapacityUnits", 0) or 0 for c in consumed)
            read, write = (0, total) if _writes(operation) else (total, 0)
        index = sum(
            units.get("CapacityUnits", 0) or 0
            for c in consumed
            for units in (c.get("GlobalSecondaryIndexes") or {}).values()
        )
        factor = 2 if operation in TRANSACTIONAL else 1
        self.calls.append(Call(operation, read * factor, write * factor, index * factor))

    @property
    def operations(self) -> list[str]:
        return [call.operation for call in self.calls]

    @property
    def write_units(self) -> float:
        return sum(call.write_units for call in self.calls)

    @property
    def index_units(self) -> float:
        return sum(call.index_units for call in self.calls)

    @property
    def read_units(self) -> float:
        return sum(call.read_units for call in self.calls)


def _writes(operation: str) -> bool:
    return operation.startswith(("Put", "Update", "Delete", "BatchWrite", "TransactWrite"))
