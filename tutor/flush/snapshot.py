"""Redis side of a flush batch: move pending hashes aside, read them, delete them after commit.

A batch is one shard (counters.SHARDS): its dirty set, registry, flush set and its learners'
keys share one hash slot, so the move stays one atomic script on a Redis Cluster too. Each
increment is then always in exactly one place, a pending hash or one registered snapshot, and a
flush id's snapshot is complete the moment it is registered: a recovery that resolves it while
its own flush is still running cannot miss a later part of it (there is none).
"""

from __future__ import annotations

import time
from typing import cast

from config import redis as app_redis
from tutor import counters
from tutor.counters import Tally

# KEYS: the shard's dirty set, registry, this flush's learner set, then for each learner in
# ARGV[4..]: pending, snapshot (of this flush), snaps set, gen. ARGV: flush id, now (ms), the gen
# key's TTL, learner ids. A learner is moved only if this call takes it out of the dirty set, so
# two flushes that picked the same candidates move each learner once. The gen becomes the flush
# id: a value never seen before, even after the key expired (readers compare it for equality).
MOVE_LUA = """
local fid = ARGV[1]
local moved = {}
for i = 4, #ARGV do
  local k = 3 + (i - 4) * 4
  if redis.call('SREM', KEYS[1], ARGV[i]) == 1 and redis.call('EXISTS', KEYS[k + 1]) == 1 then
    redis.call('RENAME', KEYS[k + 1], KEYS[k + 2])
    redis.call('SADD', KEYS[k + 3], fid)
    redis.call('SET', KEYS[k + 4], fid, 'EX', tonumber(ARGV[3]))
    moved[#moved + 1] = ARGV[i]
  end
end
for i = 1, #moved, 1000 do
  redis.call('SADD', KEYS[3], unpack(moved, i, math.min(i + 999, #moved)))
end
if #moved > 0 then redis.call('ZADD', KEYS[2], ARGV[2], fid) end
return moved
"""

CHUNK = 1000  # learners per read/delete Lua call: Redis never blocks for long
MOVE_ROUNDS = 100  # each round empties the candidates out of the dirty set; a bound anyway


def new_flush_id(shard: int, label: str | None = None) -> str:
    return counters.flush_id_new(shard, label)


def _dirty_sizes() -> list[int]:
    """SCARD of every shard's dirty set, in one pipeline."""
    pipe = counters.client().pipeline(transaction=False)
    for shard in range(counters.SHARDS):
        pipe.scard(counters.dirty_key(shard))
    return app_redis.pipeline_execute(pipe)


def dirty_shards() -> list[int]:
    return [shard for shard, n in enumerate(_dirty_sizes()) if n]


def dirty_count() -> int:
    return sum(_dirty_sizes())


def snapshot_move(*, flush_id: str, limit: int) -> list[str]:
    """Atomically moves up to `limit` dirty learners of the flush id's shard aside under it."""
    dirty = counters.dirty_key(counters.flush_shard(flush_id))
    for _ in range(MOVE_ROUNDS):
        candidates = cast(list[str], counters.client().srandmember(dirty, limit))
        if not candidates:
            return []
        moved = _move(flush_id, candidates)
        if moved:
            return moved
        # Every candidate was taken by another flush or had nothing pending: pick again.
    return []


def _move(flush_id: str, candidates: list[str]) -> list[str]:
    shard = counters.flush_shard(flush_id)
    keys = [counters.dirty_key(shard), counters.registry_key(shard)]
    keys.append(counters.flush_set_key(flush_id))
    for lid in candidates:
        keys += [
            counters.pending_key(lid),
            counters.snapshot_key(lid, flush_id),
            counters.snaps_key(lid),
            counters.gen_key(lid),
        ]
    args: list[str | int] = [flush_id, int(time.time() * 1000), counters.GEN_TTL_SECONDS]
    args += candidates
    moved: list[str] = counters.client().eval(MOVE_LUA, len(keys), *keys, *args)
    return moved


def _learners(flush_id: str) -> list[str]:
    members = cast(set[str], counters.client().smembers(counters.flush_set_key(flush_id)))
    return sorted(members)


def snapshot_read(*, flush_id: str) -> dict[str, Tally]:
    """Reads a snapshot; one pipeline of short Lua calls."""
    learners = _learners(flush_id)
    pipe = counters.client().pipeline(transaction=False)
    for i in range(0, len(learners), CHUNK):
        keys = [counters.snapshot_key(lid, flush_id) for lid in learners[i : i + CHUNK]]
        app_redis.pipeline_eval(pipe, counters.READ_SNAPSHOTS_LUA, len(keys), *keys)
    hashes = [h for reply in app_redis.pipeline_execute(pipe) for h in reply]
    return {lid: counters.tally_hash(h) for lid, h in zip(learners, hashes, strict=True)}


def snapshot_delete(*, flush_id: str) -> None:
    """Only after the apply committed (or the ledger shows it did)."""
    learners = _learners(flush_id)
    pipe = counters.client().pipeline(transaction=False)
    for i in range(0, len(learners), CHUNK):
        keys = [
            k for lid in learners[i : i + CHUNK] for k in counters.snapshot_key_pair(lid, flush_id)
        ]
        app_redis.pipeline_eval(pipe, counters.DELETE_SNAPSHOTS_LUA, len(keys), *keys, flush_id)
    pipe.delete(counters.flush_set_key(flush_id))
    app_redis.pipeline_execute(pipe)
    # Last, and only once the rest is gone: until here, recovery can still find the snapshot.
    counters.client().zrem(counters.registry_key(counters.flush_shard(flush_id)), flush_id)


def registered() -> list[str]:
    """Flush ids whose snapshots are not deleted yet (applied or not), over every shard."""
    pipe = counters.client().pipeline(transaction=False)
    for shard in range(counters.SHARDS):
        pipe.zrange(counters.registry_key(shard), 0, -1)
    return [fid for ids in app_redis.pipeline_execute(pipe) for fid in ids]
