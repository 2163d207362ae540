"""Sizes of what `sam build` produced: the layer and each function's package, unzipped."""

from __future__ import annotations

from pathlib import Path

from bench.report import Report
from local.template import ROOT

BUILD = ROOT / ".aws-sam" / "build"


def kilobytes(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1000


def run(report: Report) -> None:
    if not BUILD.exists():
        report.figure("package.missing", 0, "", note="run `make build` first")
        return
    for artifact in sorted(p for p in BUILD.iterdir() if p.is_dir()):
        report.figure(f"package.{artifact.name}", kilobytes(artifact), "kB unzipped")
