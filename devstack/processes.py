"""What `make run` (and `make bench`) start: preparation steps and the process table."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys

from devstack import services


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True, cwd=services.ROOT, env=env)


def prepare(env: dict[str, str]) -> None:
    manage("migrate", "--noinput", env=env)
    # Inserts missing reference rows only: what an admin changed survives every restart.
    manage("load_reference_data", env=env)
    manage("collectstatic", "--noinput", "-v", "0", env=env)
    password, fresh = demo_admin_password(env)
    seed_args = ["--reset-admin-password"] if fresh else []
    manage("seed_demo", *seed_args, env={**env, "DJANGO_SUPERUSER_PASSWORD": password})


ADMIN_PASSWORD_FILE = services.DATA / "admin-password"


def demo_admin_password(env: dict[str, str]) -> tuple[str, bool]:
    """DJANGO_SUPERUSER_PASSWORD, else one random password per data folder, kept (0600) in
    `.data/admin-password`. `fresh` (given, or just made) means the admin's password is set
    to it; otherwise a password changed in the admin since is left alone."""
    if env.get("DJANGO_SUPERUSER_PASSWORD"):
        return env["DJANGO_SUPERUSER_PASSWORD"], True
    if ADMIN_PASSWORD_FILE.exists():
        return ADMIN_PASSWORD_FILE.read_text().strip(), False
    ADMIN_PASSWORD_FILE.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    fd = os.open(ADMIN_PASSWORD_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(password + "\n")
    return password, True


def bind_address(host: str, port: str | int) -> str:
    """gunicorn's --bind form: IPv6 literals in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def process_table(env: dict[str, str]) -> dict[str, list[str]]:
    cores = os.cpu_count() or 2
    return {
        "web": [
            services.venv_bin("gunicorn"), "config.wsgi",
            "--bind", bind_address(env["HOST"], env["PORT"]),
            "--workers", env.get("WEB_CONCURRENCY", str(2 * cores)),
            # Threads overlap a request's database/Redis round trips and WAL-flush waits with
            # other requests' work, and let concurrent COMMITs share one flush (group commit).
            "--worker-class", "gthread", "--threads", env.get("WEB_THREADS", "4"),
            "--graceful-timeout", "10",
            "--access-logfile", "-" if env.get("GUNICORN_ACCESS_LOG") else "/dev/null",
        ],
        # Several daphne processes share one listening socket (the kernel spreads connections):
        # websocket fan-out is per-socket Python work, so it scales with processes.
        **{
            f"ws{n}" if ws_processes(env) > 1 else "ws": [
                services.venv_bin("daphne"), "config.asgi:application",
                "--fd", env["WS_FD"], "--proxy-headers",
            ]
            for n in range(1, ws_processes(env) + 1)
        },
        "worker": [
            services.venv_bin("celery"), "-A", "config", "worker",
            "--loglevel", "INFO", "--concurrency", env.get("CELERY_CONCURRENCY", str(cores)),
        ],
        "beat": [services.venv_bin("celery"), "-A", "config", "beat", "--loglevel", "INFO"],
    }  # fmt: skip


def ws_processes(env: dict[str, str]) -> int:
    # One by default: on 2 cores a second process improved the median fan-out latency but
    # worsened its p99 (bench/results.md). Raise it where there are cores to spare.
    return int(env.get("WS_PROCESSES") or 1)


def ws_listen(env: dict[str, str]) -> socket.socket:
    """Binds WS_PORT once; its descriptor goes to every daphne process (see process_table)."""
    family = socket.AF_INET6 if ":" in env["HOST"] else socket.AF_INET
    listener = socket.create_server((env["HOST"], int(env["WS_PORT"])), family=family, backlog=1024)
    listener.set_inheritable(True)
    env["WS_FD"] = str(listener.fileno())
    return listener


def inherited_fds(env: dict[str, str]) -> tuple[int, ...]:
    return (int(env["WS_FD"]),) if "WS_FD" in env else ()


def run_env(stack: services.Stack) -> dict[str, str]:
    env = {**os.environ, **stack.env()}
    # Local only unless HOST says otherwise (HOST=0.0.0.0 serves the whole network).
    env["HOST"] = env.get("HOST") or "127.0.0.1"
    env.setdefault("PORT", "8000")
    env.setdefault("WS_PORT", str(int(env["PORT"]) + 1))
    env.setdefault("DJANGO_HTTPS", "false")  # local HTTP; production behind TLS keeps the default
    metrics_dir = services.DATA / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    return env
