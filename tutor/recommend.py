"""generate-exercise: rank the learner's errors (frequency or priority), explain each choice, and
pick exercises by rotation. Two statements when there is something to recommend, one otherwise;
both skip what this process already read and nothing has changed since (tutor/readcache.py).
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


def _scores(
    learner_id: uuid.UUID, window_days: int | None, now: datetime, ranking_name: str
) -> list[Score]:
    """One real-time read for either ranking: `frequency` is the same sums without decay."""
    today = now.astimezone(UTC).date()
    since = selectors.window_start(last_n_days=window_days, today=today)
    if ranking_name != "priority":
        sums = evidence.learner_sums(
            learner_id=learner_id, since=since, today=today, model=ranking.NO_DECAY
        )
        return ranking.frequency_from_sums(sums)
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
    scores = _scores(learner_id, window, now, ranking_name)
    tax, subs = _subcategories({s.subcategory_id for s in scores})

    def key(score: Score) -> tuple:
        sub = subs[score.subcategory_id]
        return ranking.order_key(score, (sub.category, sub.name))

    scores.sort(key=key)
    top = scores[:top_n]
    if not top:
        return []
    pool = tax.pool
    practice = rotation.practice_get(
        learner_id=learner_id,
        exercise_ids=[c.id for s in top for c in pool.get(s.subcategory_id, [])],
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
    reason = Reason(
        errors=score.errors,
        window_days=window,
        last_seen=score.last_seen,
        attempts=score.attempts,
        correct=score.correct,
        accuracy=score.accuracy,
        priority=score.priority,
        summary=ranking.reason_summary(score, window_days=window, now=now),
    )
    cards = rotation.exercises_choose(
        cards=pool.get(score.subcategory_id, []), practice=practice, now=now
    )
    return Recommendation(sub.category, sub.name, score.errors, score.last_seen, cards, reason)
