"""The cleanup's schedule as make dev runs it: the expression is the template's own (its
ScheduleV2 event through the CleanupSchedule parameter), a rate becomes the period between runs,
and each run gets the event EventBridge Scheduler sends, stamped with the moment it runs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from local.schedule import Schedule, interval_seconds, schedule_expression
from local.template import TEMPLATE, _CfnLoader


def test_the_schedule_run_is_the_templates() -> None:
    template = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
    [event] = template["Resources"]["CleanupFunction"]["Properties"]["Events"].values()
    parameter = event["Properties"]["ScheduleExpression"]["Ref"]

    assert event["Type"] == "ScheduleV2"
    assert schedule_expression() == template["Parameters"][parameter]["Default"]


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 hour)", 3600), ("rate(5 minutes)", 300), ("rate(1 minute)", 60), ("rate(2 days)", 172800)],
)
def test_a_rate_is_its_period(expression: str, seconds: int) -> None:
    assert interval_seconds(expression) == seconds


@pytest.mark.parametrize(
    "expression", ["rate(1 hours)", "rate(5 minute)", "rate(0 minutes)", "cron(0 * * * ? *)"]
)
def test_what_make_dev_cannot_run_is_refused_by_name(expression: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        interval_seconds(expression)


class Ticks(threading.Event):
    """A stop event whose waits return at once: `runs` periods pass, then it is set."""

    def __init__(self, runs: int) -> None:
        super().__init__()
        self.left = runs

    def wait(self, timeout: float | None = None) -> bool:
        self.left -= 1
        if self.left < 0:
            self.set()
        return self.is_set()


def test_each_period_invokes_the_cleanup_with_a_scheduler_event_of_that_moment() -> None:
    received: list[dict[str, Any]] = []
    moments = iter([datetime(2031, 3, 14, 12, tzinfo=UTC), datetime(2031, 3, 14, 13, tzinfo=UTC)])
    schedule = Schedule(received.append, 3600, now=lambda: next(moments), stopped=Ticks(2))

    schedule.start().thread.join(timeout=10)

    assert [event["time"] for event in received] == ["2031-03-14T12:00:00Z", "2031-03-14T13:00:00Z"]
    assert all(
        event["source"] == "aws.scheduler" and event["detail-type"] == "Scheduled Event" for event in received
    )
