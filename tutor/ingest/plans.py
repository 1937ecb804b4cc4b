"""Validated ingest requests ("plans"), the retry comparison, and the after-commit counts."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from config import redis as app_redis
from config.errors import ApplicationError
from tutor import counters, taxonomy
from tutor.ids import new_id, new_ids
from tutor.payloads import ErrorItem, UtteranceIn

logger = logging.getLogger(__name__)


def client_time(value: datetime | None, *, attr: str, now: datetime) -> datetime:
    """The moment the learner spoke. 400 naming `attr` beyond the accepted window."""
    if value is None:
        return now
    if value > now + timedelta(seconds=settings.TUTOR_MAX_FUTURE_SECONDS):
        raise ApplicationError("time_in_future", "This time is in the future.", attr=attr)
    if value < now - timedelta(days=settings.TUTOR_MAX_AGE_DAYS):
        raise ApplicationError(
            "time_too_old",
            f"This time is more than {settings.TUTOR_MAX_AGE_DAYS} days ago.",
            attr=attr,
        )
    return value


# --- Plans: a validated request, ready to write -------------------------------------------------


@dataclass
class ErrorRow:
    id: uuid.UUID
    subcategory_id: int
    created_at: datetime


@dataclass
class UtteranceRow:
    """An utterance as stored (or to be stored), with its errors in request order."""

    id: uuid.UUID
    conversation_id: uuid.UUID
    content: str
    created_at: datetime
    errors: list[ErrorRow]
    learner_id: uuid.UUID | None = None
    # What the client chose: only that is compared when the id already exists.
    time_given: bool = False
    error_ids_given: bool = False
    error_times_given: list[bool] = field(default_factory=list)


class Labels:
    """Label -> subcategory for one request: one taxonomy look-up per request, and a memo of
    raw labels across requests (chat backends send the same few), dropped on a reload."""

    _memo: dict[tuple[str, str], taxonomy.Subcategory] = {}
    _memo_of: list[object] = [None]

    def __init__(self) -> None:
        current = taxonomy.taxonomy_get()
        if self._memo_of[0] is not current:
            self._memo.clear()
            self._memo_of[0] = current

    def resolve(self, item: ErrorItem, *, attr_prefix: str) -> taxonomy.Subcategory:
        raw = (item.errorCategory, item.errorSubCategory)
        found = self._memo.get(raw)
        if found is None:
            found = taxonomy.subcategory_resolve(
                category=raw[0], subcategory=raw[1], attr_prefix=attr_prefix
            )
            if len(self._memo) < 10_000:
                self._memo[raw] = found
        return found


def error_rows(
    items: list[ErrorItem],
    *,
    at: datetime,
    now: datetime,
    prefix: str,
    single: bool = False,
    labels: Labels | None = None,
) -> list[ErrorRow]:
    """`single`: the error is the body itself (POST /api/errors), so attrs carry no index."""
    labels = labels or Labels()
    fresh = iter(new_ids(sum(1 for item in items if item.id is None)))
    rows = []
    for i, item in enumerate(items):
        attr = prefix if single else f"{prefix}errors.{i}."
        sub = labels.resolve(item, attr_prefix=attr)
        when = at if item.created_at is None else client_time(
            item.created_at, attr=f"{attr}created_at", now=now
        )  # fmt: skip
        rows.append(ErrorRow(item.id or next(fresh), sub.id, when))
    return rows


def utterance_plan(
    item: UtteranceIn, *, now: datetime, prefix: str = "", labels: Labels | None = None
) -> UtteranceRow:
    at = client_time(item.created_at, attr=f"{prefix}created_at", now=now)
    return UtteranceRow(
        id=item.id or new_id(),
        conversation_id=item.conversation_id,
        content=item.content,
        created_at=at,
        errors=error_rows(item.errors, at=at, now=now, prefix=prefix, labels=labels),
        time_given=item.created_at is not None,
        error_ids_given=any(e.id is not None for e in item.errors),
        error_times_given=[e.created_at is not None for e in item.errors],
    )


def stored_match(plan: UtteranceRow, stored: UtteranceRow) -> UtteranceRow | None:
    """`stored` if `plan` is a retry of it, with its errors in the request's order (then any
    added later), else None. A retry has the same conversation, text and (where given) time,
    and every requested error among the stored ones (errors added later through /errors do not
    make it a conflict)."""
    if (plan.conversation_id, plan.content) != (stored.conversation_id, stored.content):
        return None
    if plan.time_given and plan.created_at != stored.created_at:
        return None
    left, ordered = list(stored.errors), []
    for i, error in enumerate(plan.errors):
        match = next((s for s in left if _same_error(error, s, plan, i)), None)
        if match is None:
            return None
        left.remove(match)
        ordered.append(match)
    stored.errors = ordered + left
    return stored


def _same_error(error: ErrorRow, stored: ErrorRow, plan: UtteranceRow, i: int) -> bool:
    if plan.error_ids_given and error.id != stored.id:
        return False
    if plan.error_times_given[i] and error.created_at != stored.created_at:
        return False
    return error.subcategory_id == stored.subcategory_id


def pk_conflict(exc: IntegrityError) -> bool:
    """A client-chosen error id that is taken (the only unique key an insert here can hit)."""
    return "_pkey" in str(exc)


def client_error_ids(rows: Iterable[UtteranceRow]) -> bool:
    """Server-made ids cannot collide; a client's error ids can, and then the statement fails
    whole, so it runs in a transaction (a savepoint inside one) to be retried cleanly."""
    return any(row.error_ids_given for row in rows)


def conflict(attr: str = "id") -> ApplicationError:
    return ApplicationError(
        "id_conflict",
        "An object with this id already exists with different content.",
        status=409,
        attr=attr,
    )


# --- Counting after commit ----------------------------------------------------------------------


@dataclass
class Increments:
    """One request's new errors per learner: batch id and (subcategory id, time) pairs."""

    by_learner: counters.LearnerIncrements = field(default_factory=dict)

    def add(self, learner_id: uuid.UUID, batch: uuid.UUID, rows: Iterable[ErrorRow]) -> None:
        entry = self.by_learner.setdefault(str(learner_id), (batch, []))
        entry[1].extend((r.subcategory_id, r.created_at) for r in rows)

    def send_after_commit(self) -> None:
        if self.by_learner:
            transaction.on_commit(self.send, robust=True)

    def send(self) -> bool:
        """One pipeline for the whole request. On failure the rows keep their marks and the
        flush folds them: the counts are late, never lost."""
        try:
            counters.ingest_increments(self.by_learner)
            return True
        except app_redis.UNAVAILABLE as exc:
            logger.warning("redis increment failed, errors left for the flush: %s", exc)
            return False


def batch_for(learner_batches: dict, learner_id: uuid.UUID) -> uuid.UUID:
    batch = learner_batches.get(learner_id)
    if batch is None:
        batch = learner_batches[learner_id] = new_id()
    return batch
