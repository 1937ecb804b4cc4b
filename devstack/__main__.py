"""`make run` and `make test` behind one small CLI.

python -m devstack run            # prepare, then run web, websocket, worker, beat in the foreground
python -m devstack exec -- CMD    # run CMD with DATABASE_URL/REDIS_URL pointing at real servers
python -m devstack exec --test -- CMD   # same, Redis database 15 (tests flush it)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from devstack import services
from devstack.supervisor import Supervisor


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


def cmd_run() -> int:
    stack = services.ensure()
    try:
        env = run_env(stack)
        prepare(env)
        port, ws_port = env["PORT"], env["WS_PORT"]
        services.log(
            f"HTTP http://localhost:{port}/ (Swagger at /api/docs, admin at /admin/), "
            f"websockets ws://localhost:{ws_port}/ws/. Ctrl-C stops everything."
        )
        return Supervisor(process_table(env), env=env, cwd=services.ROOT).run()
    finally:
        stack.stop_started()


def cmd_exec(command: list[str], for_tests: bool) -> int:
    stack = services.ensure(for_tests=for_tests)
    try:
        env = {**os.environ, **stack.env()}
        if for_tests:
            env.setdefault("DJANGO_HTTPS", "false")  # the test client speaks plain HTTP
        return subprocess.run(command, env=env).returncode
    finally:
        stack.stop_started()


def main() -> int:
    parser = argparse.ArgumentParser(prog="devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run")
    exec_parser = sub.add_parser("exec")
    exec_parser.add_argument("--test", action="store_true")
    exec_parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.command == "run":
        return cmd_run()
    command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    return cmd_exec(command, for_tests=args.test)


if __name__ == "__main__":
    sys.exit(main())
