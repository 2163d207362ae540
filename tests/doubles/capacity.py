"""Counts DynamoDB requests and the capacity they cost (ReturnConsumedCapacity), reported as AWS
bills it. Used by the cost-budget tests (through `DynamoDBProxy`) and by `make bench` (attached
to the in-process client).

AWS bills a transaction twice (two underlying reads or writes per item: prepare and commit).
DynamoDB Local's figure for a TransactWriteItems cannot be used: it adds up the distinct per-item
figures only (two 500-byte puts report 2 units, as one does; one put of 500 bytes and one of
3,000 report 8), so a transaction's write units are computed here from its items instead, as AWS
documents it: each Put, Update, Delete and ConditionCheck costs 2 units per KB (rounded up) of
the larger of the item before and after it. The sizes are read from DynamoDB Local around the
call (`ItemSizes`); a ConditionCheck is counted as a write (the conservative reading)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
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
    _pending: ItemSizes | None = None
    _reading: bool = False  # the recorder's own reads of item sizes, not recorded

    def __enter__(self) -> CapacityRecorder:
        if self.client is not None:
            events = self.client.meta.events
            events.register("after-call.dynamodb", self._after_call, unique_id=f"capacity-{id(self)}")
            events.register(
                "provide-client-params.dynamodb.TransactWriteItems",
                self._before_transaction,
                unique_id=f"capacity-sizes-{id(self)}",
            )
        return self

    def __exit__(self, *_: object) -> None:
        if self.client is not None:
            events = self.client.meta.events
            events.unregister("after-call.dynamodb", unique_id=f"capacity-{id(self)}")
            events.unregister(
                "provide-client-params.dynamodb.TransactWriteItems", unique_id=f"capacity-sizes-{id(self)}"
            )

    def _before_transaction(self, params: dict[str, Any], **_: Any) -> None:
        if not self._reading:
            self._pending = ItemSizes(params, self._read)

    def _read(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        self._reading = True
        try:
            found: dict[str, Any] | None = self.client.get_item(
                TableName=table, Key=key, ConsistentRead=True
            ).get("Item")
            return found
        finally:
            self._reading = False

    def _after_call(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if self._reading:
            return
        units = None
        if model.name == "TransactWriteItems" and self._pending is not None:
            units = self._pending.units() if "Error" not in parsed else 0.0
            self._pending = None
        self.record(model.name, parsed, units)

    def record(self, operation: str, parsed: dict[str, Any], write_units: float | None = None) -> None:
        """One call's capacity; `write_units`, when given, replaces what DynamoDB Local reported."""
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
        written = write_units if write_units is not None else write * factor
        self.calls.append(Call(operation, read * factor, written, index * factor))

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


# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it: each attribute's name and value, in bytes."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        digits = Decimal(str(data)).normalize().as_tuple().digits
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(data) if isinstance(data, bytes | bytearray) else len(str(data).encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(_value_size(element) + 1 for element in data)
    if kind == "M":
        return 3 + sum(len(name.encode()) + _value_size(element) + 1 for name, element in data.items())
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: element}) for element in data)
    raise ValueError(f"unknown attribute type {kind}")


Reader = Callable[[str, dict[str, Any]], dict[str, Any] | None]  # (table, key) -> item or None


class ItemSizes:
    """A TransactWriteItems' items as AWS bills them: read before the call (`before`), and after it
    for what it updated (`units`)."""

    def __init__(self, request: dict[str, Any], read: Reader) -> None:
        self.request, self.read = request, read
        self.sizes: list[int] = []
        for action in request.get("TransactItems", []):
            ((kind, details),) = action.items()
            if kind == "Put":
                before = self._stored(details["TableName"], _key_of(details["Item"]))
                self.sizes.append(max(item_size(details["Item"]), before))
            else:
                self.sizes.append(self._stored(details["TableName"], details["Key"]))

    def units(self) -> float:
        """The write units of the transaction, once it succeeded."""
        total = 0.0
        for position, action in enumerate(self.request.get("TransactItems", [])):
            ((kind, details),) = action.items()
            size = self.sizes[position]
            if kind == "Update":
                size = max(size, self._stored(details["TableName"], details["Key"]))
            total += 2 * max(1, math.ceil(size / 1024))
        return total

    def _stored(self, table: str, key: dict[str, Any]) -> int:
        found = self.read(table, key)
        return item_size(found) if found else 0


def _key_of(item: dict[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in ("PK", "SK") if name in item}
