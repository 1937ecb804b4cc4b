"""The seven rows. Each measures, then adds one line to the table with its verdict."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

from bench import cpu, data, ingest, quiz, report, wrk
from bench.http import Client
from bench.system import System

BULK_SIZE = 500
SETTLE = 6.0  # TUTOR_FOLD_SETTLE_SECONDS (5 s) and a margin: then every count is applied


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def flush(table: report.Table, increments: int, log) -> None:
    from tutor import flush as tutor_flush

    log("row 5: flushing the pending counters")
    started = time.monotonic()
    result = tutor_flush.error_counts_flush()
    seconds = time.monotonic() - started
    log(f"  {result.increments:,} increments, {result.learners:,} learners in {seconds:.1f} s")
    table.add(
        "5", "counter flush", f"{increments:,} pending increments over "
        f"{data.FLUSH_LEARNERS:,} learners flushed to Postgres", "≤ 10 s",
        f"{seconds:.1f} s ({result.increments:,} increments, {result.batches} batches)",
        seconds <= 10 and result.increments == increments,
    )  # fmt: skip
    # The flush just added ~800,000 aggregate rows for other learners: refresh the planner's
    # statistics as autovacuum would within a minute, or rows 2 and 9 read the big learner's
    # window with a sequential scan planned from the statistics of a table 70 times smaller.
    data.analyze("tutor_errorcount")


def baseline(table: report.Table, system: System, log) -> wrk.WrkResult:
    log("baseline: bare Django JSON view, gunicorn 2 sync workers, 64 connections")
    result = wrk.run(
        f"http://127.0.0.1:{system.baseline_port}", ["GET /hello"],
        connections=64, seconds=15, budget=300_000,
    )  # fmt: skip
    log(f"  {result}")
    table.add("0", "baseline", "bare Django view, small JSON, gunicorn 2 sync workers, 64 "
              "clients, 15 s", "the ceiling", str(result), None)  # fmt: skip
    return result


def ingestion(table, system: System, base: wrk.WrkResult, token: str, learners, log) -> None:
    log("row 1: POST /api/utterances with 3 errors, 64 connections, 30 s")
    stored_before = ingest.stored_errors()
    lines = data.utterance_lines(learners["conversations"])
    url, auth = f"http://127.0.0.1:{system.port}", f"Token {token}"
    wrk.run(url, lines, connections=64, seconds=3, budget=1_000_000, auth=auth)  # warm-up
    with cpu.Meter(system) as usage:
        result = wrk.run(url, lines, connections=64, seconds=30, budget=1_000_000, auth=auth)
    log(f"  {result}; {usage.describe(result.requests)}")
    ratio = result.rps / base.rps
    stored = ingest.stored_errors() - stored_before
    off_by = ingest.counts_settle_and_diff(log, settle=SETTLE)
    table.add(
        "1", "error ingestion", "`POST /api/utterances`, 3 errors each, 64 clients, 30 s, "
        "shipped throttles on", "≥ 50% of baseline throughput; p99 ≤ 50 ms; 0 non-2xx; "
        "counts = stored errors",
        f"{result} ({ratio:.0%} of baseline); {usage.describe(result.requests)}; "
        f"{stored:,} errors stored (incl. warm-up), counts off by {off_by}",
        ratio >= 0.5 and result.p99_ms <= 50 and result.errors == 0 and off_by == 0,
    )  # fmt: skip


def bulk_ingestion(table, system: System, token: str, log) -> None:
    log("row 1b: POST /api/utterances/bulk, 500 utterances x 3 errors, 8 connections, 20 s")
    conversations = ingest.ingest_conversations()
    lines = ingest.bulk_lines([c for c, _ in conversations], size=BULK_SIZE)
    result = wrk.run(
        f"http://127.0.0.1:{system.port}", lines, connections=8, seconds=20, budget=100_000,
        auth=f"Token {token}", warmup=2,
    )  # fmt: skip
    rate = result.rps * BULK_SIZE
    log(f"  {result}: {rate:,.0f} utterances/s")
    off_by = ingest.counts_settle_and_diff(log, settle=SETTLE)
    floor = ingest.copy_floor(conversations, utterances=50_000)
    log(f"  raw COPY of the same rows: {floor:,.0f} utterances/s")
    table.add(
        "1b", "bulk ingestion", f"`POST /api/utterances/bulk`, {BULK_SIZE} utterances x 3 "
        "errors per request, 8 clients, 20 s; beside it a raw `COPY` of 50,000 such rows",
        "≥ 20,000 utterances/s (aim: ≥ 50% of COPY); counts = stored errors",
        f"{rate:,.0f} utterances/s ({result}); raw COPY {floor:,.0f} utterances/s "
        f"({rate / floor:.0%} of it); counts off by {off_by}",
        rate >= 20_000 and result.errors == 0 and off_by == 0,
    )  # fmt: skip


def recommendations(table, system: System, token: str, learners, log) -> None:
    results = {}
    for size in ("small", "big"):
        path = f"/api/generate-exercise?user_id={learners[size]}&top_n_errors=3&last_n_days=30"
        url, lines, auth = f"http://127.0.0.1:{system.port}", [f"GET {path}"], f"Token {token}"
        wrk.run(url, lines, connections=4, seconds=2, budget=200_000, auth=auth)  # warm-up
        with cpu.Meter(system) as usage:
            results[size] = wrk.run(url, lines, connections=4, seconds=10, budget=200_000,
                                    auth=auth)  # fmt: skip
        log(f"row 2 {size}: {results[size]}")
    cost = usage.describe(results["big"].requests, "big-learner request")
    ratio = results["big"].p50_ms / results["small"].p50_ms
    table.add(
        "2", "recommendations", "`GET /api/generate-exercise` (top 3, last 30 days), learner "
        "with 100 vs 1,000,000 errors, 4 clients, 10 s each after 2 s warm-up",
        "p50 ratio big/small ≤ 1.2; p99 ≤ 20 ms",
        f"small: {results['small']}; big: {results['big']}; p50 ratio {ratio:.2f}; {cost}",
        ratio <= 1.2 and max(r.p99_ms for r in results.values()) <= 20,
    )  # fmt: skip


def priority_recommendations(table, system: System, token: str, learners, log) -> None:
    """Row 2 under `ranking=priority`: per-day evidence with decay, attempts and rotation."""
    results = {}
    for size in ("small", "big"):
        path = (
            f"/api/generate-exercise?user_id={learners[size]}&top_n_errors=3&last_n_days=30"
            "&ranking=priority"
        )
        results[size] = wrk.run(
            f"http://127.0.0.1:{system.port}", [f"GET {path}"], connections=4, seconds=10,
            budget=200_000, auth=f"Token {token}", warmup=2,
        )  # fmt: skip
        log(f"row 9 {size}: {results[size]}")
    ratio = results["big"].p50_ms / results["small"].p50_ms
    table.add(
        "9", "priority recommendations", "`GET /api/generate-exercise?ranking=priority` (top 3, "
        "last 30 days), learner with 100 errors and 10 attempts vs 1,000,000 errors and 10,000 "
        "attempts, 4 clients, 10 s each after 2 s warm-up",
        "p50 ratio big/small ≤ 1.2; p99 ≤ 20 ms",
        f"small: {results['small']}; big: {results['big']}; p50 ratio {ratio:.2f}",
        ratio <= 1.2 and max(r.p99_ms for r in results.values()) <= 20,
    )  # fmt: skip


def dialog_listing(table, system: System, token: str, log) -> None:
    client = Client(f"http://127.0.0.1:{system.port}", auth=f"Token {token}")
    log("row 3: walking 5,000 pages of GET /data/ by following next")
    started = time.monotonic()
    deep_path = "/data/"
    page, seen = client.ok("GET", deep_path), 0
    for _ in range(4_999):
        seen += len(page["results"])
        deep_path = _path(page["next"])
        page = client.ok("GET", deep_path)
    log(f"  reached page 5,000 ({seen:,} rows before it) in {time.monotonic() - started:.0f} s")
    url = f"http://127.0.0.1:{system.port}"
    wrk.run(url, ["GET /data/"], connections=4, seconds=2, budget=200_000, auth=f"Token {token}")
    with cpu.Meter(system) as usage:
        first = wrk.run(url, ["GET /data/"], connections=4, seconds=10, budget=200_000,
                        auth=f"Token {token}")  # fmt: skip
    deep = wrk.run(url, [f"GET {deep_path}"], connections=4, seconds=10, budget=200_000,
                   auth=f"Token {token}", warmup=2)  # fmt: skip
    log(f"  first page: {first}\n  page 5,000: {deep}")
    ratio = deep.p50_ms / first.p50_ms
    table.add(
        "3", "dialog listing", f"`GET /data/` first page vs page 5,000 (following `next`), "
        f"{page['count']:,} consented dialogs, 4 clients, 10 s each",
        "deep/first p50 ≤ 1.5; first page p50 ≤ 25 ms",
        f"first: {first}; page 5,000: {deep}; p50 ratio {ratio:.2f}; "
        f"{usage.describe(first.requests, 'first-page request')}",
        ratio <= 1.5 and first.p50_ms <= 25,
    )  # fmt: skip


def live_leaderboard(table, system: System, token: str, log) -> None:
    log("row 4: 1,000 websocket clients, 100 participants answering at 50 answers/s")
    result = quiz.run(
        f"http://127.0.0.1:{system.port}", f"ws://127.0.0.1:{system.ws_port}",
        f"Token {token}", log=log,
    )  # fmt: skip
    log(f"  {result}")
    table.add(
        "4", "live leaderboard", f"{result.clients:,} websocket clients on one quiz, 100 "
        f"participants, {result.answers:,} answers at 50/s",
        "p99 answer 201 → every client holds it ≤ 250 ms; no client misses the final state",
        f"p50 {result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms, max {result.max_ms:.0f} ms; "
        f"{result.missed_final} clients missed the final state; answer POST p99 "
        f"{result.answer_p99_ms:.0f} ms; watcher process used {result.watcher_cpu_share:.2f} "
        "of a core",
        result.p99_ms <= 250 and result.missed_final == 0,
    )  # fmt: skip


def memory(table, peaks: dict[str, float], results: Path) -> None:
    before = report.previous_peaks(results)
    parts = []
    for role, mib in sorted(peaks.items()):
        change = f" ({mib - before[role]:+.0f} vs previous run)" if role in before else ""
        parts.append(f"{role} {mib:.0f} MiB{change}")
    table.rss = {role: round(mib, 1) for role, mib in peaks.items()}
    grew = any(peaks[r] > before[r] * 1.10 + 10 for r in peaks if r in before)
    table.add(
        "6", "memory", "peak RSS of each role (all its processes) during rows 1-4",
        "reported; no growth across two consecutive runs",
        "; ".join(parts) + ("" if before else " (first run: nothing to compare)"),
        None if not before else not grew,
    )  # fmt: skip
