"""Ingest throttling that fails open: the throttle's counters live in Redis, and ingestion must
keep working when Redis is down (the errors are safe in Postgres)."""

import logging

import redis
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)


class IngestThrottle(ScopedRateThrottle):
    def allow_request(self, request: Request, view: object) -> bool:
        try:
            return super().allow_request(request, view)
        except redis.RedisError as exc:
            logger.warning("throttle skipped, redis unavailable: %s", exc)
            return True
