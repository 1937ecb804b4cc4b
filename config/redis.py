"""One Redis client per process, shared by the apps for their own keys (counters, leaderboards)."""

from functools import cache

import redis
from django.conf import settings


@cache
def client() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
        socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
        health_check_interval=30,
        decode_responses=True,
    )


# What "Redis is unavailable" looks like to callers that degrade instead of failing. Besides its
# own errors, redis-py can surface a connection dropped mid-call as OSError or ValueError ("I/O
# operation on closed file"): seen when the server restarts while threads share the pool.
UNAVAILABLE = (redis.RedisError, OSError, ValueError)
