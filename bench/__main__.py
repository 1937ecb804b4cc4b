"""`make bench`: the headline numbers beside the framework's ceiling, measured in one run.

Starts the system as `make run` does (gunicorn, daphne, Celery worker and beat) on real
PostgreSQL, in its own database (`lingua_bench`), and on its own Redis server
(bench/private_redis.py, database 3), loads the data it needs once (later runs reuse it), and
prints one markdown table, also written to
bench/results.md (`python -m bench 7` measures only row 7 and keeps the other rows' last
results). Load comes from wrk (bounded request budgets) and asyncio websocket clients in
separate processes, on loopback only.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from devstack import services

if TYPE_CHECKING:  # imported after django.setup() at run time
    from bench.report import Table
    from bench.system import System

PORT, BASELINE_PORT = 8300, 8310
RESULTS = services.ROOT / "bench" / "results.md"


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def bench_stack() -> services.Stack:
    from bench import private_redis

    stack = services.ensure()
    parts = urlsplit(stack.database_url)
    database_url = urlunsplit(parts._replace(path="/lingua_bench"))
    services.ensure_database(database_url)
    return services.Stack(
        database_url=database_url,
        redis_url=services.with_redis_db(private_redis.start(), 3),
        started=stack.started,
    )


def configure(stack: services.Stack) -> None:
    os.environ.update(
        {
            **stack.env(),
            # The shipped rate limits (.env.example) stay on: the bench measures what ships.
            # Every participant on the live board, so a watcher can tell each answer arrived.
            "QUIZ_LIVE_BOARD_SIZE": "100",
            "DJANGO_HTTPS": "false",
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def main(only: set[str]) -> int:
    """`only`: row numbers to measure (`python -m bench 7`); the table keeps the other rows'
    last results. Empty: every row."""
    started = time.monotonic()
    stack = bench_stack()
    configure(stack)
    from bench import data, report, rows
    from bench.system import RssSampler, System

    def wanted(*numbers: str) -> bool:
        return not only or bool(only & set(numbers))

    system = System(stack, port=PORT, baseline_port=BASELINE_PORT)
    try:
        tokens = prepare(system)
        learners = data.tutor_seed(log) if wanted("1", "1b", "2", "9") else {}
        if wanted("9"):
            data.attempts_seed(learners, log)
        if wanted("3"):
            data.dialogs_seed(system.manage, log)
        table = report.Table()
        if wanted("5"):
            rows.flush(table, data.flush_seed(log), log)  # in-process, before beat could take it

        log("starting gunicorn, daphne, celery worker and beat, and the baseline")
        system.start()
        sampler = RssSampler(system)
        sampler.run_in_background()
        measure(table, system, tokens, learners, wanted)
        if not only:
            rows.memory(table, sampler.stop(), RESULTS)
    finally:
        system.stop()
        stack.stop_started()
        from bench import private_redis

        private_redis.stop()
    write_results(table, minutes=(time.monotonic() - started) / 60, partial=bool(only))
    return 0


def prepare(system: System) -> dict[str, str]:
    """Migrate, load fixtures, issue one token per role and empty the bench Redis database."""
    log("preparing the bench database (migrate, fixtures, tokens)")
    from config import redis as app_redis
    from devstack.processes import prepare as prepare_database

    prepare_database(system.env)
    tokens = {role: system.manage("issue_token", f"bench-{role}", "--role", role).split()[-1]
              for role in ("ingest", "analyst", "staff")}  # fmt: skip
    app_redis.client().flushdb()
    return tokens


def measure(
    table: Table, system: System, tokens: dict[str, str], learners: dict, wanted: Callable
) -> None:
    """The HTTP and websocket rows, the bare-Django baseline first (later rows compare to it)."""
    from bench import hosted, multinode, rows, storage

    if wanted("0", "1"):
        baseline = rows.baseline(table, system, log)
    if wanted("1"):
        rows.ingestion(table, system, baseline, tokens["ingest"], learners, log)
    if wanted("1b"):
        rows.bulk_ingestion(table, system, tokens["ingest"], log)
    if wanted("2"):
        rows.recommendations(table, system, tokens["analyst"], learners, log)
    if wanted("9"):
        rows.priority_recommendations(table, system, tokens["analyst"], learners, log)
    if wanted("3"):
        rows.dialog_listing(table, system, tokens["analyst"], log)
    if wanted("8"):
        storage.row(table, log)
    if wanted("4"):
        rows.live_leaderboard(table, system, tokens["staff"], log)
    if wanted("7"):
        multinode.row(table, system, tokens["staff"], log)
    if wanted("10"):
        hosted.row(table, system, tokens["staff"], log)


def write_results(table: Table, *, minutes: float, partial: bool) -> None:
    from bench import capacity
    from bench.system import machine

    text = table.render(
        machine=machine(), when=datetime.now(UTC), minutes=minutes, previous=RESULTS,
        partial=partial,
    )  # fmt: skip
    RESULTS.write_text(text)
    print(text)
    capacity.main(["--write"])  # the README's capacity model follows the new numbers


if __name__ == "__main__":
    sys.exit(main(set(sys.argv[1:])))
