"""The bench's own Redis server (AOF every second, as docker-compose.yml runs it in production).

On a machine whose shared Redis also serves other clients, the server's CPU counters (INFO cpu)
would bill their work to the bench; on its own server they measure only the bench's load.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess

import redis

from devstack import services

PORT = 6390
DATA = services.DATA / "bench-redis"


def start() -> str:
    """Starts the server (fresh data each run); returns its URL."""
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    subprocess.run(
        [
            str(services.redis_server_binary()),
            "--bind", "127.0.0.1", "--port", str(PORT), "--dir", str(DATA),
            "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
            "--daemonize", "yes", "--pidfile", str(DATA / "redis.pid"),
            "--logfile", str(DATA / "redis.log"),
        ],
        check=True,
    )  # fmt: skip
    services.wait_for("127.0.0.1", PORT, 15, "bench Redis")
    return f"redis://127.0.0.1:{PORT}/0"


def stop() -> None:
    # SHUTDOWN drops the connection: that error is the success case.
    with contextlib.suppress(redis.ConnectionError):
        redis.Redis(port=PORT).shutdown(nosave=True)
