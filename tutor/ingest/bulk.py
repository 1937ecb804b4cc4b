"""POST /api/utterances/bulk: every item validated first, the valid ones written in one statement
(one INSERT per table, from arrays), counted in one Redis pipeline; one result per item."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from typing import cast

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from drf_standardized_errors.formatter import flatten_errors
from rest_framework.exceptions import APIException

from config.errors import ApplicationError
from tutor import payloads, sql
from tutor.ingest import plans, writes
from tutor.ingest.plans import Increments, UtteranceRow

BULK_INSERT_SQL = """
WITH u AS (
    INSERT INTO tutor_utterance (id, conversation_id, learner_id, content, created_at)
    SELECT * FROM unnest(%(ids)s::uuid[], %(convs)s::uuid[], %(learners)s::uuid[],
                         %(contents)s::text[], %(ats)s::timestamptz[])
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), e AS (
    INSERT INTO tutor_learnererror
        (id, learner_id, utterance_id, subcategory_id, created_at, uncounted_batch)
    SELECT e.id, e.learner, e.utt, e.sub, e.at, e.batch
    FROM unnest(%(eids)s::uuid[], %(elearners)s::uuid[], %(eutts)s::uuid[],
                %(esubs)s::bigint[], %(eats)s::timestamptz[], %(ebatches)s::uuid[])
         AS e(id, learner, utt, sub, at, batch)
    WHERE e.utt IN (SELECT id FROM u)
    RETURNING 1
)
SELECT id FROM u
"""


@dataclass
class ItemResult:
    status: int
    id: uuid.UUID | None = None
    error_ids: list[uuid.UUID] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)


def _rejected(exc: APIException, index: int) -> ItemResult:
    errors = flatten_errors(exc.detail, attr=f"utterances.{index}")
    return ItemResult(
        exc.status_code,
        errors=[{"code": e.code, "detail": e.detail, "attr": e.attr} for e in errors],
    )


def _ok(status: int, row: UtteranceRow) -> ItemResult:
    return ItemResult(status, id=row.id, error_ids=[e.id for e in row.errors])


def utterances_bulk_create(*, raw_items: list) -> list[ItemResult]:
    """Idempotent per utterance id, like utterance_create; invalid items never stop valid ones."""
    if len(raw_items) > settings.TUTOR_BULK_MAX:
        raise ApplicationError(
            "too_many_items",
            f"At most {settings.TUTOR_BULK_MAX} utterances per request.",
            status=413,
            attr="utterances",
        )
    results: dict[int, ItemResult] = {}
    todo = _plan_items(raw_items, results)
    _learners_assign(todo, results)
    inserted = _insert(todo, results)
    _compare_existing(todo, inserted, results)
    return [results[i] for i in range(len(raw_items))]


def _plan_items(raw_items: list, results: dict[int, ItemResult]) -> dict[int, UtteranceRow]:
    now, labels = timezone.now(), plans.Labels()
    todo: dict[int, UtteranceRow] = {}
    for i, raw in enumerate(raw_items):
        try:
            todo[i] = plans.utterance_plan(payloads.bulk_item(raw), now=now, labels=labels)
        except APIException as exc:
            results[i] = _rejected(exc, i)
    return todo


def _learners_assign(todo: dict[int, UtteranceRow], results: dict[int, ItemResult]) -> None:
    conversations = {row.conversation_id for row in todo.values()}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, learner_id FROM tutor_conversation WHERE id = ANY(%s::uuid[])",
            [sql.pg_array(conversations)],
        )
        learners = dict(cursor.fetchall())
    for i, row in list(todo.items()):
        row.learner_id = learners.get(row.conversation_id)
        if row.learner_id is None:
            del todo[i]
            results[i] = _rejected(
                ApplicationError(
                    "unknown_conversation", "No conversation with this id.", attr="conversation_id"
                ),
                i,
            )


def _insert(todo: dict[int, UtteranceRow], results: dict[int, ItemResult]) -> set[uuid.UUID]:
    """Writes the first occurrence of each id; an item whose client error id is taken gets a
    409 and the statement runs again without it (the statement is all or nothing)."""
    for _ in range(3):
        first: dict[uuid.UUID, tuple[int, UtteranceRow]] = {}
        for i, row in todo.items():
            first.setdefault(row.id, (i, row))
        rows = [row for _, row in first.values()]
        scope = transaction.atomic() if plans.client_error_ids(rows) else contextlib.nullcontext()
        try:
            with scope:
                counts, inserted = _write(rows)
        except IntegrityError as exc:
            if not plans.pk_conflict(exc):
                raise
            _reject_taken_error_ids(todo, results)
            continue
        counts.send_after_commit()
        for i, row in first.values():
            if row.id in inserted:
                results[i] = _ok(201, row)
        return inserted
    raise ApplicationError("id_conflict", "Concurrent writes keep conflicting; retry.", status=409)


def _write(rows: list[UtteranceRow]) -> tuple[Increments, set[uuid.UUID]]:
    batches: dict[uuid.UUID, uuid.UUID] = {}
    errors = [(row, e, plans.batch_for(batches, _learner(row))) for row in rows for e in row.errors]
    params: sql.Params = {
        "ids": sql.pg_uuids(r.id for r in rows),
        "convs": sql.pg_uuids(r.conversation_id for r in rows),
        "learners": sql.pg_uuids(_learner(r) for r in rows),
        "contents": [r.content for r in rows],
        "ats": sql.pg_times(r.created_at for r in rows),
        "eids": sql.pg_uuids(e.id for _, e, _ in errors),
        "elearners": sql.pg_uuids(_learner(r) for r, _, _ in errors),
        "eutts": sql.pg_uuids(r.id for r, _, _ in errors),
        "esubs": sql.pg_array(e.subcategory_id for _, e, _ in errors),
        "eats": sql.pg_times(e.created_at for _, e, _ in errors),
        "ebatches": sql.pg_uuids(b for _, _, b in errors),
    }
    with connection.cursor() as cursor:
        cursor.execute(BULK_INSERT_SQL, params)
        inserted = {r[0] for r in cursor.fetchall()}
    counts = Increments()
    for row in rows:
        if row.id in inserted and row.errors:
            learner_id = _learner(row)
            counts.add(learner_id, batches[learner_id], row.errors)
    return counts, inserted


def _learner(row: UtteranceRow) -> uuid.UUID:
    return cast(uuid.UUID, row.learner_id)  # _learners_assign drops rows without one


def _reject_taken_error_ids(todo: dict[int, UtteranceRow], results: dict[int, ItemResult]) -> None:
    from tutor.models import LearnerError

    ids = [e.id for row in todo.values() for e in row.errors]
    taken = set(LearnerError.objects.filter(pk__in=ids).values_list("pk", flat=True))
    for i, row in list(todo.items()):
        index = next((k for k, e in enumerate(row.errors) if e.id in taken), None)
        if index is not None:
            del todo[i]
            results[i] = _rejected(plans.conflict(f"errors.{index}.id"), i)


def _compare_existing(
    todo: dict[int, UtteranceRow], inserted: set[uuid.UUID], results: dict[int, ItemResult]
) -> None:
    """Items whose id was already stored (or repeated in this request): 200 or 409."""
    waiting = {i: row for i, row in todo.items() if i not in results}
    if not waiting:
        return
    stored = writes.utterances_stored(list({row.id for row in waiting.values()}))
    for i, row in waiting.items():
        found = stored.get(row.id)
        match = found and plans.stored_match(row, found)
        if match:
            results[i] = _ok(200, match)
        else:
            results[i] = _rejected(plans.conflict(), i)
