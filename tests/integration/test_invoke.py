"""`make invoke`: one function, once, in a fresh process, as a Lambda container runs it (and as
`sam local invoke` does where Docker runs): its logs, then its response."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from local.template import ROOT

pytestmark = pytest.mark.integration


def invoke(*arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "POWERTOOLS_LOG_LEVEL": "INFO"}  # Lambda's default, as make invoke has it
    return subprocess.run(
        [sys.executable, "-m", "local.invoke", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("function", ["CleanupFunction", "cleanup"])
def test_the_cleanup_runs_once_and_prints_its_logs_and_report(function: str) -> None:
    ran = invoke("--function", function, "--event", "events/cleanup.json", "--isolated")

    *logs, last = ran.stdout.strip().splitlines()
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert json.loads(last) == {
        "expired": 0,
        "rechecked": 0,
        "purged": 0,
        "chunks_removed": 0,
        "finished": True,
    }
    assert any('"message":"cleanup run"' in line for line in logs)  # the function's own log line
    assert "START RequestId" in ran.stderr and "REPORT RequestId" in ran.stderr


def test_an_unknown_function_is_named_with_the_known_ones() -> None:
    ran = invoke("--function", "nothing", "--event", "events/cleanup.json")

    assert ran.returncode != 0 and "No function 'nothing'" in ran.stderr and "cleanup" in ran.stderr
