"""Daily token budgets: what a request may spend, and what it spent.

A `Meter` follows one request's generations. It is opened once the brand is known (before any
provider call), refuses at once when this container already knows a budget is spent, adds up
each provider call, and becomes the `Charge` written with the request's result. The write is
what enforces the budgets, atomically, on the counters; a refusal there is remembered until the
day ends (or the budget changes), so a container pays for at most one refused generation a day.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from parley.clock import Clock
from parley.errors import QuotaExceeded
from parley.models.domain import BudgetSpent, Charge, ModelUsage, QuotaOverride, Scope, TokenUsage, ToolUsage
from parley.store.usage import DETAIL_MEASURES, UsageStore


@dataclass(frozen=True)
class Budgets:
    """Daily tokens a user (in one brand) and a whole brand may use; 0 means no limit."""

    user_daily_tokens: int
    brand_daily_tokens: int

    def of(self, scope: Scope) -> int:
        return self.user_daily_tokens if scope == "user" else self.brand_daily_tokens


def budgets_with(defaults: Budgets, override: QuotaOverride | None) -> Budgets:
    """The budgets in effect: the override's where it sets one, else the configured default."""
    if override is None:
        return defaults
    return Budgets(
        defaults.user_daily_tokens if override.user_daily_tokens is None else override.user_daily_tokens,
        defaults.brand_daily_tokens if override.brand_daily_tokens is None else override.brand_daily_tokens,
    )


SpentKey = tuple[Scope, str | None, str | None, str]


class BudgetBook:
    """What one container knows of the budgets: the brands' budgets as last read (at most once per
    `cache_seconds`), and the budgets known to be spent today."""

    def __init__(
        self,
        defaults: Budgets,
        usage: UsageStore,
        clock: Clock,
        cache_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.defaults = defaults
        self.usage = usage
        self.clock = clock
        self.cache_seconds = cache_seconds
        self.monotonic = monotonic
        self._budgets: dict[str, tuple[Budgets, float]] = {}
        self.spent: dict[SpentKey, int] = {}

    def budgets_for(self, brand_id: str | None) -> Budgets:
        """The brand's budgets: its override where it has one, else the configured defaults;
        unbranded usage has the defaults."""
        if brand_id is None:
            return self.defaults
        cached = self._budgets.get(brand_id)
        if cached is not None and cached[1] > self.monotonic():
            return cached[0]
        budgets = budgets_with(self.defaults, self.usage.override(brand_id))
        self._budgets[brand_id] = (budgets, self.monotonic() + self.cache_seconds)
        return budgets

    def unbranded_budgets(self, token_brands: frozenset[str]) -> Budgets:
        """The budgets of usage in no brand by a user whose token grants `token_brands`: the
        strictest user budget among those brands' and the default (0, no limit, is the least
        strict); the unbranded total keeps the default."""
        limits = [self.defaults.user_daily_tokens] + [
            self.budgets_for(b).user_daily_tokens for b in sorted(token_brands)
        ]
        set_limits = [limit for limit in limits if limit > 0]
        return Budgets(min(set_limits) if set_limits else 0, self.defaults.brand_daily_tokens)

    def forget(self, brand_id: str) -> None:
        """Read the brand's budgets again on its next request (its override changed)."""
        self._budgets.pop(brand_id, None)

    def open(self, brand_id: str | None, user_id: str, token_brands: frozenset[str] = frozenset()) -> Meter:
        """A meter for a request about to generate; QuotaExceeded if a budget is known spent."""
        budgets = self.budgets_for(brand_id) if brand_id is not None else self.unbranded_budgets(token_brands)
        meter = Meter(self, brand_id, user_id, budgets)
        scopes: tuple[Scope, ...] = ("user", "brand")
        for scope in scopes:
            if self.spent.get(meter.spent_key(scope)) == meter.budgets.of(scope):
                raise meter.exceeded(scope)
        return meter


class Meter:
    def __init__(self, book: BudgetBook, brand_id: str | None, user_id: str, budgets: Budgets) -> None:
        self.book = book
        self.brand_id = brand_id
        self.user_id = user_id
        self.now = book.clock.now()
        self.day = self.now.date().isoformat()
        self.budgets = budgets
        self.models: dict[str, ModelUsage] = {}
        self.tools = ToolUsage()

    def add(
        self, model_id: str, usage: TokenUsage, cost_usd: float, details: dict[str, Any] | None = None
    ) -> None:
        """One provider call; `details`: its cached, cache-write and reasoning tokens, if any."""
        tally = self.models.setdefault(model_id, ModelUsage())
        for measure in DETAIL_MEASURES:
            setattr(tally, measure, getattr(tally, measure) + int((details or {}).get(measure) or 0))
        tally.prompt_tokens += usage.prompt_tokens
        tally.completion_tokens += usage.completion_tokens
        tally.cost_usd += Decimal(str(cost_usd))
        tally.calls += 1

    def add_tool_call(self, duration_ms: int, *, failed: bool) -> None:
        """One call of an MCP server's tool Parley made for the model. Counted per day, not per
        server: a request names its own servers, and a counter per name would grow without
        bound."""
        self.tools.calls += 1
        self.tools.errors += int(failed)
        self.tools.duration_ms += duration_ms

    def charge(self) -> Charge:
        return Charge(
            brand_id=self.brand_id,
            user_id=self.user_id,
            day=self.day,
            models=self.models,
            user_budget=self.budgets.user_daily_tokens,
            brand_budget=self.budgets.brand_daily_tokens,
            tools=self.tools,
        )

    @contextmanager
    def settling(self) -> Iterator[Charge]:
        """Around the write of the request's result with its charge: a budget found spent there
        becomes QuotaExceeded, after the tokens the provider was paid for are recorded anyway."""
        charge = self.charge()
        try:
            yield charge
        except BudgetSpent as spent:
            self.book.usage.record(charge)
            known = self.book.spent
            for key in [key for key in known if key[-1] != self.day]:
                del known[key]  # yesterday's refusals
            known[self.spent_key(spent.scope)] = self.budgets.of(spent.scope)
            raise self.exceeded(spent.scope) from None

    def exceeded(self, scope: Scope) -> QuotaExceeded:
        budget = f"{self.budgets.of(scope):,} tokens"
        tomorrow = datetime.combine(self.now.date() + timedelta(days=1), datetime.min.time(), UTC)
        retry_after = math.ceil(
            (tomorrow - self.book.clock.now()).total_seconds()
        )  # whole seconds, rounded up
        if scope == "user":
            message = f"Your daily token budget ({budget}) is spent; it renews at 00:00 UTC."
        else:
            which = f"Brand '{self.brand_id}'" if self.brand_id else "Unbranded usage"
            message = f"{which} has spent its daily token budget ({budget}); it renews at 00:00 UTC."
        return QuotaExceeded(message, retry_after)

    def spent_key(self, scope: Scope) -> SpentKey:
        return (scope, self.brand_id, self.user_id if scope == "user" else None, self.day)
