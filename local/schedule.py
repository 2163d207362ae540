"""The template's schedule, run locally: `make dev` invokes the cleanup function on the schedule
expression template.yaml gives it (its `ScheduleV2` event, through the `CleanupSchedule`
parameter's default), with the event EventBridge Scheduler sends; `make cleanup` runs it once,
now, through the running `make dev` (POST /local/cleanup, a route of the local gateway only)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from local.template import TEMPLATE, _CfnLoader

CLEANUP_FUNCTION = "CleanupFunction"
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def schedule_expression(function: str = CLEANUP_FUNCTION) -> str:
    """The function's schedule as the template states it, a parameter resolved to its default."""
    import yaml

    template = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
    events = template["Resources"][function]["Properties"]["Events"]
    [schedule] = [e["Properties"] for e in events.values() if e["Type"] in ("Schedule", "ScheduleV2")]
    expression = schedule["ScheduleExpression"]
    if isinstance(expression, dict) and "Ref" in expression:
        expression = template["Parameters"][expression["Ref"]]["Default"]
    return str(expression)


def interval_seconds(expression: str) -> int:
    """The period of a `rate(...)` expression (what make dev runs); others are refused by name."""
    found = _RATE.fullmatch(expression.strip())
    if found is None:
        raise ValueError(f"make dev runs rate(...) schedules only, not {expression!r}")
    count, unit = int(found.group(1)), found.group(2).rstrip("s")
    if count < 1 or (count != 1) != found.group(2).endswith("s"):
        raise ValueError(f"{expression!r} is not a valid rate expression")
    return count * _UNIT_SECONDS[unit]


def scheduler_event() -> dict[str, Any]:
    """What EventBridge Scheduler sends the cleanup function; its `time` is the job's clock."""
    return {
        "version": "0",
        "id": "8d6f0f3c-3c69-4f2a-9a55-2c4f6e0c7a11",
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "123456789012",
        "time": "2026-11-23T12:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:scheduler:us-east-1:123456789012:schedule/default/parley-cleanup"],
        "detail": "{}",
    }


def scheduled_event(moment: datetime) -> dict[str, Any]:
    return {**scheduler_event(), "time": moment.astimezone(UTC).isoformat().replace("+00:00", "Z")}


class Schedule:
    """Invokes `invoke` with a Scheduler event every `seconds`, the first one period after start,
    as EventBridge Scheduler does, until stopped."""

    def __init__(
        self,
        invoke: Callable[[dict[str, Any]], Any],
        seconds: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        stopped: threading.Event | None = None,
    ) -> None:
        self.invoke, self.seconds, self.now = invoke, seconds, now
        self.stopped = stopped or threading.Event()
        self.thread = threading.Thread(target=self._run, name="schedule", daemon=True)

    def start(self) -> Schedule:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()

    def _run(self) -> None:
        while not self.stopped.wait(self.seconds):
            self.invoke(scheduled_event(self.now()))
