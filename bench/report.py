"""The results table. bench/results.md keeps its hand-written notes; each run replaces only the
section between the markers, and stores its memory peaks for the next run to compare."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
PEAKS = re.compile(r"<!-- bench:rss (\{.*?\}) -->")


@dataclass
class Table:
    rows: list[tuple[str, ...]] = field(default_factory=list)
    rss: dict[str, float] = field(default_factory=dict)

    def add(self, number: str, what: str, how: str, target: str, measured: str, ok: bool | None):
        verdict = "n/a" if ok is None else ("met" if ok else "**missed**")
        self.rows.append((number, what, how, target, measured, verdict))

    def render(self, *, machine: str, when: datetime, minutes: float, previous: Path) -> str:
        lines = [
            START,
            f"Run {when:%Y-%m-%d %H:%M} UTC on {machine}; took {minutes:.1f} min.",
            "",
            "| # | what | how | target (2 cores) | measured | verdict |",
            "|---|---|---|---|---|---|",
            *("| " + " | ".join(row) + " |" for row in self.rows),
            "",
            f"<!-- bench:rss {json.dumps(self.rss)} -->",
            END,
        ]
        section = "\n".join(lines)
        old = previous.read_text() if previous.exists() else ""
        if START in old and END in old:
            head, rest = old.split(START, 1)
            return head + section + rest.split(END, 1)[1]
        return f"# Benchmark results\n\n{section}\n"


def previous_peaks(path: Path) -> dict[str, float]:
    match = PEAKS.search(path.read_text()) if path.exists() else None
    return json.loads(match.group(1)) if match else {}
