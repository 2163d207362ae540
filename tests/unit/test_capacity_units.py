"""The capacity a transaction is reported at is AWS's: 2 units per KB (rounded up) of each item,
the larger of before and after, whatever DynamoDB Local's own figure says."""

from __future__ import annotations

from typing import Any

from tests.doubles.capacity import ItemSizes, item_size

SMALL = {"PK": {"S": "CONV#1"}, "SK": {"S": "MSG#1"}, "content": {"S": "x" * 500}}
LARGE = {"PK": {"S": "CONV#1"}, "SK": {"S": "~PROFILE"}, "content": {"S": "x" * 3000}}


def test_an_items_size_counts_names_and_values() -> None:
    item = {
        "name": {"S": "héllo"},  # 4 + 6 bytes
        "count": {"N": "12345"},  # 5 + 3 digits pairs + 1
        "flag": {"BOOL": True},  # 4 + 1
        "tags": {"L": [{"S": "a"}, {"S": "bc"}]},  # 4 + 3 + (1+1) + (2+1)
    }

    assert item_size(item) == (4 + 6) + (5 + 4) + (4 + 1) + (4 + 3 + 2 + 3)


def test_two_equal_items_cost_twice_one_and_an_update_costs_its_larger_side() -> None:
    stored: dict[str, Any] = {"~PROFILE": LARGE}

    def read(table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return stored.get(key["SK"]["S"])

    request = {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": SMALL}},
            {"Put": {"TableName": "t", "Item": {**SMALL, "SK": {"S": "MSG#2"}}}},
            {"Update": {"TableName": "t", "Key": {"PK": LARGE["PK"], "SK": LARGE["SK"]}}},
        ]
    }
    sizes = ItemSizes(request, read)
    stored["~PROFILE"] = SMALL  # the update made it smaller: the larger side, before, is billed

    assert sizes.units() == 2 + 2 + 2 * 3
