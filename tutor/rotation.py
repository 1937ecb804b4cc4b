"""Which exercises of a subcategory to offer: deterministic for a given attempt history.

Order: exercises answered correctly in the last TUTOR_REPEAT_AFTER_DAYS go last (offered only
when nothing else is left); before them, unseen exercises (nearest the learner's CEFR level
first, then easiest), then seen ones, least recently attempted first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection

from tutor.models import Level
from tutor.ranking import EPOCH
from tutor.sql import Params, pg_array
from tutor.taxonomy import EXERCISES_PER_ERROR, ExerciseCard

LEVELS = [code for code, _ in Level.choices]

# One statement: the learner's level (kind 0), per exercise the last attempt and the last correct
# one (kind 1, two index probes each: bounded by the exercises asked about, not the history), and
# attempts per subcategory since a day (kind 2, from the daily aggregate).
PRACTICE_SQL = """
SELECT 0, NULL::bigint, NULL::timestamptz, NULL::timestamptz, NULL::bigint, NULL::bigint, level
FROM tutor_learner WHERE id = %(learner)s
UNION ALL
SELECT 1, e.id,
  (SELECT max(a.created_at) FROM tutor_exerciseattempt a
   WHERE a.learner_id = %(learner)s AND a.exercise_id = e.id),
  (SELECT max(a.created_at) FROM tutor_exerciseattempt a
   WHERE a.learner_id = %(learner)s AND a.exercise_id = e.id AND a.correct),
  NULL, NULL, NULL
FROM unnest(%(exercises)s::bigint[]) AS e(id)
UNION ALL
SELECT 2, subcategory_id, NULL, NULL, sum(attempts), sum(correct), NULL
FROM tutor_attemptcount
WHERE learner_id = %(learner)s AND day >= %(since)s AND subcategory_id = ANY(%(subs)s::bigint[])
GROUP BY subcategory_id
"""


@dataclass
class Practice:
    level: str = ""
    seen: dict[int, tuple[datetime | None, datetime | None]] = field(default_factory=dict)
    attempts: dict[int, tuple[int, int]] = field(default_factory=dict)  # sid -> (n, correct)


def practice_get(
    *,
    learner_id: uuid.UUID,
    exercise_ids: Iterable[int],
    subcategory_ids: Iterable[int],
    since: date | datetime,
) -> Practice:
    """The learner's level, the last attempt and last correct one per exercise, and attempts per
    subcategory since `since`. One statement; bounded by the exercises and subcategories asked."""
    params: Params = {
        "learner": str(learner_id),
        "exercises": pg_array(exercise_ids),
        "subs": pg_array(subcategory_ids),
        "since": since if isinstance(since, date) else since.date(),
    }
    with connection.cursor() as cursor:
        cursor.execute(PRACTICE_SQL, params)
        rows = cursor.fetchall()
    practice = Practice()
    for kind, key, last, last_ok, n, correct, level in rows:
        if kind == 0:
            practice.level = level or ""
        elif kind == 1:
            practice.seen[key] = (last, last_ok)
        else:
            practice.attempts[key] = (int(n), int(correct))
    return practice


def _distance(card: ExerciseCard, level: str) -> int:
    if not level or card.level not in LEVELS:
        return 0
    return abs(LEVELS.index(card.level) - LEVELS.index(level))


def exercises_choose(
    *,
    cards: list[ExerciseCard],
    practice: Practice,
    now: datetime,
    count: int = EXERCISES_PER_ERROR,
) -> list[ExerciseCard]:
    """`cards` in the taxonomy's order (easiest first); returns the first `count` to offer."""
    recent = now - timedelta(days=settings.TUTOR_REPEAT_AFTER_DAYS)

    def key(item: tuple[int, ExerciseCard]) -> tuple:
        position, card = item
        last, last_ok = practice.seen.get(card.id, (None, None))
        mastered = last_ok is not None and last_ok > recent
        distance = _distance(card, practice.level)
        return (mastered, last is not None, last or EPOCH, distance, position)

    return [card for _, card in sorted(enumerate(cards), key=key)[:count]]
