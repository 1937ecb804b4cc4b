"""What `make run` (and `make bench`) start: preparation steps and the process table."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

from devstack import services


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True, cwd=services.ROOT, env=env)


def prepare(env: dict[str, str]) -> None:
    manage("migrate", "--noinput", env=env)
    fixtures = sorted(str(p) for p in (services.ROOT / "fixtures").glob("*.json"))
    if fixtures:
        manage("loaddata", *fixtures, env=env)
    manage("collectstatic", "--noinput", "-v", "0", env=env)
    manage("seed_demo", env=env)


def process_table(env: dict[str, str]) -> dict[str, list[str]]:
    cores = os.cpu_count() or 2
    return {
        "web": [
            services.venv_bin("gunicorn"), "config.wsgi",
            "--bind", f"0.0.0.0:{env['PORT']}",
            "--workers", env.get("WEB_CONCURRENCY", str(2 * cores)),
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
    listener = socket.create_server(("0.0.0.0", int(env["WS_PORT"])), backlog=1024)
    listener.set_inheritable(True)
    env["WS_FD"] = str(listener.fileno())
    return listener


def inherited_fds(env: dict[str, str]) -> tuple[int, ...]:
    return (int(env["WS_FD"]),) if "WS_FD" in env else ()


def run_env(stack: services.Stack) -> dict[str, str]:
    env = {**os.environ, **stack.env()}
    env.setdefault("PORT", "8000")
    env.setdefault("WS_PORT", str(int(env["PORT"]) + 1))
    env.setdefault("DJANGO_HTTPS", "false")  # local HTTP; production behind TLS keeps the default
    metrics_dir = services.DATA / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    return env
