"""A learner's progress per subcategory: daily errors (zero-filled), the trend against the
previous window of the same length, and exercise accuracy. Read from the real-time evidence
(daily aggregates + unflushed counters), so the cost is flat with history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from django.utils import timezone

from tutor import evidence, selectors, taxonomy


@dataclass(frozen=True)
class SubcategoryProgress:
    category: str
    subcategory: str
    daily: list[int]  # errors per day, aligned with Progress.days
    errors: int
    previous_errors: int
    trend: str  # new | worsening | steady | improving
    change: float | None  # relative change against the previous window; None when it had none
    attempts: int
    correct: int
    accuracy: float | None


@dataclass(frozen=True)
class Progress:
    days: list[date]
    subcategories: list[SubcategoryProgress]


def trend(current: int, previous: int) -> str:
    if previous == 0:
        return "new" if current else "steady"
    if current == previous:
        return "steady"
    return "worsening" if current > previous else "improving"


def progress_get(*, learner_id: uuid.UUID, last_n_days: int, today: date | None = None) -> Progress:
    """404 for an unknown learner. Subcategories with errors in either window or attempts in
    this one, most errors in this window first."""
    today = today or timezone.now().astimezone(UTC).date()
    start = selectors.window_start(last_n_days=last_n_days, today=today)
    found = evidence.learner_evidence(
        learner_id=learner_id, since=start - timedelta(days=last_n_days)
    )
    days = [start + timedelta(days=i) for i in range(last_n_days)]
    tax = taxonomy.taxonomy_get()
    items = []
    for sid in found.subcategories():
        sub = tax.by_id.get(sid) or taxonomy.taxonomy_get(refresh=True).by_id[sid]
        items.append(_one(found, sid, sub, days, start))
    items = [i for i in items if i.errors or i.previous_errors or i.attempts]
    items.sort(key=lambda i: (-i.errors, -i.previous_errors, i.category, i.subcategory))
    return Progress(days=days, subcategories=items)


def _one(
    found: evidence.Evidence, sid: int, sub: taxonomy.Subcategory, days: list[date], start: date
) -> SubcategoryProgress:
    daily = [found.errors.get((sid, day), 0) for day in days]
    previous = sum(n for (s, day), n in found.errors.items() if s == sid and day < start)
    attempts = sum(n for (s, day), n in found.attempts.items() if s == sid and day >= start)
    correct = sum(n for (s, day), n in found.correct.items() if s == sid and day >= start)
    current = sum(daily)
    return SubcategoryProgress(
        category=sub.category,
        subcategory=sub.name,
        daily=daily,
        errors=current,
        previous_errors=previous,
        trend=trend(current, previous),
        change=round((current - previous) / previous, 3) if previous else None,
        attempts=attempts,
        correct=correct,
        accuracy=round(correct / attempts, 3) if attempts else None,
    )
