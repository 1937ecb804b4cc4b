"""Exactly-once flush of the Redis counters into `ErrorCount`, as separate steps.

A flush batch: move (Redis, one atomic Lua call) -> read -> apply (one Postgres transaction that
also records the flush id in `FlushLedger`) -> delete (Redis, only after commit). Each increment
sits in exactly one place at any time: a pending hash, or one immutable snapshot. A crash or a
failure between steps leaves a registered snapshot that the next run resolves: flush id in the
ledger -> delete it; not in the ledger -> apply it. Applying the same flush id twice is a no-op
(the ledger insert conflicts), so overlapping flushes and recoveries cannot double count; the
sorted upsert keeps concurrent transactions from deadlocking.

Rows whose Redis increment failed carry `uncounted_batch`; `uncounted_fold` adds them exactly
once (see its docstring). `error_counts_rebuild` recomputes everything from the rows.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Iterable
from concurrent import futures
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from tutor import counters
from tutor.counters import Tally
from tutor.models import ErrorCount, FlushLedger, LearnerError

logger = logging.getLogger(__name__)

# Flushes hold it shared while applying; a rebuild holds it exclusively.
ADVISORY_LOCK = 7_300_301

MOVE_LUA = """
local ids = redis.call('SPOP', KEYS[1], tonumber(ARGV[3]))
local moved = {}
for _, id in ipairs(ids) do
  local p = 'tutor:{' .. id .. '}:pending'
  if redis.call('EXISTS', p) == 1 then
    redis.call('RENAME', p, 'tutor:{' .. id .. '}:snap:' .. ARGV[1])
    redis.call('SADD', 'tutor:{' .. id .. '}:snaps', ARGV[1])
    local g = 'tutor:{' .. id .. '}:gen'
    redis.call('INCR', g)
    redis.call('EXPIRE', g, 86400)
    moved[#moved + 1] = id
  end
end
for i = 1, #moved, 1000 do
  redis.call('SADD', 'tutor:flush:' .. ARGV[1], unpack(moved, i, math.min(i + 999, #moved)))
end
if #moved > 0 then redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1]) end
return moved
"""

UPSERT_SQL = """
INSERT INTO tutor_errorcount (learner_id, subcategory_id, day, count, last_seen)
SELECT l::uuid, s, to_date(d::text, 'YYYYMMDD'), c, to_timestamp(t / 1000.0)
FROM unnest(%s::text[], %s::int[], %s::int[], %s::int[], %s::bigint[]) AS u(l, s, d, c, t)
ON CONFLICT (learner_id, day, subcategory_id) DO UPDATE
SET count = tutor_errorcount.count + EXCLUDED.count,
    last_seen = GREATEST(tutor_errorcount.last_seen, EXCLUDED.last_seen)
"""


@dataclass
class FlushResult:
    batches: int = 0
    learners: int = 0
    increments: int = 0
    recovered: int = 0
    folded: int = 0


def new_flush_id() -> str:
    return uuid.uuid4().hex


def snapshot_move(*, flush_id: str, limit: int) -> list[str]:
    """Atomically moves up to `limit` dirty learners' pending hashes aside under `flush_id`."""
    now_ms = int(time.time() * 1000)
    return counters.client().eval(
        MOVE_LUA, 2, counters.DIRTY, counters.REGISTRY, flush_id, now_ms, limit
    )


def snapshot_read(*, flush_id: str, chunk: int = 1000) -> dict[str, Tally]:
    """Reads a snapshot; one pipeline of short Lua calls, so Redis never blocks for long."""
    r = counters.client()
    learners = sorted(r.smembers(counters.flush_set_key(flush_id)))
    pipe = r.pipeline(transaction=False)
    for i in range(0, len(learners), chunk):
        keys = [counters.snapshot_key(lid, flush_id) for lid in learners[i : i + chunk]]
        pipe.eval(counters.READ_SNAPSHOTS_LUA, len(keys), *keys)
    hashes = [h for reply in pipe.execute() for h in reply]
    return {lid: counters.tally_hash(h) for lid, h in zip(learners, hashes, strict=True)}


def _upsert_arrays(tallies: dict[str, Tally]) -> tuple[str, ...]:
    """Column arrays as Postgres array literals: psycopg would quote-check every element of a
    list (a regex per value, most of a million-increment flush); ids, ints and UUIDs need none."""
    rows = sorted(  # one lock order for every transaction: no deadlocks between flushes
        (lid, day, sid, count, tally.last_ms[(sid, day)])
        for lid, tally in tallies.items()
        for (sid, day), count in tally.counts.items()
    )
    return (
        _pg_array(r[0] for r in rows),
        _pg_array(r[2] for r in rows),
        _pg_array(_day_int(r[1]) for r in rows),
        _pg_array(r[3] for r in rows),
        _pg_array(r[4] for r in rows),
    )


def _pg_array(values: Iterable[object]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


@functools.cache
def _day_int(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _lock_shared(cursor) -> None:
    cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [ADVISORY_LOCK])


@transaction.atomic
def snapshot_apply(*, flush_id: str, tallies: dict[str, Tally]) -> bool:
    """Adds a snapshot to ErrorCount in one transaction. Idempotent per flush id.

    Returns False when this flush id was already applied (by a crashed run's successor or an
    overlapping flush); a concurrent apply of the same id waits on the ledger's unique key.
    """
    arrays = _upsert_arrays(tallies)
    increments = sum(sum(t.counts.values()) for t in tallies.values())
    with connection.cursor() as cursor:
        _lock_shared(cursor)
        cursor.execute(
            "INSERT INTO tutor_flushledger (flush_id, applied_at, learners, increments, kind)"
            " VALUES (%s, %s, %s, %s, 'flush') ON CONFLICT (flush_id) DO NOTHING RETURNING id",
            [flush_id, timezone.now(), len(tallies), increments],
        )
        if cursor.fetchone() is None:
            return False
        if tallies:
            cursor.execute(UPSERT_SQL, list(arrays))
        _uncounted_settle(cursor, tallies.values())
    return True


def _uncounted_settle(cursor, tallies: Iterable[Tally]) -> None:
    """Rows marked uncounted whose Redis increment did land (reply lost) are counted now."""
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM tutor_learnererror WHERE uncounted_batch IS NOT NULL)"
    )
    if not cursor.fetchone()[0]:
        return
    batches = [b for tally in tallies for b in tally.evidence]
    if batches:
        cursor.execute(
            "UPDATE tutor_learnererror SET uncounted_batch = NULL"
            " WHERE uncounted_batch = ANY(%s::uuid[])",
            [batches],
        )


def snapshot_delete(*, flush_id: str) -> None:
    """Only after the apply committed (or the ledger shows it did)."""
    r = counters.client()
    learners = sorted(r.smembers(counters.flush_set_key(flush_id)))
    pipe = r.pipeline(transaction=False)
    for i in range(0, len(learners), 1000):  # one short script per thousand learners
        chunk = learners[i : i + 1000]
        keys = [k for lid in chunk for k in counters.snapshot_key_pair(lid, flush_id)]
        pipe.eval(counters.DELETE_SNAPSHOTS_LUA, len(keys), *keys, flush_id)
    pipe.delete(counters.flush_set_key(flush_id))
    pipe.zrem(counters.REGISTRY, flush_id)  # last: until here, recovery can still find it
    pipe.execute()


def snapshots_recover() -> int:
    """Resolves every registered snapshot: applied -> delete; not applied -> apply, delete."""
    flush_ids = counters.client().zrange(counters.REGISTRY, 0, -1)
    applied = set(
        FlushLedger.objects.filter(flush_id__in=flush_ids).values_list("flush_id", flat=True)
    )
    recovered = 0
    for flush_id in flush_ids:
        try:
            if flush_id not in applied:
                snapshot_apply(flush_id=flush_id, tallies=snapshot_read(flush_id=flush_id))
        except DatabaseError:
            # Left registered for the next run; one bad snapshot must not stop every flush.
            logger.exception("could not apply snapshot %s; will retry", flush_id)
            continue
        snapshot_delete(flush_id=flush_id)
        recovered += 1
    return recovered


def _apply_and_delete(flush_id: str, tallies: dict[str, Tally]) -> tuple[int, int]:
    snapshot_apply(flush_id=flush_id, tallies=tallies)
    snapshot_delete(flush_id=flush_id)
    return len(tallies), sum(sum(t.counts.values()) for t in tallies.values())


def _apply_in_thread(flush_id: str, tallies: dict[str, Tally]) -> tuple[int, int]:
    try:
        return _apply_and_delete(flush_id, tallies)
    finally:
        connection.close()  # this thread's own connection


def flush_batch(*, limit: int) -> tuple[int, int]:
    """One batch: move, read, apply, delete. Returns (learners, increments)."""
    flush_id = new_flush_id()
    if not snapshot_move(flush_id=flush_id, limit=limit):
        return 0, 0
    return _apply_and_delete(flush_id, snapshot_read(flush_id=flush_id))


def error_counts_flush(
    *, batch_size: int | None = None, max_batches: int = 1000, workers: int | None = None
) -> FlushResult:
    """Beat entry point. Safe to run concurrently with itself, and to re-run after any crash.

    With workers > 1, batches are applied by a small thread pool (each its own connection and
    transaction) while the next batch is moved and parsed: Postgres then uses more than one
    core. Safe for the same reasons overlapping flushes are; a failed batch stays registered
    for the next run, and the first error is re-raised after the others finished.
    """
    batch_size = batch_size or settings.TUTOR_FLUSH_BATCH
    workers = workers or settings.TUTOR_FLUSH_WORKERS
    result = FlushResult(recovered=snapshots_recover())
    if workers <= 1:
        for _ in range(max_batches):
            learners, increments = flush_batch(limit=batch_size)
            if not learners:
                break
            _tally_result(result, learners, increments)
    else:
        _flush_parallel(result, batch_size=batch_size, max_batches=max_batches, workers=workers)
    result.folded = uncounted_fold()
    ledger_prune()
    return result


def _flush_parallel(
    result: FlushResult, *, batch_size: int, max_batches: int, workers: int
) -> None:
    running: set[futures.Future] = set()
    done: list[futures.Future] = []
    with futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in range(max_batches):
            flush_id = new_flush_id()
            if not snapshot_move(flush_id=flush_id, limit=batch_size):
                break
            tallies = snapshot_read(flush_id=flush_id)
            if len(running) >= workers:  # bound memory: at most `workers` batches in flight
                finished, running = futures.wait(running, return_when=futures.FIRST_COMPLETED)
                done.extend(finished)
            running.add(pool.submit(_apply_in_thread, flush_id, tallies))
    for future in [*done, *running]:
        _tally_result(result, *future.result())


def _tally_result(result: FlushResult, learners: int, increments: int) -> None:
    result.batches += 1
    result.learners += learners
    result.increments += increments


# --- Rows whose Redis increment failed --------------------------------------------------------

# KEYS: pending, snaps set. ARGV[1] snapshot key prefix, ARGV[2..] batch hex ids.
# A batch is claimable when no pending hash or snapshot holds evidence of it; the tombstone
# ("x") then stops a late copy of the original increment from ever landing.
CLAIM_LUA = """
local fids = redis.call('SMEMBERS', KEYS[2])
local claimed = {}
for i = 2, #ARGV do
  local f = 'b:' .. ARGV[i]
  local found = redis.call('HGET', KEYS[1], f) == '1'
  for _, fid in ipairs(fids) do
    if not found and redis.call('HGET', ARGV[1] .. fid, f) == '1' then found = true end
  end
  if not found then
    redis.call('HSET', KEYS[1], f, 'x')
    claimed[#claimed + 1] = ARGV[i]
  end
end
return claimed
"""

FOLD_SQL = """
WITH folded AS (
    UPDATE tutor_learnererror SET uncounted_batch = NULL
    WHERE uncounted_batch = ANY(%s::uuid[])
    RETURNING learner_id, subcategory_id, created_at
), upserted AS (
    INSERT INTO tutor_errorcount (learner_id, subcategory_id, day, count, last_seen)
    SELECT learner_id, subcategory_id, (created_at AT TIME ZONE 'UTC')::date, count(*),
           max(created_at)
    FROM folded GROUP BY 1, 2, 3 ORDER BY 1, 3, 2
    ON CONFLICT (learner_id, day, subcategory_id) DO UPDATE
    SET count = tutor_errorcount.count + EXCLUDED.count,
        last_seen = GREATEST(tutor_errorcount.last_seen, EXCLUDED.last_seen)
    RETURNING 1
)
SELECT count(*) FROM folded
"""


def _fold_settle_seconds() -> float:
    # A request that timed out may still have its increment executed shortly after.
    return settings.TUTOR_FOLD_SETTLE_SECONDS


def uncounted_fold(*, settle_seconds: float | None = None, limit: int = 10_000) -> int:
    """Adds rows marked uncounted to ErrorCount exactly once; returns how many rows.

    A row's batch is first claimed in Redis (no evidence that its increment landed, tombstone
    written). Then one transaction clears the marks and upserts the counts; the `WHERE
    uncounted_batch = ANY(...)` makes a repeated or concurrent fold add nothing twice.
    """
    settle = _fold_settle_seconds() if settle_seconds is None else settle_seconds
    cutoff = timezone.now() - timedelta(seconds=settle)
    pairs = (
        LearnerError.objects.filter(uncounted_batch__isnull=False, created_at__lt=cutoff)
        .values_list("learner_id", "uncounted_batch")
        .distinct()[:limit]
    )
    by_learner: dict[str, list[str]] = {}
    for learner_id, batch in pairs:
        by_learner.setdefault(str(learner_id), []).append(batch.hex)
    if not by_learner:
        return 0
    claimed = _claim(by_learner)
    if not claimed:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_shared(cursor)
        cursor.execute(FOLD_SQL, [claimed])
        return cursor.fetchone()[0]


def _claim(by_learner: dict[str, list[str]]) -> list[str]:
    pipe = counters.client().pipeline(transaction=False)
    for learner_id, batches in by_learner.items():
        pipe.eval(
            CLAIM_LUA,
            2,
            counters.pending_key(learner_id),
            counters.snaps_key(learner_id),
            f"tutor:{{{learner_id}}}:snap:",
            *batches,
        )
        pipe.sadd(counters.DIRTY, learner_id)  # the tombstone lives in pending until flushed
    replies = pipe.execute()
    return [b for reply in replies[::2] for b in reply]


def ledger_prune(*, keep_days: int = 7) -> int:
    """Ledger rows only matter while their snapshot may exist; keep a week for auditing."""
    cutoff = timezone.now() - timedelta(days=keep_days)
    registered = counters.client().zrange(counters.REGISTRY, 0, -1)
    old = FlushLedger.objects.filter(applied_at__lt=cutoff).exclude(flush_id__in=registered)
    deleted, _ = old.delete()
    return deleted


# --- Rebuild ----------------------------------------------------------------------------------

REBUILD_SQL = """
INSERT INTO tutor_errorcount (learner_id, subcategory_id, day, count, last_seen)
SELECT learner_id, subcategory_id, (created_at AT TIME ZONE 'UTC')::date, count(*),
       max(created_at)
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
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        while snapshot_move(flush_id=new_flush_id(), limit=batch_size):
            pass
        flush_ids = counters.client().zrange(counters.REGISTRY, 0, -1)
        now = timezone.now()
        FlushLedger.objects.bulk_create(
            [FlushLedger(flush_id=f, applied_at=now, kind="discarded") for f in flush_ids],
            ignore_conflicts=True,
        )
        cursor.execute("DELETE FROM tutor_errorcount")
        cursor.execute(REBUILD_SQL)
        rows = cursor.rowcount
        cursor.execute(
            "UPDATE tutor_learnererror SET uncounted_batch = NULL WHERE uncounted_batch IS NOT NULL"
        )
    for flush_id in flush_ids:
        snapshot_delete(flush_id=flush_id)
    return rows


def error_count_total() -> int:
    """Sum of all aggregates (tests and the rebuild command's report)."""
    return sum(ErrorCount.objects.values_list("count", flat=True))
