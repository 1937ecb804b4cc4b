"""Hosted game row: 1,000 joined players on websockets while the host plays three questions.

For each host move the clock starts when the host's response has arrived (the state is published
before the response is sent, so a player may even hold it earlier: that counts as 0 ms) and stops
when a player's socket has the state of that version. Every player must receive every state.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from bench.http import Client
from devstack import services

QUESTIONS = 3


@dataclass
class HostedResult:
    players: int
    join_seconds: float
    question_ms: tuple[float, float, float]  # p50, p99, max over players and questions
    reveal_ms: tuple[float, float, float]
    result_ms: tuple[float, float, float]  # host's reveal -> the player holds their own result
    missed: int  # (player, state) pairs never received
    you_messages: int  # personal results received (one per player per revealed state)


def _quiz_create(client: Client, staff: str) -> str:
    words = ["exhausted", "excited", "exhaustive", "extended"]
    choices = [{"text": w, "correct": i == 0} for i, w in enumerate(words)]
    questions = [
        {"text": f"Which word means 'very tired'? ({n})", "time_limit": 120, "choices": choices}
        for n in range(QUESTIONS)
    ]
    body = {"title": "Bench hosted game", "mode": "hosted", "questions": questions,
            "close_when_all_answered": False, "auto_reveal": False}  # fmt: skip
    code = client.ok("POST", "/api/quizzes", body, auth=staff)["code"]
    client.ok("PATCH", f"/api/quizzes/{code}", {"status": "open"}, auth=staff)
    return code


def _join(client: Client, code: str, players: int) -> list[str]:
    return [
        client.ok("POST", f"/api/quizzes/{code}/join", {"nickname": f"player{n:04d}"})["token"]
        for n in range(players)
    ]


def _answers(base: str, code: str, tokens: list[str], state: dict) -> None:
    """Some players answer (the rest stay silent, so the host's reveal closes the question)."""
    question = state["question"]
    body = {"question_id": question["id"], "choice_id": question["choices"][0]["id"]}

    def loop(chunk: list[str]) -> None:
        client = Client(base)
        for token in chunk:
            client.ok("POST", f"/api/quizzes/{code}/game/answers", body, auth=f"Bearer {token}")

    threads = [threading.Thread(target=loop, args=(tokens[k::4],)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _play(base: str, code: str, staff: str, tokens: list[str], answering: int) -> list[tuple]:
    """The host's moves; returns (kind, version, time the response arrived) per move."""
    host = Client(base, auth=staff)
    moves: list[tuple] = []

    def move(action: str, kind: str) -> dict:
        state = host.ok("POST", f"/api/quizzes/{code}/game/{action}")
        moves.append((kind, state["version"], time.time()))
        time.sleep(1.0)  # a screen's worth of time between moves
        return state

    state = move("start", "question")
    for n in range(QUESTIONS):
        _answers(base, code, tokens[:answering], state)
        move("reveal", "reveal")
        move("next", "leaderboard")
        state = move("next", "question" if n + 1 < QUESTIONS else "finished")
    return moves


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("inf")


def _analyse(data: dict, moves: list[tuple]) -> tuple[dict, int]:
    latencies: dict[str, list[float]] = {"question": [], "reveal": [], "result": []}
    missed = 0
    for log, you_log in zip(data["clients"], data["you_log"], strict=True):
        first: dict[int, float] = {}
        for t, version, _ in log:
            first.setdefault(version, t)
        you_first: dict[int, float] = {}
        for t, version in you_log:
            you_first.setdefault(version, t)
        for kind, version, responded in moves:
            if version not in first:
                missed += 1
            elif kind in latencies:
                latencies[kind].append(max(0.0, first[version] - responded))
            if kind == "reveal":  # a player who answered nothing still gets their (empty) result
                latencies["result"].append(max(0.0, you_first.get(version, 1e9) - responded))
    return {k: sorted(v) for k, v in latencies.items()}, missed


def run(base: str, ws_base: str, staff: str, *, players: int = 1000, answering: int = 100,
        log=print) -> HostedResult:  # fmt: skip
    client = Client(base)
    code = _quiz_create(client, staff)
    started = time.monotonic()
    tokens = _join(client, code, players)
    join_seconds = time.monotonic() - started
    log(f"  {players} players joined quiz {code} in {join_seconds:.1f} s")
    work = services.ROOT / "bench" / ".work"
    tokens_file, out_file = work / "hosted-tokens.json", work / "hosted.json"
    tokens_file.write_text(json.dumps(tokens))
    clients = subprocess.Popen(
        [sys.executable, "-m", "bench.players", f"{ws_base}/ws/quizzes/{code}/", str(tokens_file),
         str(out_file), base],
        cwd=services.ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    if clients.stdout.readline().strip() != "READY":
        raise RuntimeError("hosted players did not connect")
    log(f"  {players} player websockets connected")
    time.sleep(1.0)  # let the hellos settle
    moves = _play(base, code, staff, tokens, answering)
    time.sleep(2.0)
    clients.stdin.write("STOP\n")
    clients.stdin.flush()
    clients.wait(timeout=120)
    data = json.loads(out_file.read_text())
    latencies, missed = _analyse(data, moves)

    def triple(values: list[float]) -> tuple[float, float, float]:
        return (
            _pct(values, 0.5),
            _pct(values, 0.99),
            values[-1] * 1000 if values else float("inf"),
        )

    return HostedResult(
        players=len(data["clients"]), join_seconds=join_seconds,
        question_ms=triple(latencies["question"]), reveal_ms=triple(latencies["reveal"]),
        result_ms=triple(latencies["result"]),
        missed=missed, you_messages=sum(data["you"]),
    )  # fmt: skip


def row(table, system, token: str, log) -> None:
    log("row 10: hosted game, 1,000 players on websockets, 3 questions")
    result = run(f"http://127.0.0.1:{system.port}", f"ws://127.0.0.1:{system.ws_port}",
                 f"Token {token}", log=log)  # fmt: skip
    log(f"  {result}")
    q, r = result.question_ms, result.reveal_ms
    table.add(
        "10", "hosted game", f"{result.players:,} joined players on websockets (one address), "
        f"host plays {QUESTIONS} questions, 100 answers each",
        "host's `next` → every player holds the question p99 ≤ 200 ms; same for `reveal`; "
        "no player misses a state",
        f"question p50 {q[0]:.0f} / p99 {q[1]:.0f} / max {q[2]:.0f} ms; reveal p50 {r[0]:.0f} / "
        f"p99 {r[1]:.0f} / max {r[2]:.0f} ms; {result.missed} missed states; "
        f"{result.players:,} joins in {result.join_seconds:.1f} s",
        q[1] <= 200 and r[1] <= 200 and result.missed == 0,
    )  # fmt: skip
