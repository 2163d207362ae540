"""Counts what a DynamoDB client sends and what DynamoDB says it cost (ReturnConsumedCapacity),
for the cost-budget tests and `make bench`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    operation: str
    read_units: float
    write_units: float
    index_units: float = 0.0


@dataclass
class CapacityRecorder:
    """Attach to a boto3 DynamoDB client; every call made while attached is recorded."""

    client: Any
    calls: list[Call] = field(default_factory=list)

    def __enter__(self) -> CapacityRecorder:
        self.client.meta.events.register(
            "after-call.dynamodb", self._record, unique_id=f"capacity-{id(self)}"
        )
        return self

    def __exit__(self, *_: object) -> None:
        self.client.meta.events.unregister("after-call.dynamodb", unique_id=f"capacity-{id(self)}")

    def _record(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity") or []
        consumed = [consumed] if isinstance(consumed, dict) else consumed
        read = sum(c.get("ReadCapacityUnits", 0) or 0 for c in consumed)
        write = sum(c.get("WriteCapacityUnits", 0) or 0 for c in consumed)
        if not read and not write:  # some responses report only the total
            total = sum(c.get("CapacityUnits", 0) or 0 for c in consumed)
            read, write = (0, total) if _writes(model.name) else (total, 0)
        index = sum(
            units.get("CapacityUnits", 0) or 0
            for c in consumed
            for units in (c.get("GlobalSecondaryIndexes") or {}).values()
        )
        self.calls.append(Call(model.name, read, write, index))

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
