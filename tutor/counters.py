"""Redis side of the error counters: keys, Lua scripts, ingestion increments, real-time reads.

Keys (the `{learner}` hash tag keeps one learner's keys in one Redis Cluster slot, so every
per-learner script stays single-slot; the templates below are the only spelling):
    tutor:{L}:pending        hash  "<subcategory_id>:<yyyymmdd>" -> count
                                   "t:<subcategory_id>:<yyyymmdd>" -> last seen, epoch ms (max)
                                   "b:<batch>" -> "1": evidence that this request's increments
                                   landed ("x": tombstone written by the fold; see flush/fold.py)
    tutor:{L}:snap:<fid>     hash  a pending hash moved aside by flush <fid>; never written again
    tutor:{L}:snaps          set   flush ids that hold a snapshot of this learner
    tutor:{L}:gen            int   bumped by every move; readers use it to detect a move mid-read
    tutor:dirty              set   learners with a pending hash
    tutor:flushes            zset  flush ids with snapshots not yet deleted -> created (ms)
    tutor:flush:<fid>        set   learners in that snapshot
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import cast

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

# The key layout, defined here only. Per-learner keys are %-templates of the learner id (Lua
# gets them as ARGV and fills them with string.format), so Python and Lua cannot drift apart.
PENDING = "tutor:{%s}:pending"
SNAPSHOT_PREFIX = "tutor:{%s}:snap:"  # + flush id
SNAPS = "tutor:{%s}:snaps"
GEN = "tutor:{%s}:gen"
GEN_TTL_SECONDS = 86_400  # a reader's retry window is far shorter
DIRTY = "tutor:dirty"
REGISTRY = "tutor:flushes"
FLUSH_SET_PREFIX = "tutor:flush:"  # + flush id
KEY_PATTERN = "tutor:*"  # every key above (a SCAN/KEYS glob)


def pending_key(learner_id: str) -> str:
    return PENDING % learner_id


def snapshot_prefix(learner_id: str) -> str:
    return SNAPSHOT_PREFIX % learner_id


def snapshot_key(learner_id: str, flush_id: str) -> str:
    return snapshot_prefix(learner_id) + flush_id


def snapshot_key_pair(learner_id: str, flush_id: str) -> tuple[str, str]:
    """A snapshot hash and the set of its learner's snapshot ids (DELETE_SNAPSHOTS_LUA)."""
    return snapshot_key(learner_id, flush_id), snaps_key(learner_id)


def snaps_key(learner_id: str) -> str:
    return SNAPS % learner_id


def gen_key(learner_id: str) -> str:
    return GEN % learner_id


def flush_set_key(flush_id: str) -> str:
    return FLUSH_SET_PREFIX + flush_id


def day_code(day: date) -> str:
    return day.strftime("%Y%m%d")


@cache
def parse_day(code: str) -> date:
    return date(int(code[:4]), int(code[4:6]), int(code[6:8]))


@cache
def client() -> redis.Redis:
    """Our own client: no automatic retries. A retried increment after a lost reply would count
    twice, and an ingest request must fail fast when Redis is down (its rows stay marked for the
    flush's fold).
    """
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
        socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )


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
    for learner_id, (batch, errors) in by_learner.items():
        args = cast(list[str | int], ingest_args(batch, errors))  # its ARGV: str and int only
        pipe.eval(INGEST_LUA, 1, pending_key(learner_id), *args)
    pipe.sadd(DIRTY, *by_learner)
    pipe.execute()


def ingest_increment(
    *, learner_id: str, batch: uuid.UUID, at: datetime, subcategory_ids: Iterable[int]
) -> None:
    """`ingest_increments` for one learner's errors made at one time."""
    errors = [(sid, at) for sid in subcategory_ids]
    if errors:
        ingest_increments({learner_id: (batch, errors)})


# Reader: everything Redis knows about one learner, atomically (single slot).
READ_LUA = """
local out = {redis.call('GET', KEYS[2]) or '0', redis.call('HGETALL', KEYS[1])}
local prefix = ARGV[1]
for _, fid in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  out[#out + 1] = fid
  out[#out + 1] = redis.call('HGETALL', prefix .. fid)
end
return out
"""


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
for i, key in ipairs(KEYS) do out[i] = table.concat(redis.call('HGETALL', key), ' ') end
return out
"""


@dataclass
class LearnerRedisState:
    gen: str
    pending: Tally
    snapshots: dict[str, Tally]


def learner_state_read(*, learner_id: str) -> LearnerRedisState:
    reply = client().eval(
        READ_LUA,
        3,
        pending_key(learner_id),
        gen_key(learner_id),
        snaps_key(learner_id),
        snapshot_prefix(learner_id),
    )
    snapshots = {reply[i]: tally_hash(reply[i + 1]) for i in range(2, len(reply), 2)}
    return LearnerRedisState(gen=reply[0], pending=tally_hash(reply[1]), snapshots=snapshots)


def learner_gen(*, learner_id: str) -> str:
    gen = cast(str | None, client().get(gen_key(learner_id)))  # decode_responses=True
    return gen or "0"
