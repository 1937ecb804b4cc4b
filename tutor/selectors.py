"""Tutor reads. `error_top` is the real-time count behind generate-exercise."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from typing import cast

from django.db import connection
from django.utils import timezone

from config import redis as app_redis
from config.errors import ApplicationError
from tutor import counters, readcache, taxonomy
from tutor.counters import Tally
from tutor.models import Learner

logger = logging.getLogger(__name__)


class RowKind(IntEnum):
    """The first column of a COUNTS_SQL row: which part of the union it comes from."""

    LEARNER = 0  # present iff the learner exists
    AGGREGATE = 1  # ErrorCount sum per subcategory
    UNCOUNTED = 2  # rows still marked (no flush applied their batch), per subcategory, batch
    APPLIED = 3  # a snapshot id Redis reported that the ledger already holds


# The kinds every real-time read takes from Postgres each time; the others are settled
# (readcache.py). In a cached statement the learner row carries evidence_rev in column 2.
LIVE_KINDS = frozenset((RowKind.LEARNER, RowKind.UNCOUNTED))

# One statement, so aggregates, uncounted rows and the ledger come from one database snapshot.
# Columns: kind, subcategory id, count (the learner's evidence_rev), last seen, batch hex or
# flush id.
COUNTS_SQL = f"""
SELECT {RowKind.LEARNER:d}, NULL::int, evidence_rev, NULL::timestamptz, NULL::text
FROM tutor_learner WHERE id = %(learner)s
UNION ALL
SELECT {RowKind.AGGREGATE:d}, subcategory_id, sum(count), max(last_seen), NULL
FROM tutor_errorcount WHERE learner_id = %(learner)s AND day >= %(since_day)s
  AND {readcache.SETTLED_UNLESS_CACHED}
GROUP BY subcategory_id
UNION ALL
SELECT {RowKind.UNCOUNTED:d}, subcategory_id, count(*), max(created_at),
       replace(uncounted_batch::text, '-', '')
FROM tutor_learnererror
WHERE learner_id = %(learner)s AND uncounted_batch IS NOT NULL AND created_at >= %(since)s
GROUP BY subcategory_id, uncounted_batch
UNION ALL
SELECT {RowKind.APPLIED:d}, NULL, NULL, NULL, flush_id
FROM tutor_flushledger WHERE flush_id = ANY(%(fids)s::text[])
  AND {readcache.SETTLED_UNLESS_CACHED}
"""

CountsRow = tuple[int, int | None, int | None, datetime | None, str | None]


@dataclass(frozen=True)
class TopError:
    category: str
    subcategory: str
    frequency: int
    last_seen: datetime
    exercises: list[taxonomy.ExerciseCard]


def learner_get(*, learner_id: uuid.UUID) -> Learner:
    learner = Learner.objects.filter(pk=learner_id).first()
    if learner is None:
        raise ApplicationError("user_not_found", "No user with this id.", status=404)
    return learner


def window_start(*, last_n_days: int | None, today: date | None = None) -> date:
    """First UTC day of the last N calendar days including today; all time when None."""
    if last_n_days is None:
        return date(1, 1, 1)
    today = today or timezone.now().astimezone(UTC).date()
    return today - timedelta(days=last_n_days - 1)


def _redis_state(learner_id: str) -> counters.LearnerRedisState | None:
    try:
        return counters.learner_state_read(learner_id=learner_id)
    except app_redis.UNAVAILABLE as exc:
        # Degrade: Postgres still has the aggregates and the uncounted rows.
        logger.warning("redis unavailable, counts exclude pending increments: %s", exc)
        return None


def _gen_unchanged(learner_id: str, state: counters.LearnerRedisState | None) -> bool:
    if state is None or state.is_empty():
        # Nothing was read from Redis, so no flush can have moved it into the aggregates
        # meanwhile; what arrived after the read is counted from Postgres alone.
        return True
    try:
        return counters.learner_gen(learner_id=learner_id) == state.gen
    except app_redis.UNAVAILABLE:
        return True


def error_counts(*, learner_id: uuid.UUID, since: date) -> Tally:
    """Real-time counts per (subcategory, day-agnostic) since `since`, exactly once.

    Redis is read first (atomically), then Postgres. An increment cannot move from pending into
    an applied aggregate between the two reads without bumping the learner's move generation,
    which is checked afterwards (retry on change). Snapshots already in the ledger are in the
    aggregates; uncounted rows whose increment Redis did get are skipped.
    """
    lid = str(learner_id)
    rows, state = realtime_rows(
        learner_id=lid,
        read=lambda fids, rev: _counts_rows(lid, since, fids, rev),
        cache_key=("counts", lid, since),
    )
    return _combine(rows, state, since)


# read(snapshot flush ids, cached evidence_rev or None) -> rows
Read = Callable[[list[str], int | None], list[tuple]]


def realtime_rows(
    *, learner_id: str, read: Read, cache_key: tuple | None = None
) -> tuple[list[tuple], counters.LearnerRedisState | None]:
    """Redis state, then `read` from Postgres, retried while a flush moved this learner's
    counters in between (see `error_counts`). Combine with `redis_parts`.

    With a `cache_key` the statement is a cached one (readcache.py): its settled parts come
    from this process's entry when Redis and evidence_rev show they are unchanged.
    """
    entry = None
    for _ in range(3):
        state = _redis_state(learner_id)
        entry = readcache.lookup(cache_key, state) if cache_key and state else None
        rows = read(list(state.snapshots) if state else [], entry.rev if entry else None)
        stable = _gen_unchanged(learner_id, state)
        if stable:
            break
    if cache_key is None:
        return rows, state
    rev = next(row[2] for row in rows if row[0] == RowKind.LEARNER)
    cached = readcache.current_rows(entry, rev)
    if cached is not None:
        return rows + list(cached), state
    if stable and state is not None:
        readcache.store(cache_key, rev, [r for r in rows if r[0] not in LIVE_KINDS], state)
    return rows, state


def redis_parts(
    state: counters.LearnerRedisState | None, applied: set[str]
) -> tuple[list[Tally], set[str]]:
    """The Redis tallies not yet in Postgres (pending + snapshots whose flush id is not in the
    ledger), and the batch ids they hold: uncounted rows of those batches are already in them."""
    if state is None:
        return [], set()
    parts = [state.pending] + [t for f, t in state.snapshots.items() if f not in applied]
    return parts, set().union(*(t.evidence for t in parts))


def _counts_rows(
    learner_id: str, since: date, fids: list[str], cached_rev: int | None
) -> list[CountsRow]:
    params: dict[str, str | int | date | datetime | list[str] | None] = {
        "learner": learner_id,
        "since_day": since,
        "since": datetime(since.year, since.month, since.day, tzinfo=UTC),
        "fids": fids,
        "cached_rev": cached_rev,
    }
    with connection.cursor() as cursor:
        cursor.execute(COUNTS_SQL, params)
        rows = cursor.fetchall()
    if not any(row[0] == RowKind.LEARNER for row in rows):
        raise ApplicationError("user_not_found", "No user with this id.", status=404)
    return rows


def _combine(rows: list[CountsRow], state: counters.LearnerRedisState | None, since: date) -> Tally:
    total = Tally()
    parts, evidence = redis_parts(
        state, {cast(str, row[4]) for row in rows if row[0] == RowKind.APPLIED}
    )
    for kind, sid, count, last_seen, batch in rows:
        if kind == RowKind.UNCOUNTED and batch in evidence:
            continue  # Redis did get this batch's increments: counted in redis_parts
        if kind in (RowKind.AGGREGATE, RowKind.UNCOUNTED):
            # Never NULL in these kinds' rows (see COUNTS_SQL); the asserts tell the type checker.
            assert sid is not None
            assert count is not None
            assert last_seen is not None
            total.add((sid, since), int(count), int(last_seen.timestamp() * 1000))
    for part in parts:
        for (sid, day), n in part.counts.items():
            if day >= since:
                total.add((sid, since), n, part.last_ms[(sid, day)])
    return total


def error_top(*, learner_id: uuid.UUID, top_n: int, last_n_days: int | None) -> list[TopError]:
    """Most frequent errors in the window; ties: most recent, then category and subcategory name."""
    tally = error_counts(learner_id=learner_id, since=window_start(last_n_days=last_n_days))
    tax = taxonomy.taxonomy_get()
    found = []
    for (sid, _), count in tally.counts.items():
        sub = tax.by_id.get(sid) or taxonomy.taxonomy_get(refresh=True).by_id[sid]
        last = datetime.fromtimestamp(tally.last_ms[(sid, _)] / 1000, tz=UTC)
        found.append((sub, count, last))
    found.sort(key=lambda f: (-f[1], -f[2].timestamp(), f[0].category, f[0].name))
    return [
        TopError(sub.category, sub.name, count, last, tax.exercises.get(sub.id, []))
        for sub, count, last in found[:top_n]
    ]
