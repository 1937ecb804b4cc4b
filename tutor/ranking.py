"""Which error to practise next: the priority model, its reasons, and both orderings.

`frequency` (the default) ranks by errors in the window. `priority` estimates how likely the
learner is to make the error in their next conversation, from evidence weighted by recency:

    priority = decayed errors x (1 - effect) ^ (decayed correct answers - decayed wrong answers)

Every error, correct and wrong answer weighs 0.5 ^ (age in days / half-life) (settings
TUTOR_PRIORITY_HALF_LIFE_DAYS, default 7; TUTOR_PRIORITY_PRACTICE_EFFECT, default 0.1).

Why a decayed count and not a memory model. HLR and FSRS-6 predict whether a learner recalls a
card they chose to review, from graded reviews of that card: each review is an opportunity with a
pass or fail. Errors in free conversation are not reviews: we see only the failures, never the
sentences where the learner used the structure correctly, so there is no grade sequence to fit
and no opportunity count. And a skill such as article use does not decay from a single
successful retrieval the way a card does; its errors persist until practice changes them. What we
observe is the rate of a non-stationary event stream, and an exponentially decayed count is the
standard estimate of such a rate: recent errors weigh more, a skill not seen for long fades, and
many old errors still outweigh one new one (100 errors four half-lives ago weigh 6.25). Exercise
attempts, by contrast, are graded reviews; they enter as a multiplicative practice effect, one
parameter that a memory model could replace if attempts ever become frequent enough to fit one.
The offline evaluation (`manage.py evaluate_ranking`, bench/results.md) shows where this wins
and where frequency over a long window does better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:  # evidence imports this module for the model's weights
    from tutor.evidence import Evidence

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Model:
    half_life_days: float
    practice_effect: float

    @classmethod
    def from_settings(cls) -> Model:
        return cls(
            half_life_days=settings.TUTOR_PRIORITY_HALF_LIFE_DAYS,
            practice_effect=settings.TUTOR_PRIORITY_PRACTICE_EFFECT,
        )

    def weight(self, age_days: int) -> float:
        return 0.5 ** (max(age_days, 0) / self.half_life_days)


NO_DECAY = Model(half_life_days=math.inf, practice_effect=0.0)  # plain counts


@dataclass(frozen=True)
class Score:
    """One subcategory's evidence in the window, and its priority (None under `frequency`)."""

    subcategory_id: int
    errors: int
    last_seen: datetime
    attempts: int
    correct: int
    priority: float | None = None

    @property
    def accuracy(self) -> float | None:
        return round(self.correct / self.attempts, 3) if self.attempts else None


@dataclass
class Sums:
    """One subcategory's evidence in the window: plain counts, and the decayed sums the priority
    needs. Built from per-day evidence (`sums_from_evidence`) or aggregated by Postgres
    (`tutor.evidence.learner_sums`), with the same weights."""

    errors: int = 0
    decayed_errors: float = 0.0
    last_seen: datetime | None = None
    attempts: int = 0
    correct: int = 0
    balance: float = 0.0  # decayed (correct - wrong) answers

    def add_errors(self, n: int, weighted: float, last: datetime | None) -> None:
        self.errors += n
        self.decayed_errors += weighted
        if last is not None and (self.last_seen is None or last > self.last_seen):
            self.last_seen = last

    def add_attempts(self, n: int, correct: int, weighted_balance: float) -> None:
        self.attempts += n
        self.correct += correct
        self.balance += weighted_balance


def sums_from_evidence(*, evidence: Evidence, today: date, model: Model) -> dict[int, Sums]:
    sums: dict[int, Sums] = {}
    for (sid, day), n in evidence.errors.items():
        weighted = n * model.weight((today - day).days)
        sums.setdefault(sid, Sums()).add_errors(n, weighted, evidence.error_last[sid])
    for (sid, day), n in evidence.attempts.items():
        ok = evidence.correct[(sid, day)]
        weighted = (2 * ok - n) * model.weight((today - day).days)
        sums.setdefault(sid, Sums()).add_attempts(n, ok, weighted)
    return sums


def priority_from_sums(*, sums: dict[int, Sums], model: Model) -> list[Score]:
    """Scores of the subcategories with at least one error in the window."""
    return [
        Score(
            subcategory_id=sid,
            errors=s.errors,
            last_seen=s.last_seen,
            attempts=s.attempts,
            correct=s.correct,
            priority=round(s.decayed_errors * (1 - model.practice_effect) ** s.balance, 4),
        )
        for sid, s in sums.items()
        if s.errors and s.last_seen is not None
    ]


def priority_scores(*, evidence: Evidence, today: date, model: Model) -> list[Score]:
    sums = sums_from_evidence(evidence=evidence, today=today, model=model)
    return priority_from_sums(sums=sums, model=model)


def frequency_from_sums(sums: dict[int, Sums]) -> list[Score]:
    """Scores of the subcategories with at least one error in the window, without a priority."""
    return [
        Score(sid, s.errors, s.last_seen, s.attempts, s.correct)
        for sid, s in sums.items()
        if s.errors and s.last_seen is not None
    ]


def frequency_scores(*, evidence: Evidence) -> list[Score]:
    sums = sums_from_evidence(evidence=evidence, today=evidence.since, model=NO_DECAY)
    return frequency_from_sums(sums)


def order_key(score: Score, names: tuple[str, str] = ("", "")) -> tuple:
    """Highest priority first; ties (and `frequency`) by errors, then as generate-exercise always
    did: most recent, then category and subcategory name."""
    return (-(score.priority or 0.0), -score.errors, -score.last_seen.timestamp(), *names)


def reason_summary(score: Score, *, window_days: int | None, now: datetime) -> str:
    window = f"in the last {window_days} days" if window_days else "in all"
    ago = (now - score.last_seen).days
    seen = "today" if ago <= 0 else ("yesterday" if ago == 1 else f"{ago} days ago")
    errors = f"{score.errors} error{'s' if score.errors != 1 else ''} {window}, last {seen}"
    if score.attempts:
        practice = f"{score.correct} of {score.attempts} exercises correct"
    else:
        practice = "no exercises yet"
    parts = [errors, practice]
    if score.priority is not None:
        parts.append(f"priority {score.priority:.2f}")
    return "; ".join(parts)
