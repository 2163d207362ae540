"""`make bench` prints no figure taken from failing requests: such a figure is refused, named,
with the statuses its requests got."""

from __future__ import annotations

import json

import pytest

from bench.report import Report


def test_a_figure_of_successful_requests_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    report = Report()

    report.figure("warm.title", 12.3456, "ms", requests=50, statuses=[200, 201])

    printed = json.loads(capsys.readouterr().out)
    assert printed["value"] == 12.346 and report.refused == []


@pytest.mark.parametrize("statuses", [[200, 500], [409], [0], [201, 404]])
def test_a_figure_of_failing_requests_is_refused(
    capsys: pytest.CaptureFixture[str], statuses: list[int]
) -> None:
    report = Report()

    report.figure("warm.regenerate", 3.0, "ms", requests=50, statuses=statuses)

    printed = json.loads(capsys.readouterr().out)
    assert "value" not in printed and "requests failed" in printed["refused"]
    assert report.refused == ["warm.regenerate"]
