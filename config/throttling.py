"""Rate limits as O(1) fixed-window counters in Redis.

DRF's SimpleRateThrottle keeps every request time of the window in one cached list: at the
ingest rate (thousands a minute per token) each request unpickles and re-pickles that whole list
in two round trips. Here a request costs one pipelined INCR + EXPIRE. A window may admit up to
twice the rate across its boundary; that is the usual price of fixed windows.

Throttles fail open: when Redis is down, requests go through (ingestion must keep working, and
its data is safe in Postgres).
"""

from __future__ import annotations

import logging
import time

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from config import redis as app_redis

logger = logging.getLogger(__name__)


class ScopedRedisRateThrottle(ScopedRateThrottle):
    """Drop-in for DRF's ScopedRateThrottle (`throttle_scope` on the view, rates in settings)."""

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
        try:
            pipe = app_redis.data_client().pipeline(transaction=False)
            pipe.incr(f"{key}:{window}")
            pipe.expire(f"{key}:{window}", self.duration + 1)
            count, _ = app_redis.pipeline_execute(pipe)
        except app_redis.UNAVAILABLE as exc:
            logger.warning("throttle %s skipped, redis unavailable: %s", self.scope, exc)
            return True
        return count <= self.num_requests

    def get_ident(self, request: Request) -> str:
        """The client address. DRF trusts X-Forwarded-For even with NUM_PROXIES unset, so a
        client could forge its way past a per-address limit: without proxies configured (as under
        `make run`) only the connection's own address counts."""
        if api_settings.NUM_PROXIES is None:
            return str(request.META.get("REMOTE_ADDR", ""))
        return super().get_ident(request)

    def wait(self) -> float:
        return self.wait_seconds
