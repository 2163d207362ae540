"""The time the use cases run at. In AWS it is the system's UTC clock; a test or a demo may set
`CLOCK_OFFSET_SECONDS` to run the functions at another moment (a chosen noon, far from midnight),
so nothing that depends on the day (budgets, the usage report) depends on when a test runs, or
`CLOCK_FROZEN_AT` to stop it at one instant, so a test can assert exact durations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Clock:
    offset_seconds: float = 0
    frozen_at: datetime | None = None

    def now(self) -> datetime:
        if self.frozen_at is not None:
            return self.frozen_at.astimezone(UTC)
        return datetime.now(UTC) + timedelta(seconds=self.offset_seconds)


SYSTEM_CLOCK = Clock()
