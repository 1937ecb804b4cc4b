"""generate-exercise: rank the learner's errors (frequency or priority), explain each choice, and
pick exercises by rotation. Two statements when there is something to recommend, one otherwise.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

from tutor import evidence, ranking, rotation, selectors, taxonomy
from tutor.ranking import Score

RANKINGS = ("frequency", "priority")


@dataclass(frozen=True)
class Reason:
    errors: int
    window_days: int | None
    last_seen: datetime
    attempts: int
    correct: int
    accuracy: float | None
    priority: float | None
    summary: str


@dataclass(frozen=True)
class Recommendation:
    category: str
    subcategory: str
    frequency: int
    last_seen: datetime
    exercises: list[taxonomy.ExerciseCard]
    reason: Reason


def _subcategories(sids: set[int]) -> tuple[taxonomy.Taxonomy, dict[int, taxonomy.Subcategory]]:
    """The cached taxonomy, reloaded once if a subcategory is newer than the cache."""
    tax = taxonomy.taxonomy_get()
    if not sids <= tax.by_id.keys():
        tax = taxonomy.taxonomy_get(refresh=True)
    return tax, {sid: tax.by_id[sid] for sid in sids}


def _frequency(learner_id: uuid.UUID, last_n_days: int | None) -> list[Score]:
    since = selectors.window_start(last_n_days=last_n_days)
    tally = selectors.error_counts(learner_id=learner_id, since=since)
    return [
        Score(sid, n, datetime.fromtimestamp(tally.last_ms[(sid, day)] / 1000, tz=UTC), 0, 0)
        for (sid, day), n in tally.counts.items()
    ]


def _priority(learner_id: uuid.UUID, window_days: int, now: datetime) -> list[Score]:
    today = now.astimezone(UTC).date()
    since = selectors.window_start(last_n_days=window_days, today=today)
    model = ranking.Model.from_settings()
    sums = evidence.learner_sums(learner_id=learner_id, since=since, today=today, model=model)
    return ranking.priority_from_sums(sums=sums, model=model)


def recommendations(
    *, learner_id: uuid.UUID, top_n: int, last_n_days: int | None, ranking_name: str
) -> list[Recommendation]:
    """404 for an unknown learner. Under `priority` an absent window means the last
    TUTOR_PRIORITY_HORIZON_DAYS: older evidence weighs almost nothing."""
    now = timezone.now()
    window = last_n_days
    if ranking_name == "priority":
        window = last_n_days or settings.TUTOR_PRIORITY_HORIZON_DAYS
        scores = _priority(learner_id, window, now)
    else:
        scores = _frequency(learner_id, last_n_days)
    tax, subs = _subcategories({s.subcategory_id for s in scores})

    def key(score: Score) -> tuple:
        sub = subs[score.subcategory_id]
        return ranking.order_key(score, (sub.category, sub.name))

    scores.sort(key=key)
    top = scores[:top_n]
    if not top:
        return []
    pool = tax.pool
    # Priority scores already hold the window's attempts (the same aggregate rows): only the
    # frequency ranking needs them read for its top subcategories.
    practice = rotation.practice_get(
        learner_id=learner_id,
        exercise_ids=[c.id for s in top for c in pool.get(s.subcategory_id, [])],
        subcategory_ids=[] if ranking_name == "priority" else [s.subcategory_id for s in top],
        since=selectors.window_start(last_n_days=window),
    )
    return [_recommendation(s, subs[s.subcategory_id], practice, pool, window, now) for s in top]


def _recommendation(
    score: Score,
    sub: taxonomy.Subcategory,
    practice: rotation.Practice,
    pool: dict[int, list[taxonomy.ExerciseCard]],
    window: int | None,
    now: datetime,
) -> Recommendation:
    attempts, correct = practice.attempts.get(score.subcategory_id, (score.attempts, score.correct))
    score = Score(
        score.subcategory_id, score.errors, score.last_seen, attempts, correct, score.priority
    )
    reason = Reason(
        errors=score.errors,
        window_days=window,
        last_seen=score.last_seen,
        attempts=attempts,
        correct=correct,
        accuracy=score.accuracy,
        priority=score.priority,
        summary=ranking.reason_summary(score, window_days=window, now=now),
    )
    cards = rotation.exercises_choose(
        cards=pool.get(score.subcategory_id, []), practice=practice, now=now
    )
    return Recommendation(sub.category, sub.name, score.errors, score.last_seen, cards, reason)
