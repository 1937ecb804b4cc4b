"""Per-process cache of the settled half of a learner's real-time evidence read.

A real-time read (selectors.realtime_rows) unions live parts (the learner row, rows whose
increment is still on its way) with settled ones: the daily aggregates, the ledger rows of the
snapshots Redis holds, the attempt aggregates. The settled parts grow with the window's days x
subcategories and are what makes a learner with a long, dense history cost more. They change
only through
- a flush: its move replaces the learner's Redis `gen` and its delete shrinks the snapshot
  set, both read atomically with the rest of the Redis state;
- an attempt, a fold or a rebuild: each replaces the learner's `evidence_rev` in its own
  transaction.
The exercise rotation's per-exercise last attempts change only with an attempt, so their entries
depend on evidence_rev alone.

So an entry stays exact while the gen, the snapshot ids and evidence_rev are all unchanged. The
statement itself checks evidence_rev (`SETTLED_UNLESS_CACHED`) and skips the settled parts, in
its own snapshot, when the cached revision is still current. Entries also expire after
TUTOR_EVIDENCE_CACHE_SECONDS: Redis losing its data would bring an old gen value back.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from django.conf import settings
from prometheus_client import Counter

from tutor import counters

# A filter for each settled part of a cached statement: false (Postgres then skips the part as
# a one-time filter) when the caller's cached revision is the learner's current one. NULL when
# there is no usable entry, so the part always runs.
SETTLED_UNLESS_CACHED = (
    "NOT EXISTS (SELECT FROM tutor_learner"
    " WHERE id = %(learner)s AND evidence_rev = %(cached_rev)s)"
)

lookups = Counter(
    "tutor_evidence_cache_lookups", "Real-time evidence reads by cache outcome.", ["result"]
)


@dataclass(frozen=True)
class Entry:
    rev: int
    rows: tuple[tuple, ...]
    stored_at: float
    gen: str | None = None  # None: an entry that depends on evidence_rev alone
    snapshots: frozenset[str] | None = None


_entries: OrderedDict[Hashable, Entry] = OrderedDict()
_lock = threading.Lock()


def lookup(key: Hashable, state: counters.LearnerRedisState | None = None) -> Entry | None:
    """The entry for `key`, if young enough and, for a real-time read (`state`), if Redis shows
    no flush move or delete since it was stored. Pass its `rev` as the statement's cached_rev."""
    if settings.TUTOR_EVIDENCE_CACHE_ENTRIES <= 0:
        return None
    with _lock:
        entry = _entries.get(key)
        if entry is None:
            return None
        fresh = time.monotonic() - entry.stored_at < settings.TUTOR_EVIDENCE_CACHE_SECONDS
        if fresh and (
            state is None
            or (entry.gen == state.gen and entry.snapshots == frozenset(state.snapshots))
        ):
            _entries.move_to_end(key)
            return entry
        del _entries[key]
    return None


def current_rows(entry: Entry | None, rev: int) -> tuple[tuple, ...] | None:
    """The entry's rows if the statement skipped its settled parts (the learner's evidence_rev
    is the one the entry was stored under); None when the statement read them itself."""
    hit = entry is not None and entry.rev == rev
    lookups.labels(result="hit" if hit else "miss").inc()
    return entry.rows if entry is not None and hit else None


def store(
    key: Hashable, rev: int, rows: list[tuple], state: counters.LearnerRedisState | None = None
) -> None:
    """`rows`: the settled parts, read with no cached revision; for a real-time read in the same
    retry round as `state` (Redis first, then Postgres, and no move in between)."""
    size = settings.TUTOR_EVIDENCE_CACHE_ENTRIES
    if size <= 0:
        return
    gen, snapshots = (state.gen, frozenset(state.snapshots)) if state else (None, None)
    entry = Entry(rev, tuple(rows), time.monotonic(), gen, snapshots)
    with _lock:
        _entries[key] = entry
        _entries.move_to_end(key)
        while len(_entries) > size:
            _entries.popitem(last=False)


def clear() -> None:
    with _lock:
        _entries.clear()
