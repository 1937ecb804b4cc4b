"""Rate limits as O(1) fixed-window counters in Redis, with permits leased in blocks at high rates.

DRF's SimpleRateThrottle keeps every request time of the window in one cached list: at the
ingest rate (thousands a minute per token) each request unpickles and re-pickles that whole list
in two round trips. Here a request costs at most one pipelined INCRBY + EXPIRE. A window may
admit up to twice the rate across its boundary; that is the usual price of fixed windows.

High rates (the chat backend's one ingest token, thousands of requests a second) would still pay
one Redis round trip per request: a fifth of an ingest request's time when profiled. So a process
takes its permits from the shared window counter in blocks of rate/LEASE_FRACTION and spends them
locally. That never admits more than the rate (a block is granted only up to what the window
has left); it may refuse early by at most the unspent blocks of the other processes, under 1% of
the rate with a few dozen processes. Low rates (per-IP quiz joins) get blocks of one: exact.

Throttles fail open: when Redis is down, requests go through (ingestion must keep working, and
its data is safe in Postgres).
"""

from __future__ import annotations

import logging
import threading
import time

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from config import redis as app_redis

logger = logging.getLogger(__name__)

# A block is this fraction of the window's rate: 10,000/s gives blocks of 10 per process.
LEASE_FRACTION = 1000
_MAX_LEASES = 10_000  # distinct callers remembered per process


class ScopedRedisRateThrottle(ScopedRateThrottle):
    """Drop-in for DRF's ScopedRateThrottle (`throttle_scope` on the view, rates in settings)."""

    # cache key -> (window, permits left here); -1: the window is used up in every process.
    _leases: dict[str, tuple[int, int]] = {}
    _lock = threading.Lock()

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.num_requests is None or self.duration is None:
            return True  # a scope whose rate is None is unthrottled, as in DRF
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        self.wait_seconds = (window + 1) * self.duration - now
        self.limit, self.window_seconds = self.num_requests, self.duration
        block = max(1, self.limit // LEASE_FRACTION)
        if block == 1:
            return self._take(f"{key}:{window}", 1) > 0
        return self._leased(f"{key}:{self.limit}", window, block)

    def _leased(self, lease_key: str, window: int, block: int) -> bool:
        with self._lock:
            leased_window, left = self._leases.get(lease_key, (-1, 0))
            if leased_window == window:
                if left > 0:
                    self._leases[lease_key] = (window, left - 1)
                    return True
                if left < 0:
                    return False  # the shared counter is past the rate for this window
        granted = self._take(f"{lease_key}:{window}", block)
        if granted < 0:  # Redis unavailable: fail open, remember nothing
            return True
        with self._lock:
            if len(self._leases) >= _MAX_LEASES:
                self._leases.clear()
            self._leases[lease_key] = (window, granted - 1 if granted else -1)
        return granted > 0

    def _take(self, window_key: str, block: int) -> int:
        """Claims `block` permits of the window; returns how many fit under the rate (-1 and
        fail open when Redis is unavailable)."""
        try:
            pipe = app_redis.client().pipeline(transaction=False)
            if block == 1:
                pipe.incr(window_key)
            else:
                pipe.incr(window_key, block)
            pipe.expire(window_key, self.window_seconds + 1)
            count, _ = pipe.execute()
        except app_redis.UNAVAILABLE as exc:
            logger.warning("throttle %s skipped, redis unavailable: %s", self.scope, exc)
            return 1 if block == 1 else -1
        return max(0, min(block, self.limit - (count - block)))

    def get_ident(self, request: Request) -> str:
        """The client address. DRF trusts X-Forwarded-For even with NUM_PROXIES unset, so a
        client could forge its way past a per-address limit: without proxies configured (as under
        `make run`) only the connection's own address counts."""
        if api_settings.NUM_PROXIES is None:
            return str(request.META.get("REMOTE_ADDR", ""))
        return super().get_ident(request)

    def wait(self) -> float:
        return self.wait_seconds

    @classmethod
    def forget_leases(cls) -> None:
        with cls._lock:
            cls._leases.clear()
