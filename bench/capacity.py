"""Capacity model: the measured per-request CPU costs in bench/results.md, scaled to a target load.

`python -m bench.capacity` prints the README's "Capacity model" section; `--write` replaces it
in README.md (`make bench` does that after each run). Every measured input names its bench row;
everything else is an assumption listed in ASSUMPTIONS, to be changed here, not in the README.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass

from bench import report
from devstack import services

RESULTS = services.ROOT / "bench" / "results.md"
README = services.ROOT / "README.md"
START, END = "<!-- capacity:start -->", "<!-- capacity:end -->"
DAY = 86_400

ASSUMPTIONS = {
    "learners": 1_000_000,  # daily active
    "utterances_per_learner_day": 50,
    "peak_factor": 10,  # peak rate / mean rate
    "errors_per_utterance": 3,  # as in row 1's load
    "recommendations_per_learner_day": 5,  # generate-exercise calls
    "quiz_players": 10_000,  # concurrent, each with one websocket
    "players_per_quiz": 100,  # as in rows 4 and 7
    "answer_every_seconds": 10,  # per player
    "boards_per_quiz_second": 10,  # QUIZ_BROADCAST_INTERVAL = 0.1 s: the coalescing cap
    "core_utilisation": 0.6,  # plan each core at 60% busy: headroom for bursts and failover
    "host_cores": 16,
    "web_processes_per_core": 2,  # gunicorn sync workers (make run: 2 x cores)
    "retention_days": 365,  # utterances and error rows kept
}

_CPU = r"CPU per {what}[^:]*: web ([\d.]+) ms, postgres ([\d.]+) ms, redis ([\d.]+) ms"


@dataclass(frozen=True)
class Cost:
    """CPU milliseconds per request on each role, from one bench row."""

    row: str
    web: float
    postgres: float
    redis: float


@dataclass(frozen=True)
class Measured:
    heading: str
    ingest: Cost
    recommend: Cost
    answer: Cost
    frame_us: float  # daphne CPU per websocket frame sent (row 7, mean of the processes)
    sockets_per_process: int  # row 7
    ws_p99_ms: float  # row 7, worst process
    flush_per_second: float  # increments applied per second by one flush (row 5)
    bytes_per: dict[str, float]  # row 8


def _cost(rows: dict[str, str], number: str, what: str) -> Cost:
    match = re.search(_CPU.format(what=re.escape(what)), rows[number])
    if not match:
        raise SystemExit(f"bench row {number} has no '{what}' CPU figures: run `make bench`")
    return Cost(number, *(float(v) for v in match.groups()))


def measured(text: str) -> Measured:
    rows = report.table_rows(text)
    frames = [float(v) for v in re.findall(r"([\d,.]+) µs CPU per frame", rows["7"])]
    clients = re.findall(r"node\d: ([\d,]+) clients", rows["7"])
    # "inf" when a client missed an answer altogether (a collapsed run still has a row 7)
    p99s = [
        float(v) for v in re.findall(r"clients, p50 (?:\d+|inf) ms, p99 (\d+|inf) ms", rows["7"])
    ]
    flush = re.search(r"([\d.]+) s \(([\d,]+) increments", rows["5"])
    if flush is None:
        raise SystemExit("bench row 5 has no flush time: run `make bench`")
    sizes = re.findall(r"(\w+) ([\d,]+) B \(", rows["8"])
    return Measured(
        heading=text.split(report.START, 1)[1].strip().splitlines()[0],
        ingest=_cost(rows, "1", "request"),
        recommend=_cost(rows, "2", "big-learner request"),
        answer=_cost(rows, "7", "answer"),
        frame_us=sum(frames) / len(frames),
        sockets_per_process=int(clients[0].replace(",", "")),
        ws_p99_ms=max(p99s),
        flush_per_second=int(flush.group(2).replace(",", "")) / float(flush.group(1)),
        bytes_per={name: float(size.replace(",", "")) for name, size in sizes},
    )


@dataclass(frozen=True)
class Load:
    utterances: float  # per second at peak
    increments: float
    recommendations: float
    answers: float
    frames: float
    sockets: int


def peak_load(a: dict = ASSUMPTIONS) -> Load:
    peak = a["peak_factor"] / DAY
    utterances = a["learners"] * a["utterances_per_learner_day"] * peak
    quizzes = a["quiz_players"] / a["players_per_quiz"]
    return Load(
        utterances=utterances,
        increments=utterances * a["errors_per_utterance"],
        recommendations=a["learners"] * a["recommendations_per_learner_day"] * peak,
        answers=a["quiz_players"] / a["answer_every_seconds"],
        frames=quizzes * a["boards_per_quiz_second"] * a["players_per_quiz"],
        sockets=a["quiz_players"],
    )


def cores(m: Measured, load: Load) -> dict[str, float]:
    """Busy cores per role at peak (before the utilisation headroom)."""
    paths = ((m.ingest, load.utterances), (m.recommend, load.recommendations),
             (m.answer, load.answers))  # fmt: skip
    busy = {
        role: sum(getattr(cost, role) * rate for cost, rate in paths) / 1000
        for role in ("web", "postgres", "redis")
    }
    busy["ws"] = load.frames * m.frame_us / 1e6
    # The flush is batch work in the Celery worker and Postgres; row 5 ran it all-in on the bench
    # machine, so charge it whole machines' worth of cores at the measured rate.
    busy["flush"] = load.increments / m.flush_per_second * _bench_cores(m)
    return busy


def _bench_cores(m: Measured) -> int:
    found = re.search(r"on (\d+) cores", m.heading)
    return int(found.group(1)) if found else 2


def _n(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:,.1f}" if x >= 1 else f"{x:,.2f}"


def render(m: Measured, a: dict = ASSUMPTIONS) -> str:
    load, busy = peak_load(a), cores(m, peak_load(a))
    per_host = a["host_cores"] * a["core_utilisation"]
    web_hosts = math.ceil(busy["web"] / per_host)
    ws_processes = max(
        math.ceil(load.sockets / m.sockets_per_process),
        math.ceil(busy["ws"] / a["core_utilisation"]),
    )
    pg_cores = (busy["postgres"] + busy["flush"]) / a["core_utilisation"]
    redis_share = busy["redis"] / a["core_utilisation"]  # of its one command thread
    rows_day = a["learners"] * a["utterances_per_learner_day"]
    errors_day = rows_day * a["errors_per_utterance"]
    bytes_day = rows_day * m.bytes_per["utterance"] + errors_day * m.bytes_per["error"]
    c = "([bench row {}](bench/results.md))".format
    ing, rec, ans = m.ingest, m.recommend, m.answer
    lines = [
        START,
        f"Inputs: `bench/results.md`, {m.heading.split(' Rows ')[0].rstrip('.')}.",
        "",
        "| path | peak load | CPU per request (web / Postgres / Redis) | source |",
        "| --- | --- | --- | --- |",
        f"| ingestion | {_n(load.utterances)} utterances/s | {ing.web} / {ing.postgres} / "
        f"{ing.redis} ms | {c(ing.row)} |",
        f"| recommendations | {_n(load.recommendations)} req/s | {rec.web} / {rec.postgres} / "
        f"{rec.redis} ms | {c(rec.row)} |",
        f"| quiz answers (`next` + `answers`) | {_n(load.answers)} answers/s | {ans.web} / "
        f"{ans.postgres} / {ans.redis} ms | {c(ans.row)} |",
        f"| leaderboard frames | {_n(load.frames)} frames/s to {load.sockets:,} sockets | "
        f"{m.frame_us:.0f} µs per frame (daphne) | {c('7')} |",
        f"| counter flush | {_n(load.increments)} increments/s | "
        f"{_n(m.flush_per_second)} increments/s per flush on {_bench_cores(m)} cores | {c('5')} |",
        "",
        f"Busy cores at peak: web {_n(busy['web'])}, websockets {_n(busy['ws'])}, Postgres "
        f"{_n(busy['postgres'])} (+{_n(busy['flush'])} for the flush), Redis "
        f"{_n(busy['redis'])}. Planned at {a['core_utilisation']:.0%} per core on "
        f"{a['host_cores']}-core hosts:",
        "",
        f"- **web**: {web_hosts} hosts, {math.ceil(busy['web'] / a['core_utilisation']) * a['web_processes_per_core']:,} gunicorn workers "  # noqa: E501
        f"({a['web_processes_per_core']} per core).",
        f"- **websockets**: {ws_processes} daphne processes ({m.sockets_per_process:,} sockets "
        f"each as measured {c('7')}, worst p99 there {m.ws_p99_ms:.0f} ms), "
        f"{math.ceil(ws_processes / (a['host_cores'] * a['core_utilisation']))} host(s).",
        f"- **Postgres primary**: {_n(pg_cores)} cores ({pg_cores / a['host_cores']:.0%} of one "
        f"host); {_n(bytes_day / 2**30)} GiB/day of "
        f"utterances and errors ({m.bytes_per['utterance']:.0f} B and "
        f"{m.bytes_per['error']:.0f} B per row {c('8')}), "
        f"{_n(bytes_day * a['retention_days'] / 2**40)} TiB for {a['retention_days']} days. "
        "Analyst reads go to replicas.",
        f"- **Redis**: {redis_share:.0%} of one command thread at peak: at least "
        f"{math.ceil(redis_share)} Redis Cluster master(s) for the counters and boards.",
        "",
        _first_to_saturate(pg_cores / a["host_cores"], redis_share, bytes_day),
        END,
    ]
    return "\n".join(lines)


def _first_to_saturate(pg_host_share: float, redis_share: float, bytes_day: float) -> str:
    """Web and websocket processes scale out by adding hosts; the single primary and Redis's one
    command thread do not, so the first of those two to fill up is what saturates first."""
    if redis_share >= pg_host_share:
        return (
            f"Saturates first: **Redis**, at {redis_share:.0%} of its one thread (the Postgres "
            f"primary would be at {pg_host_share:.0%} of a host). Next step: Redis Cluster for "
            "the counters and leaderboards (`DATA_REDIS_URL`), keys hash-tagged by learner and "
            "quiz."
        )
    return (
        f"Saturates first: **the Postgres primary**, at {pg_host_share:.0%} of one "
        f"{ASSUMPTIONS['host_cores']}-core host for writes (Redis at {redis_share:.0%} of its "
        f"thread), and it accumulates {_n(bytes_day / 2**30)} GiB a day."
    )


def write_readme(section: str) -> None:
    text = README.read_text()
    head, rest = text.split(START, 1)
    README.write_text(head + section + rest.split(END, 1)[1])


def main(argv: list[str]) -> int:
    section = render(measured(RESULTS.read_text()))
    if "--write" in argv:
        write_readme(section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
