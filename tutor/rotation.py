"""Which exercises of a subcategory to offer: deterministic for a given attempt history.

Order: exercises answered correctly in the last TUTOR_REPEAT_AFTER_DAYS go last (offered only
when nothing else is left); before them, unseen exercises (nearest the learner's CEFR level
first, then easiest), then seen ones, least recently attempted first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from tutor import readcache
from tutor.models import Level
from tutor.ranking import EPOCH
from tutor.sql import Params, pg_array
from tutor.taxonomy import EXERCISES_PER_ERROR, ExerciseCard

LEVELS = [code for code, _ in Level.choices]

# One statement: the learner's level and evidence_rev (kind 0), and per exercise the last
# attempt and the last correct one (kind 1, two index probes each: bounded by the exercises asked
# about, not the history). Only an attempt changes kind 1, and it replaces evidence_rev: the
# probes are skipped when this process holds them for the current revision (readcache.py).
PRACTICE_SQL = f"""
SELECT 0, evidence_rev, NULL::timestamptz, NULL::timestamptz, level
FROM tutor_learner WHERE id = %(learner)s
UNION ALL
SELECT 1, e.id,
  (SELECT max(a.created_at) FROM tutor_exerciseattempt a
   WHERE a.learner_id = %(learner)s AND a.exercise_id = e.id),
  (SELECT max(a.created_at) FROM tutor_exerciseattempt a
   WHERE a.learner_id = %(learner)s AND a.exercise_id = e.id AND a.correct),
  NULL
FROM unnest(%(exercises)s::bigint[]) AS e(id)
WHERE {readcache.SETTLED_UNLESS_CACHED}
"""


@dataclass
class Practice:
    level: str = ""
    seen: dict[int, tuple[datetime | None, datetime | None]] = field(default_factory=dict)


def practice_get(*, learner_id: uuid.UUID, exercise_ids: Iterable[int]) -> Practice:
    """The learner's level, and the last attempt and last correct one per exercise. One
    statement; bounded by the exercises asked about."""
    exercises = tuple(exercise_ids)
    key = ("practice", str(learner_id), exercises)
    entry = readcache.lookup(key)
    params: Params = {
        "learner": str(learner_id),
        "exercises": pg_array(exercises),
        "cached_rev": entry.rev if entry else None,
    }
    with connection.cursor() as cursor:
        cursor.execute(PRACTICE_SQL, params)
        rows = cursor.fetchall()
    practice = Practice()
    learner = [row for row in rows if row[0] == 0]
    seen = [row for row in rows if row[0] == 1]
    if learner:
        _, rev, _, _, level = learner[0]
        practice.level = level or ""
        cached = readcache.current_rows(entry, rev)
        if cached is not None:
            seen = list(cached)
        else:
            readcache.store(key, rev, seen)
    for _, exercise_id, last, last_ok, _ in seen:
        practice.seen[exercise_id] = (last, last_ok)
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
