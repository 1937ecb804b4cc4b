"""Recomputing ErrorCount from the error rows: the repair when Redis lost its counters."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from tutor import counters, sql
from tutor.flush import apply, snapshot
from tutor.models import FlushLedger

REBUILD_SQL = f"""
{sql.ERROR_COUNT_INSERT}
{sql.ERROR_ROWS_AGGREGATE}
FROM tutor_learnererror GROUP BY 1, 2, 3
"""


def error_counts_rebuild(*, batch_size: int = 10_000) -> int:
    """Recomputes ErrorCount from the error rows; returns the number of aggregate rows.

    Under the exclusive advisory lock (no flush applies meanwhile), every pending hash is moved
    into snapshots, and one transaction records every registered snapshot in the ledger as
    applied ("discarded": the rows already hold those errors), clears all uncounted marks and
    replaces ErrorCount. After commit the snapshots are deleted. Exact when no ingestion request
    is between its Postgres commit and its Redis increment at that moment; run it in a quiet
    moment, or expect the errors of requests in flight during the cut to be counted twice.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [apply.ADVISORY_LOCK])
        for shard in range(counters.SHARDS):
            while snapshot.snapshot_move(flush_id=snapshot.new_flush_id(shard), limit=batch_size):
                pass
        flush_ids = snapshot.registered()
        _ledger_discard(flush_ids)
        cursor.execute("DELETE FROM tutor_errorcount")
        cursor.execute(REBUILD_SQL)
        rows = cursor.rowcount
        cursor.execute(
            "UPDATE tutor_learnererror SET uncounted_batch = NULL WHERE uncounted_batch IS NOT NULL"
        )
        cursor.execute(sql.EVIDENCE_REV_BUMP)  # every learner's cached evidence is void
    for flush_id in flush_ids:
        snapshot.snapshot_delete(flush_id=flush_id)
    return rows


def _ledger_discard(flush_ids: list[str]) -> None:
    now = timezone.now()
    FlushLedger.objects.bulk_create(
        [
            FlushLedger(flush_id=f, applied_at=now, kind=FlushLedger.Kind.DISCARDED)
            for f in flush_ids
        ],
        ignore_conflicts=True,
    )
