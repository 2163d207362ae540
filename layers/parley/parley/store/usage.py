"""Daily usage counters and budget overrides in the single table (keys in `parley.store.keys`).

A generation's charge is two counter updates that ride in the transaction storing its result:
the user's day (conditioned on the user's budget) and the brand's day (conditioned on the
brand's budget, and carrying the per-model tallies the usage report reads). A counter's
condition is "still under budget before this request": the request that crosses a budget is
served, since its size is unknown until the model answers, and the next one is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from parley.config import Settings
from parley.models.domain import BudgetSpent, Charge, ModelUsage, QuotaOverride, Scope, ToolUsage
from parley.store import keys
from parley.store.dynamodb import transact, translated_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MODEL_PREFIX: Final = "model#"  # per-model attributes of a day item: model#<id>#<measure>
MODEL_MEASURES: Final = ("prompt_tokens", "completion_tokens", "cost_usd", "calls")
# Written only when not zero: the prompt tokens read from or written to a provider's cache, and
# the completion tokens a reasoning model spent thinking (parts of prompt / completion tokens).
DETAIL_MEASURES: Final = (
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "guardrail_text_units",
    "rerank_queries",
)
RATING_MEASURES: Final = ("ratings_up", "ratings_down")  # users' ratings of the model's answers
# Of a day item, written only when not zero: the calls of MCP servers' tools Parley made
TOOL_MEASURES: Final = {"tool_calls": "calls", "tool_errors": "errors", "tool_duration_ms": "duration_ms"}
USER_COUNTER_DAYS: Final = 2  # a user's day counter is only read by that day's budget checks


USAGE_RETENTION_DAYS = Settings.model_fields["usage_retention_days"].default


def spent_scope(position: int) -> Scope:
    """Which budget refused a charge, from its position among `charge_items`."""
    return "user" if position == 0 else "brand"


def charge_items(
    table: str, charge: Charge, retention_days: int = USAGE_RETENTION_DAYS, enforce: bool = True
) -> list[Any]:
    """The two counter updates of a charge, for a TransactWriteItems: the user's day, then the
    brand's. With `enforce`, each is conditioned on its budget."""
    day = date.fromisoformat(charge.day)
    user_expiry = _epoch(day + timedelta(days=USER_COUNTER_DAYS))
    day_expiry = _epoch(day + timedelta(days=retention_days))
    user = _counter_update(
        table,
        _usage_key(charge.brand_id, keys.usage_user_sk(charge.day, charge.user_id)),
        {"total_tokens": charge.total_tokens, "requests": 1},
        user_expiry,
        charge.user_budget if enforce else 0,
    )
    totals: dict[str, int | Decimal] = {
        "total_tokens": charge.total_tokens,
        "cost_usd": charge.cost_usd,
        "requests": 1,
    }
    for model, usage in charge.models.items():
        for measure in MODEL_MEASURES:
            totals[f"{MODEL_PREFIX}{model}#{measure}"] = getattr(usage, measure)
        for measure in DETAIL_MEASURES:
            if getattr(usage, measure):
                totals[f"{MODEL_PREFIX}{model}#{measure}"] = getattr(usage, measure)
    for name, measure in TOOL_MEASURES.items():
        if getattr(charge.tools, measure):
            totals[name] = getattr(charge.tools, measure)
    brand = _counter_update(
        table,
        _usage_key(charge.brand_id, keys.usage_day_sk(charge.day)),
        totals,
        day_expiry,
        charge.brand_budget if enforce else 0,
    )
    return [user, brand]


def rating_update(
    table: str,
    brand_id: str | None,
    day: str,
    model: str,
    changes: dict[str, int],
    *,
    retention_days: int = USAGE_RETENTION_DAYS,
) -> dict[str, Any]:
    """The brand's day counter update of a rating given, changed or taken back (`changes`: the
    RATING_MEASURES to add, +1 or -1), for a TransactWriteItems."""
    expiry = _epoch(date.fromisoformat(day) + timedelta(days=retention_days))
    # A day on which only ratings happened still needs the day's totals (at 0) to be read.
    amounts: dict[str, int | Decimal] = {"total_tokens": 0, "cost_usd": Decimal(0), "requests": 0}
    amounts |= {f"{MODEL_PREFIX}{model}#{measure}": change for measure, change in changes.items() if change}
    return _counter_update(table, _usage_key(brand_id, keys.usage_day_sk(day)), amounts, expiry, 0)


def _usage_key(brand_id: str | None, sk: str) -> dict[str, Any]:
    return {"PK": {"S": keys.usage_pk(brand_id)}, "SK": {"S": sk}}


def _counter_update(
    table: str, key: dict[str, Any], amounts: dict[str, int | Decimal], expires_at: int, budget: int
) -> dict[str, Any]:
    names = {f"#a{i}": name for i, name in enumerate(amounts)}
    values: dict[str, Any] = {f":a{i}": {"N": _number(amount)} for i, amount in enumerate(amounts.values())}
    values[":expires"] = {"N": str(expires_at)}
    update: dict[str, Any] = {
        "TableName": table,
        "Key": key,
        "UpdateExpression": "ADD "
        + ", ".join(f"{name} :a{i}" for i, name in enumerate(names))
        + " SET expires_at = if_not_exists(expires_at, :expires)",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    if budget > 0:
        update["ConditionExpression"] = "attribute_not_exists(#a0) OR #a0 < :budget"  # #a0: total_tokens
        values[":budget"] = {"N": str(budget)}
    return {"Update": update}


def _number(amount: int | Decimal) -> str:
    return format(amount, "f") if isinstance(amount, Decimal) else str(amount)  # never 1E-8


def _epoch(day: date) -> int:
    return (day - date(1970, 1, 1)).days * 86400


@dataclass
class DayUsage:
    day: str
    total_tokens: int
    cost_usd: Decimal
    requests: int
    models: dict[str, ModelUsage] = field(default_factory=dict)
    tools: ToolUsage = field(default_factory=ToolUsage)


class UsageStore:
    def __init__(
        self, table_name: str, client: DynamoDBClient, retention_days: int = USAGE_RETENTION_DAYS
    ) -> None:
        self.table_name = table_name
        self.client = client
        self.retention_days = retention_days

    def charge(self, charge: Charge) -> None:
        """Add a charge within its budgets, or raise BudgetSpent and write nothing."""
        failed = transact(self.client, charge_items(self.table_name, charge, self.retention_days))
        if failed:
            raise BudgetSpent(spent_scope(failed[0]))

    def record(self, charge: Charge) -> None:
        """Add a charge whatever the budgets say: the provider was paid for a refused request,
        and the day's usage must say so."""
        transact(self.client, charge_items(self.table_name, charge, self.retention_days, enforce=False))

    def override(self, brand_id: str) -> QuotaOverride | None:
        with translated_errors():
            item = self.client.get_item(
                TableName=self.table_name,
                Key=_usage_key(brand_id, keys.QUOTA),
                ReturnConsumedCapacity="INDEXES",
            ).get("Item")
        if item is None:
            return None
        return QuotaOverride(
            user_daily_tokens=int(item["user_daily_tokens"]["N"]) if "user_daily_tokens" in item else None,
            brand_daily_tokens=int(item["brand_daily_tokens"]["N"]) if "brand_daily_tokens" in item else None,
            updated_at=item["updated_at"]["S"],
        )

    def put_override(self, brand_id: str, override: QuotaOverride, updated_by: str) -> None:
        item: dict[str, Any] = {
            "PK": {"S": keys.usage_pk(brand_id)},
            "SK": {"S": keys.QUOTA},
            "updated_at": {"S": override.updated_at or ""},
            "updated_by": {"S": updated_by},
        }
        for name in ("user_daily_tokens", "brand_daily_tokens"):
            value = getattr(override, name)
            if value is not None:
                item[name] = {"N": str(value)}
        with translated_errors():
            self.client.put_item(TableName=self.table_name, Item=item, ReturnConsumedCapacity="INDEXES")

    def days(self, brand_id: str, first: str, last: str) -> list[DayUsage]:
        """The brand's usage from day `first` to day `last` (inclusive), one item per day with any."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": keys.usage_pk(brand_id)},
                ":first": {"S": keys.usage_day_sk(first)},
                ":last": {"S": keys.usage_day_sk(last)},
            },
            "ReturnConsumedCapacity": "INDEXES",
        }
        found: list[DayUsage] = []
        while True:  # a year of days is well under 1 MB: one page, unless a brand used every model
            with translated_errors():
                response = self.client.query(**request)
            found.extend(_day_usage(item) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _day_usage(item: dict[str, Any]) -> DayUsage:
    usage = DayUsage(
        day=item["SK"]["S"].removeprefix("D#"),
        total_tokens=int(item["total_tokens"]["N"]),
        cost_usd=Decimal(item["cost_usd"]["N"]),
        requests=int(item["requests"]["N"]),
    )
    for name, value in item.items():
        if name.startswith(MODEL_PREFIX):
            model, measure = name.removeprefix(MODEL_PREFIX).rsplit("#", 1)
            amount = Decimal(value["N"])
            tally = usage.models.setdefault(model, ModelUsage())
            setattr(tally, measure, amount if measure == "cost_usd" else int(amount))
        elif name in TOOL_MEASURES:
            setattr(usage.tools, TOOL_MEASURES[name], int(value["N"]))
    return usage
