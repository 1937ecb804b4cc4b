"""Row 7: websockets across nodes. Two daphne processes on their own ports, as two hosts would run
them (no shared socket: each holds only its own clients), 1,000 watchers on each, one quiz, 100
participants answering at 50 answers/s through gunicorn. Reported per process: its clients'
delivery latency (answer 201 -> the client holds it), missed final states, and the CPU the
daphne process used while answers flowed, also per websocket frame it sent.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from dataclasses import dataclass

import psutil

from bench import cpu, quiz, report
from bench.system import WORK, System, wait_http
from devstack import services

WATCHERS_PER_PROCESS = 1000
PROCESSES = 2


@dataclass
class NodeResult:
    name: str
    live: quiz.LiveResult
    frames: int  # websocket frames the clients of this process received
    cpu_seconds: float
    seconds: float

    @property
    def cpu_share(self) -> float:
        return self.cpu_seconds / self.seconds

    @property
    def us_per_frame(self) -> float:
        return self.cpu_seconds / max(1, self.frames) * 1e6

    def __str__(self) -> str:
        live = self.live
        return (
            f"{self.name}: {live.clients:,} clients, p50 {live.p50_ms:.0f} ms, p99 "
            f"{live.p99_ms:.0f} ms, max {live.max_ms:.0f} ms, {live.missed_final} missed the "
            f"final state, daphne {self.cpu_share:.2f} of a core, {self.us_per_frame:.0f} µs "
            f"CPU per frame ({self.frames:,} frames)"
        )


def _daphnes(system: System) -> list[tuple[str, int, subprocess.Popen]]:
    started = []
    for n in range(PROCESSES):
        port = system.ws_port + 20 + n
        log = open(WORK / f"ws-node{n + 1}.log", "w")  # noqa: SIM115 - lives with the process
        cmd = [services.venv_bin("daphne"), "-b", "127.0.0.1", "-p", str(port),
               "--proxy-headers", "config.asgi:application"]  # fmt: skip
        proc = subprocess.Popen(
            cmd, cwd=services.ROOT, env=system.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        started.append((f"node{n + 1}", port, proc))
    for _, port, _ in started:
        wait_http(f"http://127.0.0.1:{port}/healthz")
    return started


def _cpu(proc: subprocess.Popen) -> float:
    times = psutil.Process(proc.pid).cpu_times()
    return times.user + times.system


def run(system: System, staff: str, *, participants: int = 100, rate: float = 50.0,
        answers: int = 1000, log=print) -> tuple[list[NodeResult], float, cpu.Usage]:  # fmt: skip
    base = f"http://127.0.0.1:{system.port}"
    daphnes = _daphnes(system)
    try:
        code, players = quiz.quiz_with_players(base, staff, participants)
        watchers = []
        for name, port, _ in daphnes:
            out = WORK / f"live-{name}.json"
            url = f"ws://127.0.0.1:{port}/ws/quizzes/{code}/"
            watchers.append((out, quiz.watchers_start(url, WATCHERS_PER_PROCESS, out, base)))
            log(f"  {WATCHERS_PER_PROCESS} websocket clients connected to {name} (port {port})")
        before = [_cpu(proc) for _, _, proc in daphnes]
        started = time.monotonic()
        with cpu.Meter(system) as usage:  # gunicorn, Postgres, Redis per answer
            records = quiz.answers_drive(base, code, players, rate=rate, answers=answers)
        seconds = time.monotonic() - started
        used = [_cpu(proc) - b for (_, _, proc), b in zip(daphnes, before, strict=True)]
        results = []
        for (out, watcher), (name, _, _), spent in zip(watchers, daphnes, used, strict=True):
            assert watcher.stdin is not None  # started with stdin=PIPE
            watcher.stdin.write("STOP\n")
            watcher.stdin.flush()
            watcher.wait(timeout=120)
            data = json.loads(out.read_text())
            frames = sum(len(client) for client in data["clients"])
            live = quiz.analyse(data, records, answers)
            results.append(NodeResult(name, live, frames, spent, seconds))
        answer_p99 = sorted(r[3] for r in records)[min(len(records) - 1, int(0.99 * len(records)))]
        return results, answer_p99 * 1000, usage
    finally:
        for _, _, proc in daphnes:
            proc.send_signal(signal.SIGTERM)
        for _, _, proc in daphnes:
            proc.wait(timeout=15)


def row(table: report.Table, system: System, staff: str, log) -> None:
    total = WATCHERS_PER_PROCESS * PROCESSES
    log(f"row 7: {total:,} websocket clients over {PROCESSES} daphne processes on their own ports")
    results, answer_p99, usage = run(system, f"Token {staff}", log=log)
    answers = results[0].live.answers
    cost = usage.describe(answers, "answer (`next` + `answers`)")
    for result in results:
        log(f"  {result}")
    log(f"  {cost}")
    table.add(
        "7", "websockets across nodes", f"{total:,} websocket clients on one quiz split over "
        f"{PROCESSES} daphne processes on separate ports (as on two hosts), 100 participants, "
        f"{results[0].live.answers:,} answers at 50/s",
        "per process: p99 answer 201 → every client holds it ≤ 250 ms; no client misses the "
        "final state",
        "; ".join(str(r) for r in results) + f"; answer POST p99 {answer_p99:.0f} ms; {cost}",
        all(r.live.p99_ms <= 250 and r.live.missed_final == 0 for r in results),
    )  # fmt: skip
