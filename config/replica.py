"""Analyst reads from a streaming PostgreSQL replica, with the primary as the fallback.

A view opts in with one line, `class SomeView(replica.ReplicaReadMixin, APIView)`: its GET
requests then read the apps' tables (`REPLICA_APPS`) from the replica, chosen once per request so
that every query of the request (a page and its count in one snapshot) uses the same server.
Everything else reads and writes the primary: writes, consent, auth tokens, and reads that must
be real-time (`generate-exercise`).

A request reads the replica only when
- `DATABASE_REPLICA_URL` is set (without it nothing here runs and `make run` needs no replica);
- the replica is healthy: reachable, and either caught up (it has replayed all it received and is
  streaming: an idle primary sends no new transactions, so "time since the last replayed
  transaction" alone would call an idle pair lagging) or its replay lag is within
  `DATABASE_REPLICA_MAX_LAG`. The verdict is cached per process for
  `DATABASE_REPLICA_CHECK_SECONDS`;
- the replica has replayed the erasure fence. Revocations and deletions record the primary's WAL
  position in Redis after they commit and before they answer (`fence_advance`); a replica read
  needs `pg_last_wal_replay_lsn() >= fence`, otherwise that request reads the primary. So a list
  served after a revocation's answer never shows the revoked dialog, on any process or host, and
  the replica takes the reads again as soon as it has replayed the erasure. This is the
  "primary-read-after-revocation" choice, bounded by the LSN: waiting for replay instead would
  hold a web worker for up to the lag on every read that follows an erasure.
A replica that fails in the middle of a request (stopped, connection lost) is marked down and the
request is answered again from the primary: reads are side-effect free, so that retry is safe.
"""

from __future__ import annotations

import contextlib
import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponseBase

from config import redis as app_redis
from config.errors import RedisUnavailable

logger = logging.getLogger(__name__)

REPLICA = "replica"
REPLICA_APPS = frozenset({"tutor", "dialogs", "quizzes"})  # auth, tokens, sessions: primary
FENCE_KEY = "replica:fence"
_FAILURES = (OperationalError, InterfaceError)

# The alias this request's reads of REPLICA_APPS go to; None outside opted-in views.
_read_alias: ContextVar[str | None] = ContextVar("replica_read_alias", default=None)

# One round trip. On a server that is not in recovery (a promoted replica, or the primary
# itself) the lag is zero and its current WAL position counts as replayed.
STATUS_SQL = """
SELECT pg_is_in_recovery(),
       pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                            ELSE pg_current_wal_lsn() END, '0/0')::bigint,
       coalesce(pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), false)
           AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'),
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
"""
# Only ever raises the fence: concurrent erasures may record their positions out of order.
_FENCE_RAISE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""


def configured() -> bool:
    return REPLICA in connections.settings


def read_alias() -> str | None:
    """Where the current request reads REPLICA_APPS from (the router asks); None: the primary."""
    return _read_alias.get()


def read_connection() -> BaseDatabaseWrapper:
    """The connection for a raw-SQL read of REPLICA_APPS' tables (the ORM asks the router)."""
    return connections[read_alias() or DEFAULT_DB_ALIAS]


@dataclass(frozen=True)
class Verdict:
    healthy: bool
    replayed: int  # WAL bytes replayed (pg_wal_lsn_diff from 0/0); only ever grows
    checked_at: float  # time.monotonic()


DOWN = Verdict(healthy=False, replayed=0, checked_at=float("-inf"))


def verdict_from_status(
    *, standby: bool, replayed: int | None, caught_up: bool, lag: float | None, max_lag: float
) -> Verdict:
    """Healthy: not a standby, or caught up with what it received, or lagging at most max_lag."""
    healthy = (not standby) or caught_up or (lag is not None and lag <= max_lag)
    return Verdict(
        healthy=healthy and replayed is not None,
        replayed=replayed or 0,
        checked_at=time.monotonic(),
    )


_last = {"verdict": DOWN}  # per process (and shared by its threads): at worst a duplicate check


def replica_status(*, refresh: bool = False) -> Verdict:
    """The cached verdict, re-checked when older than DATABASE_REPLICA_CHECK_SECONDS."""
    verdict = _last["verdict"]
    age = time.monotonic() - verdict.checked_at
    if not refresh and age < settings.DATABASE_REPLICA_CHECK_SECONDS:
        return verdict
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(STATUS_SQL)
            standby, replayed, caught_up, lag = cursor.fetchone()
    except _FAILURES as exc:
        if verdict.healthy or verdict is DOWN:  # on a change, and the first time
            logger.warning("replica unavailable, reading the primary: %s", exc)
        return mark_down()
    fresh = verdict_from_status(
        standby=standby,
        replayed=replayed,
        caught_up=caught_up,
        lag=lag,
        max_lag=settings.DATABASE_REPLICA_MAX_LAG,
    )
    if fresh.healthy != verdict.healthy:  # log changes, not every check
        state = "in use" if fresh.healthy else "not used"
        logger.warning("replica %s (replay lag %s s)", state, lag)
    _last["verdict"] = fresh
    return fresh


def mark_down() -> Verdict:
    """Primary-only until the next check; the broken connection is dropped, not reused."""
    with contextlib.suppress(*_FAILURES):
        connections[REPLICA].close()
    _last["verdict"] = Verdict(healthy=False, replayed=0, checked_at=time.monotonic())
    return _last["verdict"]


def fence_read() -> int | None:
    """The erasure fence; None when Redis cannot say (then the primary is the safe choice)."""
    try:
        return int(app_redis.client().get(FENCE_KEY) or 0)
    except app_redis.UNAVAILABLE:
        return None


def choose_alias() -> str:
    """The alias for one opted-in read request: the replica when healthy and past the fence."""
    if not configured():
        return DEFAULT_DB_ALIAS
    verdict = replica_status()
    if not verdict.healthy:
        return DEFAULT_DB_ALIAS
    fence = fence_read()
    if fence is None:
        return DEFAULT_DB_ALIAS
    if verdict.replayed < fence:
        # A cached position is a lower bound (replay only moves forward): look again once.
        verdict = replica_status(refresh=True)
    return REPLICA if verdict.healthy and verdict.replayed >= fence else DEFAULT_DB_ALIAS


def fence_advance() -> None:
    """Call after an erasure commits, before answering: replica reads wait until it is replayed.

    Raises RedisUnavailable (a 503; the erasure itself has committed, and the answer never says
    it succeeded while replica lists may still show the erased row).
    """
    if not configured():
        return
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")
        (position,) = cursor.fetchone()
    try:
        app_redis.client().eval(_FENCE_RAISE, 1, FENCE_KEY, position)
    except app_redis.UNAVAILABLE as exc:
        logger.warning("could not record the replica fence: %s", exc)
        raise RedisUnavailable() from exc


class _ReplicaFailed(Exception):
    pass


class ReplicaReadMixin:
    """Opt-in for a DRF view: its GETs may be served from the replica (see the module doc)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD") or not configured():
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        alias = choose_alias()
        try:
            return self._dispatch_on(alias, request, *args, **kwargs)
        except _ReplicaFailed as exc:
            logger.warning("replica failed mid-request, answering from the primary: %s", exc)
            mark_down()
            return self._dispatch_on(DEFAULT_DB_ALIAS, request, *args, **kwargs)

    def _dispatch_on(self, alias: str, request: HttpRequest, *args: Any, **kwargs: Any):
        token = _read_alias.set(alias)
        try:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        finally:
            _read_alias.reset(token)

    def handle_exception(self, exc: Exception):
        # Only a failure of the replica itself is retried; the primary's go to the 503 handler.
        if _read_alias.get() == REPLICA and isinstance(exc, _FAILURES) and _replica_broken():
            raise _ReplicaFailed(str(exc)) from exc
        return super().handle_exception(exc)  # type: ignore[misc]


def _replica_broken() -> bool:
    """True when the replica's connection is the one that failed (the primary's stays usable)."""
    connection = connections[REPLICA]
    return connection.connection is None or not connection.is_usable()
