"""Exercise attempts: recording one (idempotent on its id), listing a learner's, setting a level.

An attempt, its daily aggregate and the learner's new evidence_rev (tutor/readcache.py) are
written in one statement, so the attempt counts for ranking and progress as soon as its 201 is
sent, and a retry (the same id) changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from config.cursors import Cursor, CursorCodec
from config.errors import ApplicationError
from tutor.models import Exercise, ExerciseAttempt, Learner
from tutor.sql import EVIDENCE_REV_BUMP, Params

CURSORS = CursorCodec(salt="tutor.attempts.cursor", id_type=uuid.UUID)
# A client clock a little ahead of ours is not "the future".
CLOCK_SKEW = timedelta(minutes=5)

ATTEMPT_INSERT_SQL = f"""
WITH learner AS (
    SELECT id FROM tutor_learner WHERE id = %(learner)s
), exercise AS (
    SELECT id, subcategory_id FROM tutor_exercise WHERE id = %(exercise)s
), ins AS (
    INSERT INTO tutor_exerciseattempt
        (id, learner_id, exercise_id, subcategory_id, correct, answer, created_at)
    SELECT %(id)s, learner.id, exercise.id, exercise.subcategory_id, %(correct)s, %(answer)s,
           %(at)s
    FROM learner, exercise
    ON CONFLICT (id) DO NOTHING
    RETURNING subcategory_id
), agg AS (
    INSERT INTO tutor_attemptcount (learner_id, day, subcategory_id, attempts, correct, last_at)
    SELECT %(learner)s, %(day)s, subcategory_id, 1, %(correct)s::int, %(at)s FROM ins
    ON CONFLICT (learner_id, day, subcategory_id) DO UPDATE SET
        attempts = tutor_attemptcount.attempts + 1,
        correct = tutor_attemptcount.correct + EXCLUDED.correct,
        last_at = greatest(tutor_attemptcount.last_at, EXCLUDED.last_at)
), rev AS (
    {EVIDENCE_REV_BUMP} WHERE id = %(learner)s AND EXISTS (SELECT FROM ins)
)
SELECT (SELECT count(*) FROM learner), (SELECT count(*) FROM exercise), (SELECT count(*) FROM ins)
"""


def _attempt_time(created_at: datetime | None, now: datetime) -> datetime:
    if created_at is None:
        return now
    if created_at > now + CLOCK_SKEW:
        raise ApplicationError("in_future", "created_at is in the future.", attr="created_at")
    if created_at < now - timedelta(days=settings.TUTOR_ATTEMPT_MAX_AGE_DAYS):
        raise ApplicationError(
            "too_old",
            f"created_at is more than {settings.TUTOR_ATTEMPT_MAX_AGE_DAYS} days old.",
            attr="created_at",
        )
    return created_at


def attempt_record(
    *,
    learner_id: uuid.UUID,
    exercise_id: int,
    correct: bool,
    answer: str = "",
    attempt_id: uuid.UUID | None = None,
    created_at: datetime | None = None,
) -> tuple[ExerciseAttempt, bool]:
    """Returns (attempt, created). Idempotent on `attempt_id`: the same content again returns
    the stored attempt (created False); different content under a known id is a 409 naming `id`.
    A retry without `created_at` matches whatever time the first request stored."""
    at = _attempt_time(created_at, timezone.now())
    attempt = ExerciseAttempt(
        id=attempt_id or uuid.uuid4(),
        learner_id=learner_id,
        exercise_id=exercise_id,
        correct=correct,
        answer=answer,
        created_at=at,
    )
    params: Params = {
        "id": attempt.id,
        "learner": learner_id,
        "exercise": exercise_id,
        "correct": correct,
        "answer": answer,
        "at": at,
        "day": at.astimezone(UTC).date(),
    }
    with connection.cursor() as cursor:
        cursor.execute(ATTEMPT_INSERT_SQL, params)
        learners, exercises, inserted = cursor.fetchone()
    if not learners:
        raise ApplicationError("unknown_user", "No user with this id.", attr="user_id")
    if not exercises:
        raise ApplicationError("unknown_exercise", "No exercise with this id.", attr="exercise_id")
    if inserted:
        return ExerciseAttempt.objects.get(pk=attempt.id), True
    return _existing(attempt, compare_time=created_at is not None), False


def _existing(attempt: ExerciseAttempt, *, compare_time: bool) -> ExerciseAttempt:
    stored = ExerciseAttempt.objects.get(pk=attempt.id)
    fields = ["learner_id", "exercise_id", "correct", "answer"]
    if compare_time:
        fields.append("created_at")
    if any(getattr(stored, f) != getattr(attempt, f) for f in fields):
        raise ApplicationError(
            "attempt_conflict", "A different attempt already has this id.", status=409, attr="id"
        )
    return stored


def attempts_page(
    *, learner_id: uuid.UUID, cursor: Cursor | None, size: int
) -> tuple[list[ExerciseAttempt], Cursor | None]:
    """Newest first, keyset-paged on (created_at, id): the same cost at any depth. 404 for an
    unknown learner."""
    if not Learner.objects.filter(pk=learner_id).exists():
        raise ApplicationError("user_not_found", "No user with this id.", status=404)
    qs = ExerciseAttempt.objects.filter(learner_id=learner_id).order_by("-created_at", "-id")
    if cursor is not None:
        t, i = cursor.created_at, cursor.id
        qs = qs.filter(created_at__lte=t).filter(Q(created_at__lt=t) | Q(id__lt=i))
    rows = list(qs.select_related("exercise")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    nxt = Cursor(created_at=rows[-1].created_at, id=rows[-1].id) if more else None
    return rows, nxt


def learner_level_set(*, learner_id: uuid.UUID, level: str) -> Learner:
    """`level` is a CEFR code or "" (unknown). 404 for an unknown learner."""
    if not Learner.objects.filter(pk=learner_id).update(level=level):
        raise ApplicationError("user_not_found", "No user with this id.", status=404)
    return Learner.objects.get(pk=learner_id)


def exercise_get(*, exercise_id: int) -> Exercise:
    exercise = (
        Exercise.objects.select_related("subcategory__category").filter(pk=exercise_id).first()
    )
    if exercise is None:
        raise ApplicationError("exercise_not_found", "No exercise with this id.", status=404)
    return exercise
