"""Warm handler time per request: one loaded handler called repeatedly in-process (median),
beside the baseline handler."""

from __future__ import annotations

import copy
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.report import Report
from local.events import EVENTS_DIR
from local.lambda_runtime import LambdaContext, load_handler
from local.template import ROOT, FunctionSpec, load

REQUESTS = 50
SKIP = {"conversations_delete"}  # a delete is measured once: it removes what it serves


def per_request(
    handler: Callable[[dict[str, Any], Any], Any],
    event: dict[str, Any],
    name: str,
    before_each: Callable[[], None],
) -> float:
    timings = []
    for _ in range(REQUESTS):
        before_each()
        started = time.perf_counter()
        handler(copy.deepcopy(event), LambdaContext(name, 10))
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def run(report: Report, reseed: Callable[[], None]) -> None:
    events = {path.stem: json.loads(path.read_text()) for path in EVENTS_DIR.glob("*.json")}
    baseline_spec = FunctionSpec("Baseline", ROOT / "bench", "baseline_app.lambda_handler", 10)
    baseline = per_request(
        load_handler(baseline_spec), events["conversation_messages_list"], "baseline", reseed
    )
    report.figure("warm.baseline", baseline, "ms", requests=REQUESTS)
    for spec in load().functions.values():
        name = spec.code_dir.name
        if name in SKIP:
            continue
        median = per_request(
            load_handler(spec),
            events[name],
            name,
            reseed if name == "conversations_create" else (lambda: None),
        )
        report.figure(
            f"warm.{name}", median, "ms", requests=REQUESTS, vs_baseline=round(median / baseline, 2)
        )
