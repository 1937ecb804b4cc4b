"""Exactly-once flush of the Redis counters into `ErrorCount`, as separate steps.

A flush batch: move (Redis, one atomic Lua call) -> read -> apply (one Postgres transaction that
also records the flush id in `FlushLedger`) -> delete (Redis, only after commit). Each increment
sits in exactly one place at any time: a pending hash, or one immutable snapshot. A crash or a
failure between steps leaves a registered snapshot that the next run resolves: flush id in the
ledger -> delete it; not in the ledger -> apply it. Applying the same flush id twice is a no-op
(the ledger insert conflicts), so overlapping flushes and recoveries cannot double count; the
sorted upsert keeps concurrent transactions from deadlocking.

Modules: `snapshot` (Redis: move, read, delete), `apply` (Postgres: the idempotent apply),
`recovery` (leftover snapshots, ledger pruning), `fold` (rows whose Redis increment failed),
`rebuild` (recompute from the rows), `run` (the beat entry point tying them together).
"""

from tutor.flush.apply import snapshot_apply
from tutor.flush.fold import uncounted_fold
from tutor.flush.rebuild import error_counts_rebuild
from tutor.flush.recovery import ledger_prune, snapshots_recover
from tutor.flush.run import FlushResult, error_counts_flush
from tutor.flush.snapshot import (
    dirty_count,
    new_flush_id,
    snapshot_delete,
    snapshot_move,
    snapshot_read,
)

__all__ = [
    "FlushResult",
    "dirty_count",
    "error_counts_flush",
    "error_counts_rebuild",
    "ledger_prune",
    "new_flush_id",
    "snapshot_apply",
    "snapshot_delete",
    "snapshot_move",
    "snapshot_read",
    "snapshots_recover",
    "uncounted_fold",
]
