"""The CISI test collection's files: `.I` starts a record, then fields `.T` title, `.A` authors,
`.W` text, `.X` references (CISI.ALL) or `.W` the question (CISI.QRY); CISI.REL lines are
`query document 0 0.0` (binary relevance)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

_FIELD = re.compile(r"^\.([A-Z])\s*(.*)$")


@dataclass(frozen=True)
class Record:
    id: str
    title: str
    text: str


def parse_records(text: str) -> list[Record]:
    """Records of CISI.ALL or CISI.QRY, in file order."""
    records: list[Record] = []
    fields: dict[str, list[str]] = {}
    current_id: str | None = None
    field: str | None = None

    def close() -> None:
        if current_id is not None:
            records.append(
                Record(
                    current_id, " ".join(fields.get("T", [])).strip(), " ".join(fields.get("W", [])).strip()
                )
            )

    for line in text.splitlines():
        marker = _FIELD.match(line)
        if marker and marker.group(1) == "I":
            close()
            current_id, fields, field = marker.group(2).strip(), {}, None
        elif marker:
            field = marker.group(1)
            fields.setdefault(field, [])
            if marker.group(2).strip():
                fields[field].append(marker.group(2).strip())
        elif field is not None and line.strip():
            fields[field].append(line.strip())
    close()
    return records


def parse_judgments(text: str) -> dict[str, dict[str, int]]:
    """query id → {document id: relevance}."""
    judged: dict[str, dict[str, int]] = defaultdict(dict)
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            judged[parts[0]][parts[1]] = 1
    return dict(judged)


@dataclass(frozen=True)
class Collection:
    documents: list[Record]
    queries: list[Record]  # only those with judgments
    judgments: dict[str, dict[str, int]]


def load(directory: Path) -> Collection:
    documents = parse_records((directory / "CISI.ALL").read_text(encoding="latin-1"))
    queries = parse_records((directory / "CISI.QRY").read_text(encoding="latin-1"))
    judgments = parse_judgments((directory / "CISI.REL").read_text(encoding="latin-1"))
    return Collection(documents, [q for q in queries if q.id in judgments], judgments)
