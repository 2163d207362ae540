"""Cold start per function: a fresh Python process imports the handler module and serves its
events/ file; the median of several runs, beside a baseline handler measured in the same run."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.report import Report
from local.events import EVENTS_DIR
from local.template import ROOT, load

RUNS = 5
PROCESS = ROOT / "bench" / "cold_process.py"
BASELINE = ROOT / "bench" / "baseline_app.py"


def fresh_process(module: Path, event: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(event, handle)
    started = time.perf_counter()
    output = subprocess.run(
        [sys.executable, str(PROCESS), str(module), handle.name],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = (time.perf_counter() - started) * 1000
    os.unlink(handle.name)
    result: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    return {**result, "process_ms": wall}


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(run[key] for run in runs))


def measure(
    report: Report,
    name: str,
    module: Path,
    event: dict[str, Any],
    *,
    env: dict[str, str],
    before_each: Callable[[], None],
    baseline_import: float | None = None,
    **extra: Any,
) -> float:
    runs = []
    for _ in range(RUNS):
        before_each()
        runs.append(fresh_process(module, event, env))
    imported = median_of(runs, "import_ms")
    ratio = {"vs_baseline": round(imported / baseline_import, 2)} if baseline_import else {}
    report.figure(f"cold_start.import.{name}", imported, "ms", runs=RUNS, **ratio, **extra)
    report.figure(
        f"cold_start.first_invoke.{name}",
        median_of(runs, "first_invoke_ms"),
        "ms",
        runs=RUNS,
        status=runs[-1]["status"],
        sdks_loaded=runs[-1]["sdks"],
        **extra,
    )
    report.figure(f"cold_start.process.{name}", median_of(runs, "process_ms"), "ms", runs=RUNS, **extra)
    return imported


def run(
    report: Report, env: dict[str, str], reseed: Callable[[], None], provider_env: dict[str, str]
) -> None:
    events = {path.stem: json.loads(path.read_text()) for path in EVENTS_DIR.glob("*.json")}
    baseline = measure(
        report, "baseline", BASELINE, events["conversation_messages_list"], env=env, before_each=reseed
    )
    for spec in load().functions.values():
        name = spec.code_dir.name
        measure(
            report,
            name,
            spec.code_dir / "app.py",
            events[name],
            env=env,
            before_each=reseed,
            baseline_import=baseline,
        )
    append = load().functions["ConversationMessagesAppendFunction"].code_dir / "app.py"
    for model in ("gpt-4o", "claude-sonnet-4-6"):
        event = dict(events["conversation_messages_append"])
        event["body"] = json.dumps(
            {"role": "user", "content": "Hi", "mode": "chat-completion", "model": model}
        )
        measure(
            report,
            f"conversation_messages_append+{model}",
            append,
            event,
            env={**env, **provider_env},
            before_each=reseed,
            baseline_import=baseline,
            note="first request imports the provider SDK",
        )
    for sdk in ("openai", "anthropic"):
        code = f"import time; t = time.perf_counter(); import {sdk}; print((time.perf_counter() - t) * 1000)"
        times = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(RUNS)
        ]
        report.figure(f"import.{sdk}", statistics.median(times), "ms", runs=RUNS)
