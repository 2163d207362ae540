"""The time the use cases run at. In AWS it is the system's UTC clock; a test or a demo may set
`CLOCK_OFFSET_SECONDS` to run the functions at another moment (a chosen noon, far from midnight),
so nothing that depends on the day (budgets, the usage report) depends on when a test runs, or
`CLOCK_FROZEN_AT` to stop it at one instant, so a test can assert exact durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parley.config import settings


def utc_now() -> datetime:
    config = settings()
    if config.clock_frozen_at is not None:
        return config.clock_frozen_at.astimezone(UTC)
    return datetime.now(UTC) + timedelta(seconds=config.clock_offset_seconds)
