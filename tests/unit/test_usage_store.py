"""Usage counters and budgets against moto: exact sums, budgets as write conditions, expiry."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from parley.clock import Clock
from parley.config import Settings
from parley.errors import QuotaExceeded
from parley.logic.quotas import BudgetBook, Budgets
from parley.models.domain import BudgetSpent, Charge, ModelUsage, TokenUsage, ToolUsage
from parley.store import keys
from parley.store.usage import UsageStore
from tests.unit.conftest import TABLE

DAY = "2026-11-23"


def charge(tokens: int = 10, cost: str = "0.1", model: str = "gpt-4o", **fields: Any) -> Charge:
    values: dict[str, Any] = {"brand_id": "acme", "user_id": "alice", "day": DAY, "models": {}}
    values.update(fields)
    values["models"] = {model: ModelUsage(tokens - 2, 2, Decimal(cost), 1)}
    return Charge(**values)


def test_charges_add_up_exactly_per_day_and_model(dynamodb: Any) -> None:
    store = UsageStore(TABLE, dynamodb)
    for model in ("gpt-4o", "gpt-4o", "claude-sonnet-4-6"):
        store.charge(charge(model=model))
    store.charge(charge(day="2026-11-24"))
    store.charge(charge(brand_id=None))  # unbranded usage has a partition of its own

    [first, second] = store.days("acme", DAY, "2026-11-30")

    assert (first.day, first.requests, first.total_tokens, first.cost_usd) == (DAY, 3, 30, Decimal("0.3"))
    assert first.models["gpt-4o"] == ModelUsage(16, 4, Decimal("0.2"), 2)
    assert first.models["claude-sonnet-4-6"] == ModelUsage(8, 2, Decimal("0.1"), 1)
    assert (second.day, second.requests) == ("2026-11-24", 1)
    assert store.days("acme", "2026-11-24", "2026-11-24") == [second]


def test_tool_calls_add_up_per_day_and_a_day_without_any_reads_as_none(dynamodb: Any) -> None:
    store = UsageStore(TABLE, dynamodb)
    store.charge(charge(tools=ToolUsage(calls=2, errors=1, duration_ms=120)))
    store.charge(charge(tools=ToolUsage(calls=1, errors=0, duration_ms=30)))
    store.charge(charge(day="2026-11-24"))

    first, second = store.days("acme", DAY, "2026-11-24")

    assert first.tools == ToolUsage(calls=3, errors=1, duration_ms=150)
    assert second.tools == ToolUsage()


@pytest.mark.parametrize(
    ("budgets", "scope"), [({"user_budget": 10}, "user"), ({"brand_budget": 10}, "brand")]
)
def test_a_charge_past_a_spent_budget_is_refused_and_writes_nothing(
    dynamodb: Any, budgets: dict[str, int], scope: str
) -> None:
    store = UsageStore(TABLE, dynamodb)
    store.charge(charge(tokens=10, **budgets))  # reaches the budget: allowed, it was under before

    with pytest.raises(BudgetSpent) as refused:
        store.charge(charge(tokens=10, **budgets))

    assert refused.value.scope == scope
    assert store.days("acme", DAY, DAY)[0].total_tokens == 10
    store.record(charge(tokens=10, **budgets))  # what a refused generation cost is still counted
    assert store.days("acme", DAY, DAY)[0].total_tokens == 20


def test_user_counters_expire_in_two_days_and_day_counters_after_the_retention(dynamodb: Any) -> None:
    UsageStore(TABLE, dynamodb).charge(charge())

    def expiry(sk: str) -> int:
        item = dynamodb.get_item(TableName=TABLE, Key={"PK": {"S": "USAGE#acme"}, "SK": {"S": sk}})["Item"]
        return int(item["expires_at"]["N"])

    day_start = 1795392000  # 2026-11-23T00:00:00Z
    assert expiry(keys.usage_user_sk(DAY, "alice")) == day_start + 2 * 86400
    assert expiry(keys.usage_day_sk(DAY)) == day_start + 400 * 86400


def test_a_meter_adds_up_its_calls_and_refuses_with_the_time_to_midnight(dynamodb: Any) -> None:
    evening = Clock(frozen_at=datetime(2026, 11, 23, 18, 0, 0, 500_000, tzinfo=UTC))
    defaults = Settings()
    book = BudgetBook(
        Budgets(defaults.quota_user_daily_tokens, defaults.quota_brand_daily_tokens),
        UsageStore(TABLE, dynamodb),
        evening,
        cache_seconds=60,
    )
    meter = book.open("acme", "alice")
    meter.add("gpt-4o", TokenUsage(prompt_tokens=10, completion_tokens=5, total_tokens=15), 0.00012)
    meter.add("gpt-4o", TokenUsage(prompt_tokens=1, completion_tokens=1, total_tokens=2), 0.00001)

    assert meter.charge().models == {"gpt-4o": ModelUsage(11, 6, Decimal("0.00013"), 2)}
    refusal = meter.exceeded("brand")
    assert isinstance(refusal, QuotaExceeded) and refusal.status == 429
    assert "Brand 'acme'" in refusal.message and "5,000,000 tokens" in refusal.message
    assert refusal.headers["Retry-After"] == str(6 * 3600)  # 5 h 59 min 59.5 s, rounded up
