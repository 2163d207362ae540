"""One figure per line: printed as JSON and kept for bench/results.jsonl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results.jsonl"


class Report:
    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def figure(self, name: str, value: float, unit: str, **extra: Any) -> None:
        line = {
            "name": name,
            "value": round(value, 3) if isinstance(value, float) else value,
            "unit": unit,
            **extra,
        }
        self.lines.append(line)
        print(json.dumps(line), flush=True)

    def save(self) -> None:
        RESULTS.write_text("".join(json.dumps(line) + "\n" for line in self.lines))
