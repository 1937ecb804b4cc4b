"""Postgres side of a flush batch: one transaction adds a snapshot to ErrorCount, exactly once."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from tutor import sql
from tutor.counters import Tally
from tutor.models import FlushLedger

# Flushes and folds hold it shared while applying; a rebuild holds it exclusively.
ADVISORY_LOCK = 7_300_301

UPSERT_SQL = f"""
{sql.ERROR_COUNT_INSERT}
SELECT l::uuid, s, to_date(d::text, 'YYYYMMDD'), c, to_timestamp(t / 1000.0)
FROM unnest(%s::text[], %s::int[], %s::int[], %s::int[], %s::bigint[]) AS u(l, s, d, c, t)
{sql.ERROR_COUNT_ADD_ON_CONFLICT}
"""

LEDGER_INSERT_SQL = f"""
INSERT INTO tutor_flushledger (flush_id, applied_at, learners, increments, kind)
VALUES (%s, %s, %s, %s, '{FlushLedger.Kind.FLUSH.value}')
ON CONFLICT (flush_id) DO NOTHING RETURNING id
"""


def lock_shared(cursor: CursorWrapper) -> None:
    cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [ADVISORY_LOCK])


def increments(tallies: dict[str, Tally]) -> int:
    return sum(sum(t.counts.values()) for t in tallies.values())


@transaction.atomic
def snapshot_apply(*, flush_id: str, tallies: dict[str, Tally]) -> bool:
    """Adds a snapshot to ErrorCount in one transaction. Idempotent per flush id.

    Returns False when this flush id was already applied (by a crashed run's successor or an
    overlapping flush); a concurrent apply of the same id waits on the ledger's unique key.
    """
    arrays = _upsert_arrays(tallies)
    with connection.cursor() as cursor:
        lock_shared(cursor)
        now = timezone.now()
        cursor.execute(LEDGER_INSERT_SQL, [flush_id, now, len(tallies), increments(tallies)])
        if cursor.fetchone() is None:
            return False
        if tallies:
            cursor.execute(UPSERT_SQL, list(arrays))
        _uncounted_settle(cursor, tallies.values())
    return True


def _upsert_arrays(tallies: dict[str, Tally]) -> tuple[str, ...]:
    """The upsert's column arrays, rows in the unique key's order (see sql.py)."""
    rows = sorted(
        (lid, day, sid, count, tally.last_ms[(sid, day)])
        for lid, tally in tallies.items()
        for (sid, day), count in tally.counts.items()
    )
    return (
        sql.pg_array(r[0] for r in rows),
        sql.pg_array(r[2] for r in rows),
        sql.pg_array(_day_int(r[1]) for r in rows),
        sql.pg_array(r[3] for r in rows),
        sql.pg_array(r[4] for r in rows),
    )


@functools.cache
def _day_int(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _uncounted_settle(cursor: CursorWrapper, tallies: Iterable[Tally]) -> None:
    """Every ingested row is written marked with its batch id; the batches whose increments
    this snapshot holds are counted now, so their marks go in the same transaction."""
    batches = [b for tally in tallies for b in tally.evidence]
    if batches:
        cursor.execute(
            "UPDATE tutor_learnererror SET uncounted_batch = NULL"
            " WHERE uncounted_batch = ANY(%s::uuid[])",
            [sql.pg_array(batches)],
        )
