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

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.conf import settings

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


def _sums(evidence: Evidence) -> dict[int, list[int]]:
    """{subcategory: [errors, attempts, correct]} over the whole evidence window."""
    sums: dict[int, list[int]] = {}
    for (sid, _), n in evidence.errors.items():
        sums.setdefault(sid, [0, 0, 0])[0] += n
    for (sid, day), n in evidence.attempts.items():
        row = sums.setdefault(sid, [0, 0, 0])
        row[1] += n
        row[2] += evidence.correct[(sid, day)]
    return sums


def priority_scores(*, evidence: Evidence, today: date, model: Model) -> list[Score]:
    """Scores of the subcategories with at least one error in the evidence window."""
    decayed: dict[int, list[float]] = {}  # sid -> [errors, correct - wrong]
    for (sid, day), n in evidence.errors.items():
        decayed.setdefault(sid, [0.0, 0.0])[0] += n * model.weight((today - day).days)
    for (sid, day), n in evidence.attempts.items():
        if sid in decayed:
            ok = evidence.correct[(sid, day)]
            decayed[sid][1] += (2 * ok - n) * model.weight((today - day).days)
    sums = _sums(evidence)
    return [
        Score(
            subcategory_id=sid,
            errors=sums[sid][0],
            last_seen=evidence.error_last[sid],
            attempts=sums[sid][1],
            correct=sums[sid][2],
            priority=round(errors * (1 - model.practice_effect) ** balance, 4),
        )
        for sid, (errors, balance) in decayed.items()
    ]


def frequency_scores(*, evidence: Evidence) -> list[Score]:
    sums = _sums(evidence)
    return [
        Score(sid, errors, evidence.error_last[sid], attempts, correct)
        for sid, (errors, attempts, correct) in sums.items()
        if errors
    ]


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
