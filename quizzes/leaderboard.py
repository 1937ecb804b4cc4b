"""The live leaderboard: a Redis sorted set per quiz, a cache of Participant rows.

Keys share the `{CODE}` hash tag so that a quiz's keys live in one Redis Cluster slot (the Lua
scripts touch several of them):

    quiz:{CODE}:board   sorted set  participant id -> encoded score (see `encode`)
    quiz:{CODE}:meta    hash        participant id -> "answered|nickname"; "_built" -> "1"
    quiz:{CODE}:rebuild string      short lock, so one process rebuilds a lost board

Every write is a max-merge (ZADD GT, "answered" only grows): writes commute, so on-commit updates
arriving out of order, and a rebuild racing with answers, never move a participant backwards.
A board without the `_built` mark (Redis flushed, restarted, evicted) is rebuilt from Postgres
on the next read.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from redis import asyncio as aioredis
from redis.client import Pipeline
from redis.exceptions import LockError
from redis.lock import Lock

from config import redis as app_redis

# encoded = score * 2**TIE_BITS + (TIE_MAX - ms since the quiz was created): a higher score wins,
# then who reached it first. Stays an exact integer in a double (53 bits) while
# score < 2**17 (100 questions x 1000 points) and the quiz is younger than 2**36 ms (2 years).
TIE_BITS = 36
TIE_MAX = 2**TIE_BITS - 1
MAX_SCORE = 2 ** (53 - TIE_BITS) - 1
REBUILD_LOCK_MS = 5000
REBUILD_WAIT_S = 1.0  # then rebuild anyway: the max-merge makes a second rebuild harmless

_STORE = """
local n = 0
for i = 1, #ARGV, 4 do
  redis.call('ZADD', KEYS[1], 'GT', ARGV[i + 1], ARGV[i])
  local cur = redis.call('HGET', KEYS[2], ARGV[i])
  if (not cur) or tonumber(string.match(cur, '^(%d+)|')) < tonumber(ARGV[i + 2]) then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2] .. '|' .. ARGV[i + 3])
  end
  n = n + 1
end
return n
"""

_READ = """
if redis.call('HEXISTS', KEYS[2], '_built') == 0 then return false end
local top = {}
if tonumber(ARGV[1]) > 0 then
  top = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
end
local info = {}
if #top > 0 then
  local ids = {}
  for i = 1, #top, 2 do ids[#ids + 1] = top[i] end
  info = redis.call('HMGET', KEYS[2], unpack(ids))
end
local above = -1
if ARGV[2] ~= '' then above = redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[2], '+inf') end
return {redis.call('ZCARD', KEYS[1]), top, info, above}
"""


@dataclass(frozen=True)
class Row:
    """What the board needs of a participant (a Participant row, or the values of one)."""

    participant_id: int
    nickname: str
    score: int
    answered: int
    reached_score_at: datetime


def keys(code: str) -> tuple[str, str, str]:
    tag = f"quiz:{{{code}}}"
    return f"{tag}:board", f"{tag}:meta", f"{tag}:rebuild"


def encode(*, score: int, reached_at: datetime, epoch: datetime) -> int:
    ms = int((reached_at - epoch).total_seconds() * 1000)
    return min(score, MAX_SCORE) * 2**TIE_BITS + (TIE_MAX - min(max(ms, 0), TIE_MAX))


def decode_score(encoded: str | float) -> int:
    return int(float(encoded)) >> TIE_BITS


def _store_args(rows: list[Row], epoch: datetime) -> list[str | int]:
    args: list[str | int] = []
    for row in rows:
        encoded = encode(score=row.score, reached_at=row.reached_score_at, epoch=epoch)
        args += [row.participant_id, encoded, row.answered, row.nickname]
    return args


def store(pipe: Pipeline, *, code: str, epoch: datetime, rows: list[Row]) -> None:
    """Queue a max-merge of `rows` on `pipe` (callers add their publish to the same round trip)."""
    board, meta, _ = keys(code)
    pipe.eval(_STORE, 2, board, meta, *_store_args(rows, epoch))


def rebuild(*, code: str, epoch: datetime, rows: list[Row]) -> None:
    """Merge every participant from Postgres, then mark the board built. Idempotent."""
    meta = keys(code)[1]
    pipe = app_redis.client().pipeline()
    for start in range(0, len(rows), 1000):  # bounded Lua calls for huge quizzes
        store(pipe, code=code, epoch=epoch, rows=rows[start : start + 1000])
    pipe.hset(meta, "_built", "1")
    pipe.execute()


def rebuild_lock(*, code: str) -> Lock:
    """The lock one process rebuilds a lost board under; others block on it for up to
    REBUILD_WAIT_S (see `selectors.leaderboard_rebuild`). redis-py's Lock stores a random token
    and releases only its own, so a rebuild that outlived the timeout never frees another's."""
    return app_redis.client().lock(
        keys(code)[2],
        timeout=REBUILD_LOCK_MS / 1000,
        blocking_timeout=REBUILD_WAIT_S,
        sleep=0.02,
    )


def rebuild_unlock(lock: Lock) -> None:
    # Expired mid-rebuild (and maybe taken by another process): nothing of ours to free.
    with contextlib.suppress(LockError):
        lock.release()


def is_built(*, code: str) -> bool:
    return bool(app_redis.client().hexists(keys(code)[1], "_built"))


def read(*, code: str, limit: int, me_encoded: int | None = None) -> dict | None:
    """Top `limit` entries, the participant count and `me`'s rank, in one round trip.

    None when the board is not built: the caller rebuilds it from Postgres and reads again.
    A participant's rank is 1 + the number of encoded scores strictly above theirs.
    """
    board, meta, _ = keys(code)
    me_arg = "" if me_encoded is None else str(me_encoded)
    return _parse(app_redis.client().eval(_READ, 2, board, meta, limit, me_arg))


_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)


async def aread(*, code: str, limit: int) -> dict | None:
    """`read` on the event loop, for the websocket fan-out: no thread hop on the hot path."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = aioredis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
            socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
            decode_responses=True,
        )
    board, meta, _ = keys(code)
    return _parse(await client.eval(_READ, 2, board, meta, limit, ""))


def _parse(result: list | None) -> dict | None:
    if not result:
        return None
    count, top, info, above = result
    entries = []
    for position, i in enumerate(range(0, len(top), 2)):
        answered, _, nickname = (info[position] or "0|?").partition("|")
        entries.append(
            {
                "rank": position + 1,
                "nickname": nickname,
                "score": decode_score(top[i + 1]),
                "answered": int(answered),
            }
        )
    return {
        "participants": int(count),
        "entries": entries,
        "me_rank": None if above == -1 else int(above) + 1,
    }


def drop(*, code: str) -> None:
    app_redis.client().delete(*keys(code))


def ranks(*, code: str, encoded: list[int]) -> list[int] | None:
    """Rank of each encoded score (1 + how many are strictly above), in one round trip; None
    when the board is not built (the caller rebuilds it and asks again)."""
    board, meta, _ = keys(code)
    pipe = app_redis.client().pipeline(transaction=False)
    pipe.hexists(meta, "_built")
    for value in encoded:
        pipe.zcount(board, f"({value}", "+inf")
    built, *above = pipe.execute()
    return [n + 1 for n in above] if built else None
