"""Rows whose Redis increment never landed (`uncounted_batch` still set) go to ErrorCount once.

Every ingest request writes its rows marked with its batch id, and the flush clears the marks
of batches whose increment it applies (flush/apply.py). A mark that outlives the settle time
means the increment never landed: Redis was down or dropped the reply, the web worker died
between its commit and its Redis call, or Redis lost its data. A batch is claimable when no
pending hash or snapshot holds evidence of it; claiming writes a tombstone ("x") into the
pending hash, so a late copy of the original increment can never land. Only claimed batches
are folded.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tutor import counters, ids, sql
from tutor.flush import apply

# KEYS: pending, snaps set. ARGV[1] snapshot key prefix, ARGV[2..] batch hex ids.
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

# Clearing the marks and adding the counts in one statement: a repeated or concurrent fold
# finds no marked row for a batch already folded, so it adds nothing twice.
FOLD_SQL = f"""
WITH folded AS (
    UPDATE tutor_learnererror SET uncounted_batch = NULL
    WHERE uncounted_batch = ANY(%s::uuid[])
    RETURNING learner_id, subcategory_id, created_at
), upserted AS (
    {sql.ERROR_COUNT_INSERT}
    {sql.ERROR_ROWS_AGGREGATE}
    FROM folded GROUP BY 1, 2, 3 ORDER BY 1, 3, 2
    {sql.ERROR_COUNT_ADD_ON_CONFLICT}
    RETURNING 1
)
SELECT count(*) FROM folded
"""


def uncounted_fold(*, settle_seconds: float | None = None, limit: int = 10_000) -> int:
    """Adds rows marked uncounted to ErrorCount exactly once; returns how many rows.

    Only rows older than the settle time: a request that timed out may still have its increment
    executed shortly after.
    """
    if settle_seconds is None:
        settle_seconds = settings.TUTOR_FOLD_SETTLE_SECONDS
    by_learner = _uncounted_batches(older_than=settle_seconds, limit=limit)
    claimed = _claim(by_learner) if by_learner else []
    if not claimed:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        apply.lock_shared(cursor)
        cursor.execute(FOLD_SQL, [claimed])
        row = cursor.fetchone()
    return row[0] if row else 0


# Settled batches: a time-ordered (UUIDv7) batch id carries its ingest moment, so a client time
# (`created_at` days ago) cannot make a request look settled while its increment is on its way;
# other ids (rows marked before batch ids were time-ordered, the demo data) go by created_at.
SETTLED_SQL = """
SELECT DISTINCT learner_id, uncounted_batch FROM tutor_learnererror
WHERE uncounted_batch IS NOT NULL
  AND CASE WHEN substr(uncounted_batch::text, 15, 1) = '7'
           THEN uncounted_batch < %(before_id)s ELSE created_at < %(before)s END
LIMIT %(limit)s
"""


def _uncounted_batches(*, older_than: float, limit: int) -> dict[str, list[str]]:
    cutoff = timezone.now() - timedelta(seconds=older_than)
    params: sql.Params = {
        "before": cutoff,
        "before_id": ids.time_floor(int(cutoff.timestamp() * 1000)),
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(SETTLED_SQL, params)
        pairs = cursor.fetchall()
    by_learner: dict[str, list[str]] = {}
    for learner_id, batch in pairs:
        by_learner.setdefault(str(learner_id), []).append(batch.hex)
    return by_learner


def _claim(by_learner: dict[str, list[str]]) -> list[str]:
    pipe = counters.client().pipeline(transaction=False)
    for learner_id, batches in by_learner.items():
        pipe.eval(
            CLAIM_LUA,
            2,
            counters.pending_key(learner_id),
            counters.snaps_key(learner_id),
            counters.snapshot_prefix(learner_id),
            *batches,
        )
        pipe.sadd(counters.DIRTY, learner_id)  # the tombstone lives in pending until flushed
    replies = pipe.execute()
    return [b for reply in replies[::2] for b in reply]
