"""REDIS_URL's roles through Sentinel (`make test-slow`): a real master and a real sentinel.

A child Django process gets REDIS_SENTINELS and a REDIS_URL where nothing listens: the cache,
the channel layer, the Celery broker and both of config.redis's clients must all find the master
through the sentinel, with each library's own Sentinel support.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from config.tests import redis_cluster, servers

pytestmark = pytest.mark.slow

MASTER_NAME = "lingua-test"
PROBE = """
import asyncio
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from config import redis as app_redis
from config.celery import app

cache.set("probe", "cached", 60)
assert cache.get("probe") == "cached"
app_redis.client().set("sentinel:client", "1")
app_redis.data_client().set("sentinel:data", "1")

async def layer_roundtrip():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("probe", channel)
    await layer.group_send("probe", {"type": "probe", "n": 1})
    return (await asyncio.wait_for(layer.receive(channel), 10))["n"]

assert async_to_sync(layer_roundtrip)() == 1
with app.connection_for_write() as conn:
    queue = conn.SimpleQueue("sentinel-probe")
    queue.put({"n": 2})
    assert queue.get(timeout=10).payload["n"] == 2
    queue.close()
print("SENTINEL-PROBE-OK")
"""


class Sentinel:
    def __init__(self, data_dir: Path, master_port: int) -> None:
        self.binary = redis_cluster.binaries()[0]
        self.port = servers.free_port()
        self.conf = data_dir / "sentinel.conf"
        self.conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {data_dir}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} 1\n"
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, str(self.conf), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers.wait_until(self._knows_master, timeout=15, what="the sentinel")

    def _knows_master(self) -> bool:
        try:
            client = redis.Redis(port=self.port, socket_timeout=1)
            return bool(client.sentinel_get_master_addr_by_name(MASTER_NAME))
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=15)


@pytest.fixture
def sentinel_and_master() -> Iterator[tuple[Sentinel, servers.RedisServer]]:
    with servers.redis_server(appendonly=False) as master, servers.temp_dir("sentinel") as path:
        sentinel = Sentinel(path, master.port)
        sentinel.start()
        try:
            yield sentinel, master
        finally:
            sentinel.stop()


@pytest.mark.django_db
def test_cache_channel_layer_broker_and_clients_find_the_master_through_sentinel(
    sentinel_and_master,
):
    sentinel, master = sentinel_and_master
    env = servers.app_env(
        DATABASE_URL=servers.current_database_url(),
        REDIS_URL="redis://127.0.0.1:1/0",  # nothing listens here: only the sentinel helps
        DATA_REDIS_URL="",
        REDIS_SENTINELS=f"127.0.0.1:{sentinel.port}",
        REDIS_SENTINEL_MASTER=MASTER_NAME,
    )
    env.pop("CELERY_BROKER_URL", None)  # its default follows REDIS_SENTINELS

    output = servers.manage("shell", "-c", PROBE, env=env)

    assert "SENTINEL-PROBE-OK" in output
    on_master = master.client()
    assert on_master.get("sentinel:client") == "1"
    assert on_master.get("sentinel:data") == "1"
    assert any(key.startswith("cache:") for key in on_master.scan_iter("*"))
