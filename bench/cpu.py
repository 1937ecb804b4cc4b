"""CPU seconds each role spent during a measured window: the per-request costs the capacity model
(bench/capacity.py) scales up.

- web / ws / worker: the bench's own processes (each master with its children).
- postgres: the server backends connected to the bench database (process titles name it).
  Background work of the server (WAL writer, checkpointer, autovacuum) is not in it.
- redis: the server's own CPU counters (INFO cpu), on the bench's own server
  (bench/private_redis.py), so nobody else's commands are in it.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import psutil

from bench.system import System


def _cpu(proc: psutil.Process) -> float:
    with contextlib.suppress(psutil.Error):
        times = proc.cpu_times()
        return times.user + times.system
    return 0.0


def _postgres_backends(database: str) -> dict[int, float]:
    found = {}
    for proc in psutil.process_iter(["cmdline"]):
        title = " ".join(proc.info["cmdline"] or [])
        if title.startswith("postgres:") and f" {database} " in title:
            found[proc.pid] = _cpu(proc)
    return found


def _redis_cpu() -> float:
    from config import redis as app_redis

    info = app_redis.client().info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


@dataclass
class Usage:
    """CPU seconds per role over `seconds` of wall time."""

    seconds: float = 0.0
    roles: dict[str, float] = field(default_factory=dict)

    def ms_per(self, role: str, requests: int) -> float:
        return self.roles.get(role, 0.0) / max(1, requests) * 1000

    def describe(self, requests: int, what: str = "request", roles=("web", "postgres", "redis")):
        parts = [f"{role} {self.ms_per(role, requests):.2f} ms" for role in roles]
        return f"CPU per {what}: " + ", ".join(parts)


class Meter:
    """`with Meter(system) as usage:` fills `usage` when the block ends."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.database = system.env["DATABASE_URL"].rsplit("/", 1)[-1]
        self.usage = Usage()

    def _own(self) -> dict[str, float]:
        return {
            name: sum(_cpu(p) for p in procs)
            for name, procs in self.system.server_processes().items()
        }

    def __enter__(self) -> Usage:
        self.started = time.monotonic()
        self.own, self.pg, self.redis = self._own(), _postgres_backends(self.database), _redis_cpu()
        return self.usage

    def __exit__(self, *exc: object) -> None:
        own, pg = self._own(), _postgres_backends(self.database)
        roles = {name.rstrip("0123456789"): 0.0 for name in own}
        for name, total in own.items():  # ws1, ws2 ... add up to ws
            roles[name.rstrip("0123456789")] += total - self.own.get(name, 0.0)
        roles["postgres"] = sum(total - self.pg.get(pid, 0.0) for pid, total in pg.items())
        roles["redis"] = _redis_cpu() - self.redis
        self.usage.roles = roles
        self.usage.seconds = time.monotonic() - self.started
