"""Row 4: 1,000 websocket watchers on one quiz while 100 participants answer at 50 answers/s."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import psutil

from bench.http import Client
from devstack import services

QUESTIONS = 12


@dataclass
class LiveResult:
    answers: int
    clients: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    missed_final: int
    answer_p99_ms: float
    watcher_cpu_share: float = 0.0  # of one core, while answers flowed: is the client the limit?


def _quiz_create(client: Client, staff: str) -> str:
    questions = [
        {
            "text": f"Which word means 'very tired'? ({n})",
            "time_limit": 600,
            "choices": [
                {"text": "exhausted", "correct": True},
                {"text": "excited", "correct": False},
                {"text": "exhaustive", "correct": False},
            ],
        }
        for n in range(QUESTIONS)
    ]
    body = {"title": "Bench quiz", "description": "make bench", "questions": questions}
    code = client.ok("POST", "/api/quizzes", body, auth=staff)["code"]
    client.ok("PATCH", f"/api/quizzes/{code}", {"status": "open"}, auth=staff)
    return code


def _answer_loop(base: str, code: str, players: list[dict], rate: float, out: list) -> None:
    """Paced: answer i starts at i / rate seconds; records (nickname, answered, time of 201)."""
    client = Client(base)
    started = time.monotonic()
    for i, player in enumerate(players):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        auth = f"Bearer {player['token']}"
        question = client.ok("GET", f"/api/quizzes/{code}/next", auth=auth)
        before = time.monotonic()
        result = client.ok(
            "POST", f"/api/quizzes/{code}/answers",
            {"question_id": question["id"], "choice_id": question["choices"][0]["id"]}, auth=auth,
        )  # fmt: skip
        out.append((player["nickname"], result["answered"], time.time(), time.monotonic() - before))


def quiz_with_players(base: str, staff: str, participants: int) -> tuple[str, list[dict]]:
    """Each participant joins from its own loopback address, as real players join from their
    own devices: the shipped per-IP join limit then applies as in production."""
    client = Client(base)
    code = _quiz_create(client, staff)
    players = []
    for n in range(participants):
        joiner = Client(base, source=f"127.0.{1 + n // 250}.{1 + n % 250}")
        joined = joiner.ok("POST", f"/api/quizzes/{code}/join", {"nickname": f"p{n:03d}"})
        players.append({"nickname": f"p{n:03d}", "token": joined["token"]})
    return code, players


def watchers_start(ws_url: str, clients: int, out_file, origin: str) -> subprocess.Popen:
    """A bench.live process holding `clients` sockets; returns once all are connected."""
    watcher = subprocess.Popen(
        [sys.executable, "-m", "bench.live", ws_url, str(clients), str(out_file), origin],
        cwd=services.ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    if watcher.stdout.readline().strip() != "READY":
        raise RuntimeError("websocket watchers did not connect")
    return watcher


def answers_drive(base: str, code: str, players: list[dict], *, rate: float, answers: int) -> list:
    """Four paced drivers, each a quarter of the rate: one slow response never stalls the rest.
    Returns once every answer is in and the last coalesced broadcast has had time to land."""
    schedule = [players[i % len(players)] for i in range(answers)]
    records: list = []
    threads = [
        threading.Thread(target=_answer_loop, args=(base, code, schedule[k::4], rate / 4, records))
        for k in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(2)  # let the last coalesced broadcast land
    return records


def run(base: str, ws_base: str, staff: str, *, watchers: int = 1000, participants: int = 100,
        rate: float = 50.0, answers: int = 1000, log=print) -> LiveResult:  # fmt: skip
    code, players = quiz_with_players(base, staff, participants)
    out_file = services.ROOT / "bench" / ".work" / "live.json"
    watcher = watchers_start(f"{ws_base}/ws/quizzes/{code}/", watchers, out_file, base)
    log(f"  {watchers} websocket clients connected to quiz {code}")
    watcher_cpu = psutil.Process(watcher.pid).cpu_times()
    started = time.monotonic()
    records = answers_drive(base, code, players, rate=rate, answers=answers)
    after = psutil.Process(watcher.pid).cpu_times()
    share = (after.user + after.system - watcher_cpu.user - watcher_cpu.system) / (
        time.monotonic() - started
    )
    watcher.stdin.write("STOP\n")
    watcher.stdin.flush()
    watcher.wait(timeout=120)
    result = analyse(json.loads(out_file.read_text()), records, answers)
    result.watcher_cpu_share = share
    return result


def analyse(data: dict, records: list, total_answers: int) -> LiveResult:
    boards = data["boards"]
    latencies: list[float] = []
    missed_final = 0
    for log in data["clients"]:
        # first time this client held answered >= k for each nickname
        first_seen: dict[str, list[float]] = {}
        for t, idx in log:
            for nick, answered in boards[idx]["answered"].items():
                seen = first_seen.setdefault(nick, [])
                while len(seen) < answered:
                    seen.append(t)
        for nick, answered, t201, _ in records:
            seen = first_seen.get(nick, [])
            latencies.append((seen[answered - 1] - t201) if len(seen) >= answered else float("inf"))
        final = boards[log[-1][1]]["answered"] if log else {}
        if sum(final.values()) != total_answers:
            missed_final += 1
    latencies.sort()
    answer_times = sorted(r[3] for r in records)

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    return LiveResult(
        answers=len(records),
        clients=len(data["clients"]),
        p50_ms=max(0.0, pct(latencies, 0.5)),
        p99_ms=max(0.0, pct(latencies, 0.99)),
        max_ms=latencies[-1] * 1000,
        missed_final=missed_final,
        answer_p99_ms=pct(answer_times, 0.99),
    )
