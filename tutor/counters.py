"""Redis side of the error counters: keys, Lua scripts, ingestion increments, real-time reads.

Keys. Every tutor key carries one of SHARDS hash tags, `{tN}` with N = crc32(learner id) mod
SHARDS: a learner's keys and its shard's dirty set, registry and flush sets share one Redis
Cluster slot, so every script (the flush's batch move too) is single-slot and declares every
key it touches in KEYS. The functions below are the only spelling:
    tutor:{tN}:<L>:pending     hash  "<subcategory_id>:<yyyymmdd>" -> count
                                     "t:<subcategory_id>:<yyyymmdd>" -> last seen, epoch ms (max)
                                     "b:<batch>" -> "1": evidence that this request's increments
                                     landed ("x": tombstone written by the fold; see flush/fold.py)
    tutor:{tN}:<L>:snap:<fid>  hash  a pending hash moved aside by flush <fid>; never written again
    tutor:{tN}:<L>:snaps       set   flush ids that hold a snapshot of this learner
    tutor:{tN}:<L>:gen         str   the last move's flush id; readers use it to detect a move
    tutor:{tN}:dirty           set   learners of shard N with a pending hash
    tutor:{tN}:flushes         zset  shard N's flush ids with snapshots not yet deleted -> ms
    tutor:{tN}:flush:<fid>     set   learners in that snapshot
A flush id names its shard ("<hex>.<N>"): one flush batch is one shard's atomic move.
"""

from __future__ import annotations

import logging
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from config import redis as app_redis

logger = logging.getLogger(__name__)

# The key layout, defined here only. 16 slots spread over up to 16 cluster masters; a slot of
# tutor keys takes a shard's whole write load, far below one Redis node's capacity.
SHARDS = 16
TAG = "tutor:{t%d}:"  # % shard
KEY_PATTERN = "tutor:*"  # every key below (a SCAN/KEYS glob)
GEN_PATTERN = "tutor:*:gen"
GEN_TTL_SECONDS = 86_400  # a reader's retry window is far shorter


def learner_shard(learner_id: str) -> int:
    return zlib.crc32(learner_id.encode()) % SHARDS


def _learner_prefix(learner_id: str) -> str:
    return f"{TAG % learner_shard(learner_id)}{learner_id}:"


def pending_key(learner_id: str) -> str:
    return _learner_prefix(learner_id) + "pending"


def snapshot_prefix(learner_id: str) -> str:
    return _learner_prefix(learner_id) + "snap:"


def snapshot_key(learner_id: str, flush_id: str) -> str:
    return snapshot_prefix(learner_id) + flush_id


def snapshot_key_pair(learner_id: str, flush_id: str) -> tuple[str, str]:
    """A snapshot hash and the set of its learner's snapshot ids (DELETE_SNAPSHOTS_LUA)."""
    return snapshot_key(learner_id, flush_id), snaps_key(learner_id)


def snaps_key(learner_id: str) -> str:
    return _learner_prefix(learner_id) + "snaps"


def gen_key(learner_id: str) -> str:
    return _learner_prefix(learner_id) + "gen"


def dirty_key(shard: int) -> str:
    return TAG % shard + "dirty"


def registry_key(shard: int) -> str:
    return TAG % shard + "flushes"


def flush_id_new(shard: int, label: str | None = None) -> str:
    return f"{label or uuid.uuid4().hex}.{shard}"


def flush_shard(flush_id: str) -> int:
    return int(flush_id.rsplit(".", 1)[1])


def flush_set_key(flush_id: str) -> str:
    return TAG % flush_shard(flush_id) + "flush:" + flush_id


def day_code(day: date) -> str:
    return day.strftime("%Y%m%d")


@cache
def parse_day(code: str) -> date:
    return date(int(code[:4]), int(code[4:6]), int(code[6:8]))


@cache
def client() -> app_redis.DataRedis:
    """Our own data-Redis client: no automatic retries. A retried increment after a lost reply
    would count twice, and an ingest request must fail fast when Redis is down (its rows stay
    marked for the flush's fold). On a cluster it still follows MOVED redirects, and a failed
    call reloads the slot map, so after a failover the next call reaches the promoted replica.
    """
    return app_redis.data_connect(retry=Retry(NoBackoff(), 0))


# KEYS[1] pending hash. ARGV: batch id, then pairs: field "<sid>:<yyyymmdd>", epoch ms (a field
# may repeat: +1 each). HSETNX on the batch makes a replayed request a no-op and leaves evidence
# for the flush.
INGEST_LUA = """
if redis.call('HSETNX', KEYS[1], 'b:' .. ARGV[1], '1') == 0 then return 0 end
for i = 2, #ARGV, 2 do
  local f = ARGV[i]
  local ts = tonumber(ARGV[i + 1])
  redis.call('HINCRBY', KEYS[1], f, 1)
  local seen = tonumber(redis.call('HGET', KEYS[1], 't:' .. f) or '0')
  if ts > seen then redis.call('HSET', KEYS[1], 't:' .. f, ts) end
end
return 1
"""

# One request's new errors per learner id: its batch id and (subcategory id, error time) pairs.
LearnerIncrements = dict[str, tuple[uuid.UUID, list[tuple[int, datetime]]]]


def ingest_args(batch: uuid.UUID, errors: Iterable[tuple[int, datetime]]) -> list[object]:
    """INGEST_LUA's ARGV: each error counts in the UTC day of its own time."""
    args: list[object] = [batch.hex]
    for sid, at in errors:
        args += (f"{sid}:{day_code(at.astimezone(UTC).date())}", int(at.timestamp() * 1000))
    return args


def ingest_increments(by_learner: LearnerIncrements) -> None:
    """One round trip for a whole request (one utterance or a bulk batch): every learner's
    pending counters, and the dirty marks.

    Raises redis errors; the caller decides (the rows are already committed in Postgres).
    """
    if not by_learner:
        return
    pipe = client().pipeline(transaction=False)
    by_shard: dict[int, list[str]] = {}
    for learner_id, (batch, errors) in by_learner.items():
        args = cast(list[str | int], ingest_args(batch, errors))  # its ARGV: str and int only
        app_redis.pipeline_eval(pipe, INGEST_LUA, 1, pending_key(learner_id), *args)
        by_shard.setdefault(learner_shard(learner_id), []).append(learner_id)
    for shard, learners in by_shard.items():  # each dirty set shares its learners' slot
        pipe.sadd(dirty_key(shard), *learners)
    app_redis.pipeline_execute(pipe)


def ingest_increment(
    *, learner_id: str, batch: uuid.UUID, at: datetime, subcategory_ids: Iterable[int]
) -> None:
    """`ingest_increments` for one learner's errors made at one time."""
    errors = [(sid, at) for sid in subcategory_ids]
    if errors:
        ingest_increments({learner_id: (batch, errors)})


# Reader: everything Redis knows about one learner, atomically (single slot). KEYS: pending,
# gen, snaps set, then the snapshot hashes of the flush ids in ARGV: the caller's guess of the
# snaps set, so that every key read is declared. A wrong guess returns {0, the actual ids}.
READ_LUA = """
local ids = redis.call('SMEMBERS', KEYS[3])
local same = #ids == #ARGV
if same then
  local guess = {}
  for _, fid in ipairs(ARGV) do guess[fid] = true end
  for _, fid in ipairs(ids) do if not guess[fid] then same = false end end
end
if not same then return {0, ids} end
local out = {1, redis.call('GET', KEYS[2]) or '0', redis.call('HGETALL', KEYS[1])}
for i, fid in ipairs(ARGV) do
  out[#out + 1] = fid
  out[#out + 1] = redis.call('HGETALL', KEYS[3 + i])
end
return out
"""
GUESSES = 10  # each wrong guess means a flush moved or deleted a snapshot in between


@dataclass
class Tally:
    """Counts keyed by (subcategory_id, day) with the latest error time (epoch ms)."""

    counts: dict[tuple[int, date], int] = field(default_factory=dict)
    last_ms: dict[tuple[int, date], int] = field(default_factory=dict)
    evidence: set[str] = field(default_factory=set)  # batch hex ids whose increments are here

    def add(self, key: tuple[int, date], count: int, last_ms: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + count
        self.last_ms[key] = max(self.last_ms.get(key, 0), last_ms)


def tally_hash(flat: list[str] | dict[str, str] | str, tally: Tally | None = None) -> Tally:
    """Parse a pending/snapshot hash into a Tally: an HGETALL reply (flat list or dict), or the
    space-joined string READ_SNAPSHOTS_LUA returns (our field names and values have no spaces).
    """
    tally = tally or Tally()
    if isinstance(flat, str):
        flat = flat.split(" ") if flat else []
    items = flat.items() if isinstance(flat, dict) else zip(flat[::2], flat[1::2], strict=True)
    stamps: dict[str, int] = {}
    counts: dict[str, int] = {}
    for name, value in items:
        kind = name[:2]
        if kind == "b:":
            if value == "1":
                tally.evidence.add(name[2:])
        elif kind == "t:":
            stamps[name[2:]] = int(value)
        else:
            counts[name] = int(value)
    for name, count in counts.items():
        sid, code = name.split(":")
        tally.add((int(sid), parse_day(code)), count, stamps.get(name, 0))
    return tally


# KEYS: (snapshot hash, snaps set) pairs; ARGV[1] flush id. Deletes a batch's snapshots.
DELETE_SNAPSHOTS_LUA = """
for i = 1, #KEYS, 2 do
  redis.call('DEL', KEYS[i])
  redis.call('SREM', KEYS[i + 1], ARGV[1])
end
return #KEYS / 2
"""


# Snapshot contents for many learners, one string each: far less reply parsing than HGETALL.
READ_SNAPSHOTS_LUA = """
local out = {}
for i = 1, #KEYS do out[i] = table.concat(redis.call('HGETALL', KEYS[i]), ' ') end
return out
"""


@dataclass
class LearnerRedisState:
    gen: str
    pending: Tally
    snapshots: dict[str, Tally]

    def is_empty(self) -> bool:
        return not (self.pending.counts or self.pending.evidence or self.snapshots)


def learner_state_read(*, learner_id: str) -> LearnerRedisState:
    keys = (pending_key(learner_id), gen_key(learner_id), snaps_key(learner_id))
    guess: list[str] = []  # usually right: a learner has no snapshot outside a flush
    for _ in range(GUESSES):
        snapshots = [snapshot_key(learner_id, fid) for fid in guess]
        reply = client().eval(READ_LUA, len(keys) + len(guess), *keys, *snapshots, *guess)
        if reply[0] == 1:
            parsed = {reply[i]: tally_hash(reply[i + 1]) for i in range(3, len(reply), 2)}
            return LearnerRedisState(gen=reply[1], pending=tally_hash(reply[2]), snapshots=parsed)
        guess = sorted(reply[1])
    raise redis.RedisError(f"snapshots of learner {learner_id} kept changing during the read")


def learner_gen(*, learner_id: str) -> str:
    gen = cast(str | None, client().get(gen_key(learner_id)))  # decode_responses=True
    return gen or "0"
