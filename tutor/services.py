"""Tutor writes: learners, conversations, utterances and errors; the counter flush entry points.

Errors are committed to Postgres first (the truth); after commit one Redis round trip bumps the
learner's pending counters. If that fails, the rows are marked uncounted and the flush folds them
in later, so every error is counted exactly once either way (see the `tutor.flush` package).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config import redis as app_redis
from config.errors import ApplicationError
from tutor import counters, flush, sql, taxonomy
from tutor.models import Conversation, Learner, LearnerError, Utterance

logger = logging.getLogger(__name__)

ErrorLabels = Sequence[tuple[str, str]]  # (errorCategory, errorSubCategory)


def learner_create(
    *, username: str, email: str, first_name: str = "", last_name: str = ""
) -> Learner:
    """400 naming `username` or `email` when taken (checked first, then enforced by the DB)."""
    for name, value in (("username", username), ("email", email)):
        if Learner.objects.filter(**{f"{name}__iexact": value}).exists():
            raise ApplicationError("unique", f"A user with this {name} already exists.", attr=name)
    try:
        with transaction.atomic():
            return Learner.objects.create(
                username=username, email=email, first_name=first_name, last_name=last_name
            )
    except IntegrityError as exc:  # lost a race with an identical request
        attr = "email" if "email" in str(exc) else "username"
        raise ApplicationError(
            "unique", f"A user with this {attr} already exists.", attr=attr
        ) from exc


def conversation_create(*, learner_id: uuid.UUID) -> Conversation:
    if not Learner.objects.filter(pk=learner_id).exists():
        raise ApplicationError("unknown_user", "No user with this id.", attr="user_id")
    return Conversation.objects.create(learner_id=learner_id)


def _resolve(errors: ErrorLabels, *, attr_prefix: str) -> list[taxonomy.Subcategory]:
    return [
        taxonomy.subcategory_resolve(
            category=category, subcategory=sub, attr_prefix=attr_prefix.format(i=i)
        )
        for i, (category, sub) in enumerate(errors)
    ]


def _errors_insert(
    *, learner_id: uuid.UUID, utterance_id: uuid.UUID | None, subs: list[taxonomy.Subcategory], at
) -> list[LearnerError]:
    rows = [
        LearnerError(
            learner_id=learner_id, utterance_id=utterance_id, subcategory_id=s.id, created_at=at
        )
        for s in subs
    ]
    if rows:
        LearnerError.objects.bulk_create(rows)
        transaction.on_commit(lambda: errors_count(rows=rows), robust=True)
    return rows


def errors_count(*, rows: list[LearnerError]) -> bool:
    """After commit: one Redis round trip. On failure the rows are marked for the flush's fold.

    A failure after sending is ambiguous (the increment may have landed); the batch id written
    with the increments lets the fold tell the two cases apart.
    """
    batch = uuid.uuid4()
    first = rows[0]
    try:
        counters.ingest_increment(
            learner_id=str(first.learner_id),
            batch=batch,
            at=first.created_at,
            subcategory_ids=[r.subcategory_id for r in rows],
        )
        return True
    except app_redis.UNAVAILABLE as exc:
        logger.warning("redis increment failed, errors left for the flush: %s", exc)
        LearnerError.objects.filter(pk__in=[r.pk for r in rows]).update(uncounted_batch=batch)
        return False


# One statement, one round trip: look up the conversation's learner, insert the utterance and its
# errors. A single statement is atomic on its own, so outside an outer transaction there is no
# BEGIN/COMMIT exchange either. Measured on the ingest hot path: four ORM statements and a commit
# cost 48% of the request's CPU (bench/results.md).
UTTERANCE_INSERT_SQL = """
WITH conv AS (
    SELECT learner_id FROM tutor_conversation WHERE id = %(conversation)s
), utt AS (
    INSERT INTO tutor_utterance (id, conversation_id, learner_id, content, created_at)
    SELECT %(utterance)s, %(conversation)s, learner_id, %(content)s, %(at)s FROM conv
    RETURNING id, learner_id
), errs AS (
    INSERT INTO tutor_learnererror (learner_id, utterance_id, subcategory_id, created_at)
    SELECT utt.learner_id, utt.id, sub.id, %(at)s
    FROM utt, unnest(%(subcategories)s::bigint[]) WITH ORDINALITY AS sub(id, n)
    ORDER BY sub.n
    RETURNING id
)
SELECT utt.learner_id, (SELECT array_agg(id ORDER BY id) FROM errs) FROM utt
"""


def utterance_create(*, conversation_id: uuid.UUID, content: str, errors: ErrorLabels) -> Utterance:
    """Stores the utterance and its errors atomically (one statement); counts them after commit."""
    subs = _resolve(errors, attr_prefix="errors.{i}.")
    utterance = Utterance(
        id=uuid.uuid4(), conversation_id=conversation_id, content=content, created_at=timezone.now()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            UTTERANCE_INSERT_SQL,
            {
                "conversation": conversation_id,
                "utterance": utterance.id,
                "content": content,
                "at": utterance.created_at,
                "subcategories": sql.pg_array(s.id for s in subs),
            },
        )
        row = cursor.fetchone()
    if row is None:
        raise ApplicationError(
            "unknown_conversation", "No conversation with this id.", attr="conversation_id"
        )
    utterance.learner_id, error_ids = row
    rows = [
        LearnerError(
            id=error_id,
            learner_id=utterance.learner_id,
            utterance_id=utterance.id,
            subcategory_id=sub.id,
            created_at=utterance.created_at,
        )
        for error_id, sub in zip(error_ids or [], subs, strict=True)
    ]
    if rows:
        transaction.on_commit(lambda: errors_count(rows=rows), robust=True)
    utterance.new_errors = rows
    return utterance


def utterance_errors_add(*, utterance_id: uuid.UUID, errors: ErrorLabels) -> list[LearnerError]:
    subs = _resolve(errors, attr_prefix="errors.{i}.")
    utterance = Utterance.objects.filter(pk=utterance_id).only("learner_id").first()
    if utterance is None:
        raise ApplicationError("utterance_not_found", "No utterance with this id.", status=404)
    with transaction.atomic():
        return _errors_insert(
            learner_id=utterance.learner_id, utterance_id=utterance.id, subs=subs, at=timezone.now()
        )


def error_create(
    *, learner_id: uuid.UUID, category: str, subcategory: str, utterance_id: uuid.UUID | None = None
) -> LearnerError:
    """One error for simple clients; the utterance, when given, must belong to the learner."""
    sub = taxonomy.subcategory_resolve(category=category, subcategory=subcategory)
    if utterance_id is not None:
        owner = (
            Utterance.objects.filter(pk=utterance_id).values_list("learner_id", flat=True).first()
        )
        if owner is None:
            raise ApplicationError(
                "unknown_utterance", "No utterance with this id.", attr="utterance_id"
            )
        if owner != learner_id:
            raise ApplicationError(
                "utterance_of_other_user",
                "This utterance belongs to another user.",
                attr="utterance_id",
            )
    elif not Learner.objects.filter(pk=learner_id).exists():
        raise ApplicationError("unknown_user", "No user with this id.", attr="user_id")
    with transaction.atomic():
        (row,) = _errors_insert(
            learner_id=learner_id, utterance_id=utterance_id, subs=[sub], at=timezone.now()
        )
    return row


def error_counts_flush() -> flush.FlushResult:
    """Idempotent and safe to overlap: see the `tutor.flush` package."""
    return flush.error_counts_flush()


def error_counts_rebuild() -> int:
    return flush.error_counts_rebuild()
