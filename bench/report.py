"""One figure per line: printed as JSON and kept for bench/results.jsonl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results.jsonl"


def failed(statuses: Any) -> list[int]:
    """The statuses of requests that did not succeed (4xx, 5xx, or no answer at all)."""
    return [int(status) for status in statuses or [] if not 200 <= int(status) < 400]


class Report:
    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self.refused: list[str] = []

    def figure(self, name: str, value: float, unit: str, **extra: Any) -> None:
        """Print the figure; one taken from requests that failed is no figure: it is refused, and
        a line says which statuses the requests got instead."""
        if bad := failed(extra.get("statuses")):
            self.refused.append(name)
            line = {"name": name, "refused": f"requests failed with {sorted(set(bad))}: no figure", **extra}
        else:
            line = {
                "name": name,
                "value": round(value, 3) if isinstance(value, float) else value,
                "unit": unit,
                **extra,
            }
        self.lines.append(line)
        print(json.dumps(line), flush=True)

    def refuse(self, name: str, why: str, **extra: Any) -> None:
        """No figure for `name`: what it would measure did not hold (`why` says what)."""
        self.refused.append(name)
        line = {"name": name, "refused": f"{why}: no figure", **extra}
        self.lines.append(line)
        print(json.dumps(line), flush=True)

    def save(self) -> None:
        RESULTS.write_text("".join(json.dumps(line) + "\n" for line in self.lines))
