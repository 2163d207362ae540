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
SKIP = {"conversations_delete"}  # a delete is measured once, as a cold start: it removes what it serves
# Put back what the event removes or moves before each request: a regenerate, a change of the
# active message or a title leaves the events' conversation on another branch than they address.
RESEED = {
    "ai_documents_delete",
    "conversations_create",
    "conversation_messages_regenerate",
    "conversations_update",
    "conversations_title",
    "chat_messages_create",
    "conversation_feedback_delete",  # the rating the event takes back
    "chat_feedback_delete",
}


def per_request(
    handler: Callable[[dict[str, Any], Any], Any],
    event: dict[str, Any],
    name: str,
    before_each: Callable[[], None],
) -> tuple[float, list[int]]:
    """The median time of one request, and the statuses the requests got (so a figure of a fast
    refusal is never taken for one of real work)."""
    timings, statuses = [], set()
    for _ in range(REQUESTS):
        before_each()
        started = time.perf_counter()
        response = handler(copy.deepcopy(event), LambdaContext(name, 10))
        timings.append((time.perf_counter() - started) * 1000)
        # A function behind no route (the authorizer, a worker, the cleanup) answers no status:
        # it served the request if it returned.
        statuses.add(int(response.get("statusCode", 200)) if isinstance(response, dict) else 200)
    return statistics.median(timings), sorted(statuses)


def run(report: Report, reseed: Callable[[], None]) -> None:
    events = {path.stem: json.loads(path.read_text()) for path in EVENTS_DIR.glob("*.json")}
    baseline_spec = FunctionSpec("Baseline", ROOT / "bench", "baseline_app.lambda_handler", 10)
    baseline, statuses = per_request(
        load_handler(baseline_spec), events["conversation_messages_list"], "baseline", reseed
    )
    report.figure("warm.baseline", baseline, "ms", requests=REQUESTS, statuses=statuses)
    for spec in load().functions.values():
        name = spec.code_dir.name
        if name in SKIP:
            continue
        median, statuses = per_request(
            load_handler(spec), events[name], name, reseed if name in RESEED else (lambda: None)
        )
        report.figure(
            f"warm.{name}",
            median,
            "ms",
            requests=REQUESTS,
            vs_baseline=round(median / baseline, 2),
            statuses=statuses,
            **({"note": "includes putting back what it removes"} if name in RESEED else {}),
        )
