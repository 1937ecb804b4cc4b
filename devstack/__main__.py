"""`make run` and `make test` behind one small CLI.

python -m devstack run            # prepare, then run web, websocket, worker, beat in the foreground
python -m devstack exec -- CMD    # run CMD with DATABASE_URL/REDIS_URL pointing at real servers
python -m devstack exec --test -- CMD   # same, Redis database 15 (tests flush it)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from devstack import services
from devstack.processes import prepare, process_table, run_env, ws_listen
from devstack.supervisor import Supervisor


def cmd_run() -> int:
    stack = services.ensure()
    try:
        env = run_env(stack)
        prepare(env)
        listener = ws_listen(env)  # noqa: F841 - held open while the processes run
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
