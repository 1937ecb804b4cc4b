"""Redis by role: one client per process for each of the two servers the apps use.

- `client()`: REDIS_URL, the server of the cache, the Channels layer and the Celery broker: a
  plain Redis, or the master that REDIS_SENTINELS name (each of those libraries then uses its own
  Sentinel support; see settings). Here it only publishes to the channel layer and answers
  health checks.
- `data_client()`: DATA_REDIS_URL (default: REDIS_URL), the apps' own data: tutor counters,
  quiz leaderboards, throttles. It may be a Redis Cluster: `redis+cluster://host:port[,host:port]`
  (`rediss+cluster://` for TLS), spoken to with redis-py's RedisCluster. Every Lua script and
  multi-key command of these roles touches keys of one hash slot (a `{tag}` in every key), and
  pipelines are used without MULTI across keys, since a cluster pipeline is not transactional
  across slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from django.conf import settings
from redis import asyncio as aioredis
from redis.asyncio import cluster as aiocluster
from redis.asyncio import sentinel as aiosentinel
from redis.cluster import ClusterNode, RedisCluster
from redis.sentinel import Sentinel, SentinelConnectionPool

CLUSTER_SCHEMES = {"redis+cluster": False, "rediss+cluster": True}  # scheme -> TLS

DataRedis = redis.Redis | RedisCluster


@cache
def client() -> redis.Redis:
    options = _options({"health_check_interval": 30})
    if settings.REDIS_SENTINELS:
        return _sentinel().master_for(settings.REDIS_SENTINEL_MASTER, **options)
    return redis.Redis.from_url(settings.REDIS_URL, **options)


def _sentinel() -> Sentinel:
    timeout = settings.REDIS_SOCKET_TIMEOUT
    return Sentinel(settings.REDIS_SENTINELS, sentinel_kwargs={"socket_timeout": timeout})


class SentinelCachePool(SentinelConnectionPool):
    """Django's RedisCache builds its pools with `pool_class.from_url(LOCATION, **options)`;
    with REDIS_SENTINELS set, this pool asks the sentinels for the master instead."""

    @classmethod
    def from_url(cls, url: str, **options: Any) -> SentinelCachePool:
        return cls(settings.REDIS_SENTINEL_MASTER, _sentinel(), **options)


def data_url() -> str:
    return settings.DATA_REDIS_URL or settings.REDIS_URL


def data_is_cluster() -> bool:
    return _cluster_url(data_url()) is not None


def data_shares_channel_layer() -> bool:
    """True when the data and the channel layer live in the same plain Redis: a publish can then
    ride in the same pipeline as a data write (one round trip)."""
    return data_url() == settings.REDIS_URL and not data_is_cluster()


@dataclass(frozen=True)
class _ClusterUrl:
    nodes: list[tuple[str, int]]
    tls: bool
    username: str | None
    password: str | None


def _cluster_url(url: str) -> _ClusterUrl | None:
    """`redis+cluster://[user:password@]host:port[,host:port...]`; None for any other URL."""
    scheme, _, rest = url.partition("://")
    if scheme not in CLUSTER_SCHEMES:
        return None
    auth, _, hosts = rest.split("/", 1)[0].rpartition("@")
    user, _, password = auth.partition(":")
    nodes = []
    for hostport in hosts.split(","):
        parsed = urlsplit(f"//{hostport}")
        nodes.append((parsed.hostname or "127.0.0.1", parsed.port or 6379))
    tls = CLUSTER_SCHEMES[scheme]
    return _ClusterUrl(nodes, tls, unquote(user) or None, unquote(password) or None)


def _options(overrides: dict[str, Any]) -> dict[str, Any]:
    return {
        "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": settings.REDIS_SOCKET_TIMEOUT,
        "decode_responses": True,
        **overrides,
    }


def data_connect(**overrides: Any) -> DataRedis:
    """A new client for DATA_REDIS_URL. `data_client()` is the shared one; the tutor's counters
    build their own with other retry rules (tutor/counters.py)."""
    url = data_url()
    cluster = _cluster_url(url)
    options = _options(overrides)
    if settings.REDIS_SENTINELS and not settings.DATA_REDIS_URL:
        return _sentinel().master_for(settings.REDIS_SENTINEL_MASTER, **options)
    if cluster is None:
        return redis.Redis.from_url(url, **options)
    # A failover changes which node serves a slot: the client follows MOVED redirects and, after
    # a connection error, reloads the slot map before the next command.
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in cluster.nodes],
        ssl=cluster.tls,
        username=cluster.username,
        password=cluster.password,
        **options,
    )


@cache
def data_client() -> DataRedis:
    return data_connect(health_check_interval=30)


_async_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, aioredis.Redis | aiocluster.RedisCluster
] = weakref.WeakKeyDictionary()


def adata_client() -> aioredis.Redis | aiocluster.RedisCluster:
    """`data_client()` for the running event loop (websocket fan-out): no thread hop."""
    loop = asyncio.get_running_loop()
    found = _async_clients.get(loop)
    if found is not None:
        return found
    url = data_url()
    cluster = _cluster_url(url)
    made: aioredis.Redis | aiocluster.RedisCluster
    if settings.REDIS_SENTINELS and not settings.DATA_REDIS_URL:
        sentinel = aiosentinel.Sentinel(settings.REDIS_SENTINELS)
        made = sentinel.master_for(settings.REDIS_SENTINEL_MASTER, **_options({}))
    elif cluster is None:
        made = aioredis.Redis.from_url(url, **_options({}))
    else:
        made = aiocluster.RedisCluster(
            startup_nodes=[aiocluster.ClusterNode(host, port) for host, port in cluster.nodes],
            ssl=cluster.tls,
            username=cluster.username,
            password=cluster.password,
            **_options({}),
        )
    _async_clients[loop] = made
    return made


def pipeline_eval(pipe: Any, script: str, numkeys: int, *keys_and_args: Any) -> None:
    """Queue an EVAL on a pipeline of either client: redis-py's cluster pipeline has no eval(),
    but routes a raw EVAL by its declared keys like any keyed command."""
    pipe.execute_command("EVAL", script, numkeys, *keys_and_args)


def pipeline_execute(pipe: Any) -> list:
    """`pipe.execute()`, and on a cluster, after a failure, a reload of the slot map.

    redis-py's cluster client reloads it after a failed single command, but a failed pipeline
    (as of redis-py 8.1) can leave it pointing at a dead master after its replica took over:
    measured here, every later pipeline failed until the map was reloaded by hand.
    """
    try:
        return pipe.execute()
    except UNAVAILABLE:
        nodes = getattr(pipe, "nodes_manager", None)
        if nodes is not None:
            with contextlib.suppress(*UNAVAILABLE):
                nodes.initialize()
        raise


def forget_clients() -> None:
    """Tests and fault tests that repoint the URLs: the next call builds new clients."""
    client.cache_clear()
    data_client.cache_clear()
    _async_clients.clear()


# What "Redis is unavailable" looks like to callers that degrade instead of failing. Besides its
# own errors, redis-py can surface a connection dropped mid-call as OSError or ValueError ("I/O
# operation on closed file"): seen when the server restarts while threads share the pool. The
# cluster client raises RedisClusterException (not a RedisError) when it cannot reach any node
# or a slot has no serving node during a failover.
UNAVAILABLE = (redis.RedisError, redis.exceptions.RedisClusterException, OSError, ValueError)
