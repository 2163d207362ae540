"""The operations API's use cases (scope admin, for the caller's brands): a brand's budgets and
its usage report."""

from __future__ import annotations

from datetime import date, timedelta

from parley.auth.principal import ADMIN, Principal
from parley.clock import Clock
from parley.errors import InvalidRequest
from parley.logic.quotas import BudgetBook, Budgets, budgets_with
from parley.models.api.usage import (
    DayUsageOut,
    ModelUsageOut,
    Quota,
    QuotaIn,
    QuotaOverrides,
    UsageReport,
)
from parley.models.domain import QuotaOverride, timestamp
from parley.store.usage import UsageStore

DEFAULT_REPORT_DAYS = 30
MAX_REPORT_DAYS = 366


def get_quota(principal: Principal, brand_id: str, *, budgets: BudgetBook) -> Quota:
    principal.require(ADMIN)
    principal.require_brand(brand_id)
    return _quota(brand_id, budgets.usage.override(brand_id), budgets.defaults)


def set_quota(principal: Principal, brand_id: str, request: QuotaIn, *, budgets: BudgetBook) -> Quota:
    """Replace the brand's overrides. This container applies them at once; others within
    QUOTA_CACHE_SECONDS."""
    principal.require(ADMIN)
    principal.require_brand(brand_id)
    override = QuotaOverride(
        request.user_daily_tokens, request.brand_daily_tokens, updated_at=timestamp(budgets.clock.now())
    )
    budgets.usage.put_override(brand_id, override, updated_by=principal.user_id)
    budgets.forget(brand_id)
    return _quota(brand_id, override, budgets.defaults)


def _quota(brand_id: str, override: QuotaOverride | None, defaults: Budgets) -> Quota:
    in_effect = budgets_with(defaults, override)
    override = override or QuotaOverride()
    return Quota(
        brand_id=brand_id,
        user_daily_tokens=in_effect.user_daily_tokens,
        brand_daily_tokens=in_effect.brand_daily_tokens,
        overrides=QuotaOverrides(
            user_daily_tokens=override.user_daily_tokens, brand_daily_tokens=override.brand_daily_tokens
        ),
        updated_at=override.updated_at,
    )


def usage_report(
    principal: Principal,
    brand_id: str,
    first: str | None = None,
    last: str | None = None,
    *,
    store: UsageStore,
    clock: Clock,
) -> UsageReport:
    """Tokens and cost per day and model, from `first` to `last` (UTC days, both included; by
    default the last 30 days up to today). One Query of the brand's day counters."""
    principal.require(ADMIN)
    principal.require_brand(brand_id)
    to_day = _day(last, "to") if last else clock.now().date()
    from_day = _day(first, "from") if first else to_day - timedelta(days=DEFAULT_REPORT_DAYS - 1)
    if from_day > to_day:
        raise InvalidRequest(f"from ({from_day}) is after to ({to_day}).")
    if (to_day - from_day).days >= MAX_REPORT_DAYS:
        raise InvalidRequest(f"A report covers at most {MAX_REPORT_DAYS} days; ask for a shorter range.")
    days = store.days(brand_id, from_day.isoformat(), to_day.isoformat())
    out = [
        DayUsageOut(
            date=day.day,
            total_tokens=day.total_tokens,
            cost_usd=float(day.cost_usd),
            requests=day.requests,
            models=[
                ModelUsageOut(
                    model=model,
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                    total_tokens=usage.total_tokens,
                    cost_usd=float(usage.cost_usd),
                    calls=usage.calls,
                    cached_tokens=usage.cached_tokens,
                    cache_write_tokens=usage.cache_write_tokens,
                    reasoning_tokens=usage.reasoning_tokens,
                    guardrail_text_units=usage.guardrail_text_units,
                    rerank_queries=usage.rerank_queries,
                    ratings_up=usage.ratings_up,
                    ratings_down=usage.ratings_down,
                )
                for model, usage in sorted(day.models.items())
            ],
            tool_calls=day.tools.calls,
            tool_errors=day.tools.errors,
            tool_duration_ms=day.tools.duration_ms,
        )
        for day in days
    ]
    return UsageReport(
        brand_id=brand_id,
        from_=from_day.isoformat(),
        to=to_day.isoformat(),
        total_tokens=sum(day.total_tokens for day in days),
        cost_usd=float(sum(day.cost_usd for day in days)),
        requests=sum(day.requests for day in days),
        tool_calls=sum(day.tool_calls for day in out),
        days=out,
    )


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{name} must be a date, YYYY-MM-DD (got '{value}').") from None
