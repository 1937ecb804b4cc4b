"""What `make run` (and `make bench`) start: preparation steps and the process table."""

from __future__ import annotations

import os
import shutil
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
        "ws": [
            services.venv_bin("daphne"), "config.asgi:application",
            "-b", "0.0.0.0", "-p", env["WS_PORT"], "--proxy-headers",
        ],
        "worker": [
            services.venv_bin("celery"), "-A", "config", "worker",
            "--loglevel", "INFO", "--concurrency", env.get("CELERY_CONCURRENCY", str(cores)),
        ],
        "beat": [services.venv_bin("celery"), "-A", "config", "beat", "--loglevel", "INFO"],
    }  # fmt: skip


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
