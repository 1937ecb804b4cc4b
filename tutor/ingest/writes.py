"""One utterance (with its errors), errors added to an utterance, a single error."""

from __future__ import annotations

import contextlib
import uuid

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config.errors import ApplicationError
from tutor import ids, sql
from tutor.ingest import plans
from tutor.ingest.plans import ErrorRow, Increments, UtteranceRow
from tutor.payloads import ErrorItem, UtteranceIn

# One statement, one round trip: the conversation's learner, the utterance (unless its id
# exists: a retry) and its errors with their batch mark. A single statement is atomic by itself,
# so outside a transaction there is no BEGIN/COMMIT exchange either.
UTTERANCE_INSERT_SQL = """
WITH conv AS (
    SELECT learner_id FROM tutor_conversation WHERE id = %(conversation)s
), utt AS (
    INSERT INTO tutor_utterance (id, conversation_id, learner_id, content, created_at)
    SELECT %(utterance)s, %(conversation)s, learner_id, %(content)s, %(at)s FROM conv
    ON CONFLICT (id) DO NOTHING
    RETURNING id, learner_id
), errs AS (
    INSERT INTO tutor_learnererror
        (id, learner_id, utterance_id, subcategory_id, created_at, uncounted_batch)
    SELECT e.id, utt.learner_id, utt.id, e.sub, e.at, %(batch)s
    FROM utt, unnest(%(ids)s::uuid[], %(subs)s::bigint[], %(ats)s::timestamptz[]) AS e(id, sub, at)
    RETURNING 1
)
SELECT (SELECT learner_id FROM conv), (SELECT count(*) FROM utt), (SELECT count(*) FROM errs)
"""

STORED_SQL = """
SELECT u.id, u.conversation_id, u.learner_id, u.content, u.created_at,
       e.id, e.subcategory_id, e.created_at
FROM tutor_utterance u LEFT JOIN tutor_learnererror e ON e.utterance_id = u.id
WHERE u.id = ANY(%s::uuid[])
ORDER BY u.id, e.created_at, e.id
"""


def utterances_stored(ids: list[uuid.UUID]) -> dict[uuid.UUID, UtteranceRow]:
    """Stored utterances with all their errors, by id (one query)."""
    found: dict[uuid.UUID, UtteranceRow] = {}
    with connection.cursor() as cursor:
        cursor.execute(STORED_SQL, [sql.pg_array(ids)])
        for uid, conv, learner, content, at, eid, sub, eat in cursor.fetchall():
            row = found.get(uid)
            if row is None:
                row = found[uid] = UtteranceRow(uid, conv, content, at, [], learner_id=learner)
            if eid is not None:
                row.errors.append(ErrorRow(eid, sub, eat))
    return found


def _existing_error_attr(rows: list[ErrorRow], prefix: str = "") -> str:
    from tutor.models import LearnerError

    taken = set(
        LearnerError.objects.filter(pk__in=[r.id for r in rows]).values_list("pk", flat=True)
    )
    index = next(i for i, r in enumerate(rows) if r.id in taken)
    return f"{prefix}errors.{index}.id"


def utterance_create(*, item: UtteranceIn) -> tuple[UtteranceRow, bool]:
    """Stores the utterance and its errors (one statement); returns (stored, created).

    Idempotent per id: an existing id with the same content returns the stored utterance
    (created False, nothing counted); with other content, 409 naming `id`.
    """
    plan, batch = plans.utterance_plan(item, now=timezone.now()), ids.new_id()
    learner_id, inserted = _utterance_insert(plan, batch)
    if learner_id is None:
        raise ApplicationError(
            "unknown_conversation", "No conversation with this id.", attr="conversation_id"
        )
    if not inserted:
        stored = utterances_stored([plan.id]).get(plan.id)
        match = stored and plans.stored_match(plan, stored)
        if not match:
            raise plans.conflict()
        return match, False
    plan.learner_id = learner_id
    counts = Increments()
    counts.add(learner_id, batch, plan.errors)
    counts.send_after_commit()
    return plan, True


def _utterance_insert(plan: UtteranceRow, batch: uuid.UUID) -> tuple[uuid.UUID | None, int]:
    """(the conversation's learner or None, utterances inserted: 0 when the id exists)."""
    params: sql.Params = {
        "conversation": plan.conversation_id,
        "utterance": plan.id,
        "content": plan.content,
        "at": plan.created_at,
        "batch": batch,
        "ids": sql.pg_array(e.id for e in plan.errors),
        "subs": sql.pg_array(e.subcategory_id for e in plan.errors),
        "ats": sql.pg_times(e.created_at for e in plan.errors),
    }
    try:
        scope = transaction.atomic() if plans.client_error_ids([plan]) else contextlib.nullcontext()
        with scope, connection.cursor() as cursor:
            cursor.execute(UTTERANCE_INSERT_SQL, params)
            learner_id, inserted, _ = cursor.fetchone()
    except IntegrityError as exc:
        if not plans.pk_conflict(exc):
            raise
        raise plans.conflict(_existing_error_attr(plan.errors)) from exc
    return learner_id, inserted


# --- Errors on their own ------------------------------------------------------------------------

ERRORS_INSERT_SQL = """
INSERT INTO tutor_learnererror
    (id, learner_id, utterance_id, subcategory_id, created_at, uncounted_batch)
SELECT e.id, %(learner)s, %(utterance)s, e.sub, e.at, %(batch)s
FROM unnest(%(ids)s::uuid[], %(subs)s::bigint[], %(ats)s::timestamptz[]) AS e(id, sub, at)
ON CONFLICT (id) DO NOTHING
RETURNING id
"""


def errors_insert(
    *,
    learner_id: uuid.UUID,
    utterance_id: uuid.UUID | None,
    items: list[ErrorItem],
    single: bool = False,
) -> tuple[list[ErrorRow], bool]:
    """Inserts errors (each idempotent per id) in the caller's transaction; returns the rows as
    stored, in request order, and whether any was new. 409 naming `errors.N.id` when an
    existing id holds other content."""
    now = timezone.now()
    rows = plans.error_rows(items, at=now, now=now, prefix="", single=single)
    batch = ids.new_id()
    with connection.cursor() as cursor:
        cursor.execute(
            ERRORS_INSERT_SQL,
            {
                "learner": learner_id,
                "utterance": utterance_id,
                "batch": batch,
                "ids": sql.pg_array(r.id for r in rows),
                "subs": sql.pg_array(r.subcategory_id for r in rows),
                "ats": sql.pg_times(r.created_at for r in rows),
            },
        )
        inserted = {r[0] for r in cursor.fetchall()}
    stored = rows if len(inserted) == len(rows) else _errors_compare(
        rows, items, inserted, learner_id, utterance_id, single
    )  # fmt: skip
    new = [r for r in rows if r.id in inserted]
    if new:
        counts = Increments()
        counts.add(learner_id, batch, new)
        counts.send_after_commit()
    return stored, bool(new)


def _errors_compare(rows, items, inserted, learner_id, utterance_id, single) -> list[ErrorRow]:
    from tutor.models import LearnerError

    existing = {
        e.id: e
        for e in LearnerError.objects.filter(pk__in=[r.id for r in rows if r.id not in inserted])
    }
    stored = []
    for i, (row, item) in enumerate(zip(rows, items, strict=True)):
        if row.id in inserted:
            stored.append(row)
            continue
        old = existing[row.id]
        same = (old.learner_id, old.utterance_id, old.subcategory_id) == (
            learner_id,
            utterance_id,
            row.subcategory_id,
        ) and (item.created_at is None or item.created_at == old.created_at)
        if not same:
            raise plans.conflict("id" if single else f"errors.{i}.id")
        stored.append(ErrorRow(old.id, old.subcategory_id, old.created_at))
    return stored


def utterance_errors_add(
    *, utterance_id: uuid.UUID, items: list[ErrorItem]
) -> tuple[list[ErrorRow], bool]:
    """404 for an unknown utterance. Idempotent per error id; (rows, any new)."""
    from tutor.models import Utterance

    owner = Utterance.objects.filter(pk=utterance_id).values_list("learner_id", flat=True).first()
    if owner is None:
        raise ApplicationError("utterance_not_found", "No utterance with this id.", status=404)
    with transaction.atomic():
        return errors_insert(learner_id=owner, utterance_id=utterance_id, items=items)


def error_create(
    *, learner_id: uuid.UUID, item: ErrorItem, utterance_id: uuid.UUID | None = None
) -> tuple[ErrorRow, bool]:
    """One error for simple clients; the utterance, when given, must belong to the learner.
    Idempotent per id: (row as stored, created)."""
    from tutor.models import Learner, Utterance

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
        (row,), new = errors_insert(
            learner_id=learner_id, utterance_id=utterance_id, items=[item], single=True
        )
    return row, new
