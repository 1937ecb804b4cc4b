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

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from config import redis as app_redis
from tutor import counters, ids, sql
from tutor.flush import apply

# KEYS: pending, snaps set, then the snapshot hashes of the first ARGV[1] flush ids in ARGV:
# the caller's guess of the snaps set, so that every key read is declared (a wrong guess
# returns {0, the actual ids}). The remaining ARGV are batch hex ids; returns {1, claimed...}.
CLAIM_LUA = """
local n = tonumber(ARGV[1])
local fids = redis.call('SMEMBERS', KEYS[2])
local same = #fids == n
if same then
  local guess = {}
  for i = 2, n + 1 do guess[ARGV[i]] = true end
  for _, fid in ipairs(fids) do if not guess[fid] then same = false end end
end
if not same then return {0, fids} end
local claimed = {1}
for i = n + 2, #ARGV do
  local f = 'b:' .. ARGV[i]
  local found = redis.call('HGET', KEYS[1], f) == '1'
  for k = 3, n + 2 do
    if not found and redis.call('HGET', KEYS[k], f) == '1' then found = true end
  end
  if not found then
    redis.call('HSET', KEYS[1], f, 'x')
    claimed[#claimed + 1] = ARGV[i]
  end
end
return claimed
"""
CLAIM_ROUNDS = 10  # each wrong guess means a flush moved or deleted a snapshot in between

# Clearing the marks and adding the counts in one statement: a repeated or concurrent fold
# finds no marked row for a batch already folded, so it adds nothing twice. No flush moved
# these counts, so the learners' evidence_rev tells the read caches (tutor/readcache.py).
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
), revised AS (
    {sql.EVIDENCE_REV_BUMP} WHERE id IN (SELECT learner_id FROM folded)
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
    """Claims in one pipeline per round; learners whose snapshots changed meanwhile go again."""
    claimed: list[str] = []
    guesses: dict[str, list[str]] = {lid: [] for lid in by_learner}
    for _ in range(CLAIM_ROUNDS):
        if not guesses:
            return claimed
        replies = _claim_round(by_learner, guesses)
        for (learner_id, _guess), reply in zip(list(guesses.items()), replies, strict=True):
            if reply[0] == 1:
                claimed += reply[1:]
                del guesses[learner_id]
            else:
                guesses[learner_id] = sorted(reply[1])
    raise redis.RedisError(f"snapshots kept changing while claiming batches of {list(guesses)}")


def _claim_round(by_learner: dict[str, list[str]], guesses: dict[str, list[str]]) -> list[list]:
    pipe = counters.client().pipeline(transaction=False)
    for learner_id, guess in guesses.items():
        keys = [counters.pending_key(learner_id), counters.snaps_key(learner_id)]
        keys += [counters.snapshot_key(learner_id, fid) for fid in guess]
        app_redis.pipeline_eval(
            pipe, CLAIM_LUA, len(keys), *keys, len(guess), *guess, *by_learner[learner_id]
        )
        # The tombstone lives in pending until flushed (same slot as the pending hash).
        pipe.sadd(counters.dirty_key(counters.learner_shard(learner_id)), learner_id)
    return app_redis.pipeline_execute(pipe)[::2]
