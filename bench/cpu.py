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


# Requests a previous load left queued (a warm-up's last connections) finish within this.
SETTLE_SECONDS = 2.0


class Meter:
    """`with Meter(system) as usage:` fills `usage` when the block ends.

    The system's idle CPU (Celery polling its broker, beat, Redis's own timers, pub/sub
    listeners) is sampled for `idle_seconds` first and its rate taken off the window, so that
    a lightly loaded row does not bill that background to each of its few requests.
    """

    def __init__(self, system: System, *, idle_seconds: float = 3.0) -> None:
        self.system = system
        self.database = system.env["DATABASE_URL"].rsplit("/", 1)[-1]
        self.idle_seconds = idle_seconds
        self.usage = Usage()

    def _sample(self) -> tuple[float, dict[str, float], dict[int, float], float]:
        own = {
            name: sum(_cpu(p) for p in procs)
            for name, procs in self.system.server_processes().items()
        }
        return time.monotonic(), own, _postgres_backends(self.database), _redis_cpu()

    @staticmethod
    def _spent(before, after) -> tuple[float, dict[str, float]]:
        (t0, own0, pg0, redis0), (t1, own1, pg1, redis1) = before, after
        roles: dict[str, float] = {}
        for name, total in own1.items():  # ws1, ws2 ... add up to ws
            role = name.rstrip("0123456789")
            roles[role] = roles.get(role, 0.0) + total - own0.get(name, 0.0)
        roles["postgres"] = sum(total - pg0.get(pid, 0.0) for pid, total in pg1.items())
        roles["redis"] = redis1 - redis0
        return t1 - t0, roles

    def __enter__(self) -> Usage:
        time.sleep(SETTLE_SECONDS)
        idle_from = self._sample()
        time.sleep(self.idle_seconds)
        self.start = self._sample()
        self.idle = self._spent(idle_from, self.start)
        return self.usage

    def __exit__(self, *exc: object) -> None:
        seconds, roles = self._spent(self.start, self._sample())
        idle_seconds, idle = self.idle
        self.usage.seconds = seconds
        self.usage.roles = {
            role: max(0.0, spent - idle.get(role, 0.0) / idle_seconds * seconds)
            for role, spent in roles.items()
        }
