"""Redis side of a flush batch: move pending hashes aside, read them, delete them after commit."""

from __future__ import annotations

import time
import uuid
from typing import cast

from tutor import counters
from tutor.counters import Tally

# KEYS: dirty set, registry, the flush's learner set. ARGV: flush id, now (ms), limit, then the
# key templates (counters.PENDING, SNAPSHOT_PREFIX, SNAPS, GEN) and the gen key's TTL.
MOVE_LUA = """
local fid = ARGV[1]
local ids = redis.call('SPOP', KEYS[1], tonumber(ARGV[3]))
local moved = {}
for _, id in ipairs(ids) do
  local p = string.format(ARGV[4], id)
  if redis.call('EXISTS', p) == 1 then
    redis.call('RENAME', p, string.format(ARGV[5], id) .. fid)
    redis.call('SADD', string.format(ARGV[6], id), fid)
    local g = string.format(ARGV[7], id)
    redis.call('INCR', g)
    redis.call('EXPIRE', g, tonumber(ARGV[8]))
    moved[#moved + 1] = id
  end
end
for i = 1, #moved, 1000 do
  redis.call('SADD', KEYS[3], unpack(moved, i, math.min(i + 999, #moved)))
end
if #moved > 0 then redis.call('ZADD', KEYS[2], ARGV[2], fid) end
return moved
"""

CHUNK = 1000  # learners per Lua call: Redis never blocks for long


def new_flush_id() -> str:
    return uuid.uuid4().hex


def snapshot_move(*, flush_id: str, limit: int) -> list[str]:
    """Atomically moves up to `limit` dirty learners' pending hashes aside under `flush_id`."""
    keys = (counters.DIRTY, counters.REGISTRY, counters.flush_set_key(flush_id))
    templates = (counters.PENDING, counters.SNAPSHOT_PREFIX, counters.SNAPS, counters.GEN)
    now_ms = int(time.time() * 1000)
    args = (flush_id, now_ms, limit, *templates, counters.GEN_TTL_SECONDS)
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
        pipe.eval(counters.READ_SNAPSHOTS_LUA, len(keys), *keys)
    hashes = [h for reply in pipe.execute() for h in reply]
    return {lid: counters.tally_hash(h) for lid, h in zip(learners, hashes, strict=True)}


def snapshot_delete(*, flush_id: str) -> None:
    """Only after the apply committed (or the ledger shows it did)."""
    learners = _learners(flush_id)
    pipe = counters.client().pipeline(transaction=False)
    for i in range(0, len(learners), CHUNK):
        keys = [
            k for lid in learners[i : i + CHUNK] for k in counters.snapshot_key_pair(lid, flush_id)
        ]
        pipe.eval(counters.DELETE_SNAPSHOTS_LUA, len(keys), *keys, flush_id)
    pipe.delete(counters.flush_set_key(flush_id))
    pipe.zrem(counters.REGISTRY, flush_id)  # last: until here, recovery can still find it
    pipe.execute()


def registered() -> list[str]:
    """Flush ids whose snapshots are not deleted yet (applied or not)."""
    return cast(list[str], counters.client().zrange(counters.REGISTRY, 0, -1))
