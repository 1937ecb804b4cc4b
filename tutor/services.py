"""Tutor writes: learners, conversations, utterances and errors; the counter flush entry points.

Utterances and errors are written by `tutor.ingest` (retry-safe, counted exactly once, bulk);
the functions here take plain labels, for callers outside HTTP.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import cast

from django.db import IntegrityError, transaction

from config.errors import ApplicationError
from tutor import flush, ids
from tutor.ingest import writes
from tutor.ingest.plans import ErrorRow, Increments, UtteranceRow, conflict
from tutor.models import Conversation, Learner, LearnerError, Utterance
from tutor.payloads import ErrorItem, UtteranceIn

logger = logging.getLogger(__name__)

ErrorLabels = Sequence[tuple[str, str]]  # (errorCategory, errorSubCategory)


def learner_create(
    *,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    id: uuid.UUID | None = None,
) -> Learner:
    """400 naming `username` or `email` when taken (checked first, then enforced by the DB)."""
    for name, value in (("username", username), ("email", email)):
        if Learner.objects.filter(**{f"{name}__iexact": value}).exists():
            raise ApplicationError("unique", f"A user with this {name} already exists.", attr=name)
    try:
        with transaction.atomic():
            return Learner.objects.create(
                id=id or uuid.uuid4(),
                username=username,
                email=email,
                first_name=first_name,
                last_name=last_name,
            )
    except IntegrityError as exc:  # lost a race with an identical request
        attr = "email" if "email" in str(exc) else "username"
        raise ApplicationError(
            "unique", f"A user with this {attr} already exists.", attr=attr
        ) from exc


def learner_ensure(*, id: uuid.UUID, **fields: str) -> tuple[Learner, bool]:
    """Idempotent `learner_create` with a client id: (learner, created). The same fields again
    give the stored learner; other fields, 409 naming `id`."""
    stored = Learner.objects.filter(pk=id).first()
    if stored is None:
        try:
            return learner_create(id=id, **fields), True
        except ApplicationError:  # taken: perhaps by an identical request racing this one
            stored = Learner.objects.filter(pk=id).first()
            if stored is None:
                raise
    if any(getattr(stored, name) != value for name, value in fields.items()):
        raise conflict()
    return stored, False


def conversation_create(
    *,
    learner_id: uuid.UUID,
    id: uuid.UUID | None = None,
) -> tuple[Conversation, bool]:
    """(conversation, created). Idempotent per client id: the same user again gives the stored
    conversation; another user, 409 naming `id`."""
    if id is not None:
        stored = Conversation.objects.filter(pk=id).first()
        if stored is not None:
            if stored.learner_id != learner_id:
                raise conflict()
            return stored, False
    if not Learner.objects.filter(pk=learner_id).exists():
        raise ApplicationError("unknown_user", "No user with this id.", attr="user_id")
    try:
        with transaction.atomic():
            return Conversation.objects.create(id=id or uuid.uuid4(), learner_id=learner_id), True
    except IntegrityError:
        if id is None or not Conversation.objects.filter(pk=id).exists():
            raise
        return conversation_create(learner_id=learner_id, id=id)  # a racing twin won


# --- Utterances and errors (the write path lives in `tutor.ingest`) ----------------------------


def _items(errors: ErrorLabels) -> list[ErrorItem]:
    return [ErrorItem(errorCategory=c, errorSubCategory=s) for c, s in errors]


def _utterance(row: UtteranceRow) -> Utterance:
    learner_id = cast(uuid.UUID, row.learner_id)  # the write returns only rows it resolved
    utterance = Utterance(
        id=row.id,
        conversation_id=row.conversation_id,
        learner_id=learner_id,
        content=row.content,
        created_at=row.created_at,
    )
    utterance.new_errors = [_error(e, learner_id, row.id) for e in row.errors]
    return utterance


def _error(row: ErrorRow, learner_id, utterance_id) -> LearnerError:
    return LearnerError(
        id=row.id,
        learner_id=learner_id,
        utterance_id=utterance_id,
        subcategory_id=row.subcategory_id,
        created_at=row.created_at,
    )


def utterance_create(*, conversation_id: uuid.UUID, content: str, errors: ErrorLabels) -> Utterance:
    """Labels in, the stored utterance out (its errors on `.new_errors`); see ingest.writes."""
    item = UtteranceIn(conversation_id=conversation_id, content=content, errors=_items(errors))
    row, _ = writes.utterance_create(item=item)
    return _utterance(row)


def utterance_errors_add(*, utterance_id: uuid.UUID, errors: ErrorLabels) -> list[LearnerError]:
    rows, _ = writes.utterance_errors_add(utterance_id=utterance_id, items=_items(errors))
    owner = Utterance.objects.values_list("learner_id", flat=True).get(pk=utterance_id)
    return [_error(r, owner, utterance_id) for r in rows]


def error_create(
    *, learner_id: uuid.UUID, category: str, subcategory: str, utterance_id: uuid.UUID | None = None
) -> LearnerError:
    """One error for simple clients; the utterance, when given, must belong to the learner."""
    item = ErrorItem(errorCategory=category, errorSubCategory=subcategory)
    row, _ = writes.error_create(learner_id=learner_id, item=item, utterance_id=utterance_id)
    return _error(row, learner_id, utterance_id)


def errors_count(*, rows: list[LearnerError]) -> bool:
    """Counts rows written without the ingest path (one learner's): one Redis round trip; on
    failure the rows are marked with the batch it sent, for the flush's fold."""
    batch = ids.new_id()
    counts = Increments()
    counts.add(
        rows[0].learner_id, batch, [ErrorRow(r.pk, r.subcategory_id, r.created_at) for r in rows]
    )
    if counts.send():
        return True
    LearnerError.objects.filter(pk__in=[r.pk for r in rows]).update(uncounted_batch=batch)
    return False


def error_counts_flush() -> flush.FlushResult:
    """Idempotent and safe to overlap: see the `tutor.flush` package."""
    return flush.error_counts_flush()


def error_counts_rebuild() -> int:
    return flush.error_counts_rebuild()
