"""Resolving snapshots a crashed or failed flush left behind, and pruning the ledger."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import DatabaseError
from django.utils import timezone

from tutor.flush import apply, snapshot
from tutor.models import FlushLedger

logger = logging.getLogger(__name__)


def snapshots_recover() -> int:
    """Resolves every registered snapshot: applied -> delete; not applied -> apply, delete."""
    flush_ids = snapshot.registered()
    applied = set(
        FlushLedger.objects.filter(flush_id__in=flush_ids).values_list("flush_id", flat=True)
    )
    recovered = 0
    for flush_id in flush_ids:
        try:
            if flush_id not in applied:
                tallies = snapshot.snapshot_read(flush_id=flush_id)
                apply.snapshot_apply(flush_id=flush_id, tallies=tallies)
        except DatabaseError:
            # Left registered for the next run; one bad snapshot must not stop every flush.
            logger.exception("could not apply snapshot %s; will retry", flush_id)
            continue
        snapshot.snapshot_delete(flush_id=flush_id)
        recovered += 1
    return recovered


def ledger_prune(*, keep_days: int = 7) -> int:
    """Ledger rows only matter while their snapshot may exist; keep a week for auditing."""
    cutoff = timezone.now() - timedelta(days=keep_days)
    old = FlushLedger.objects.filter(applied_at__lt=cutoff)
    deleted, _ = old.exclude(flush_id__in=snapshot.registered()).delete()
    return deleted
