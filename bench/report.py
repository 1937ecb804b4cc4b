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

    def render(
        self, *, machine: str, when: datetime, minutes: float, previous: Path, partial: bool = False
    ) -> str:
        """`partial`: only some rows were measured; the others (and the memory peaks) are kept
        from `previous`, each row under its own run's heading line."""
        old = previous.read_text() if previous.exists() else ""
        heading = f"Run {when:%Y-%m-%d %H:%M} UTC on {machine}; took {minutes:.1f} min."
        rows = ["| " + " | ".join(row) + " |" for row in self.rows]
        if partial and START in old:
            measured = ", ".join(row[0] for row in self.rows)
            heading, rows = _merge(old, heading, rows, measured)
            self.rss = previous_peaks(previous)
        lines = [
            START,
            heading,
            "",
            "| # | what | how | target (2 cores) | measured | verdict |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            f"<!-- bench:rss {json.dumps(self.rss)} -->",
            END,
        ]
        section = "\n".join(lines)
        if START in old and END in old:
            head, rest = old.split(START, 1)
            return head + section + rest.split(END, 1)[1]
        return f"# Benchmark results\n\n{section}\n"


ROW = re.compile(r"^\| (\d+) \|", re.MULTILINE)


def table_rows(text: str) -> dict[str, str]:
    """Row number -> its markdown line, from the section between the markers."""
    section = text.split(START, 1)[1].split(END, 1)[0] if START in text else ""
    return {m.group(1): line for line in section.splitlines() if (m := ROW.match(line))}


def _merge(old: str, heading: str, rows: list[str], measured: str) -> tuple[str, list[str]]:
    """Previous rows in their order, re-measured ones replaced; new ones go before memory (6)."""
    kept = table_rows(old)
    earlier = old.split(START, 1)[1].strip().splitlines()[0]
    fresh = {ROW.match(line).group(1): line for line in rows}
    merged = [fresh.pop(n, line) for n, line in kept.items() if n != "6"]
    merged += list(fresh.values()) + ([kept["6"]] if "6" in kept else [])
    full_run = earlier.split(" Rows ", 1)[0].rstrip(".")  # the last run of every row
    return f"{full_run}. Rows {measured}: {heading[0].lower()}{heading[1:]}", merged


def previous_peaks(path: Path) -> dict[str, float]:
    match = PEAKS.search(path.read_text()) if path.exists() else None
    return json.loads(match.group(1)) if match else {}
