"""Websockets across nodes (`make test-slow`): two daphne servers on their own ports, as two hosts
would run them, share one quiz through Redis pub/sub; gunicorn serves the answers.

Watchers are split between the two servers. Players answer one at a time, each answer waiting
until every watcher on both servers holds it, so every update is observed by every client (none
is coalesced away); then a burst of answers and the close, after which every client holds the
same final board as the REST leaderboard.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
from django.conf import settings
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from config.tests import servers
from quizzes import services
from quizzes.tests.factories import quiz_with_questions

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PLAYERS = 4
QUESTIONS = 5
WATCHERS_PER_SERVER = 8


@dataclass
class Nodes:
    base: str
    ws_urls: list[str]  # one per daphne server


@pytest.fixture
def nodes(transactional_db) -> Iterator[Nodes]:
    http_port = servers.free_port()
    ws_ports = [servers.free_port(), servers.free_port()]
    env = servers.app_env(
        DJANGO_SETTINGS_MODULE="config.tests.server_settings",
        DATABASE_URL=servers.current_database_url(),
        REDIS_URL=settings.REDIS_URL,
        THROTTLE_QUIZ_JOIN="1000/min",
        THROTTLE_QUIZ_ANSWER="1000/min",
        QUIZ_LIVE_BOARD_SIZE="100",
    )
    with servers.app_processes() as make:
        make("gunicorn", servers.gunicorn_cmd(http_port), env=env).start(port=http_port)
        for n, port in enumerate(ws_ports, start=1):
            make(f"daphne{n}", servers.daphne_cmd(port), env=env).start(port=port)
        yield Nodes(f"http://127.0.0.1:{http_port}", [f"ws://127.0.0.1:{p}" for p in ws_ports])


@dataclass
class Watcher:
    url: str
    origin: str
    server: int
    messages: list[dict] = field(default_factory=list)
    connected: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with connect(self.url, origin=self.origin, open_timeout=10) as socket:
            self.connected.set()
            while not self.stop.is_set():
                try:
                    self.messages.append(json.loads(socket.recv(timeout=0.2)))
                except TimeoutError:
                    continue
                except ConnectionClosed:
                    return

    def answered(self) -> list[int]:
        """Total answers on each board this client received, in order of arrival."""
        return [
            sum(e["answered"] for e in m["entries"])
            for m in list(self.messages)
            if m["type"] in ("leaderboard", "quiz_closed")
        ]


class Player:
    def __init__(self, nodes: Nodes, code: str, nickname: str) -> None:
        self.api = f"{nodes.base}/api/quizzes/{code}"
        joined = requests.post(f"{self.api}/join", json={"nickname": nickname}, timeout=10)
        assert joined.status_code == 201, joined.text
        self.headers = {"Authorization": f"Bearer {joined.json()['token']}"}

    def answer_next(self) -> None:
        question = requests.get(f"{self.api}/next", headers=self.headers, timeout=10).json()
        body = {"question_id": question["id"], "choice_id": question["choices"][1]["id"]}
        response = requests.post(f"{self.api}/answers", json=body, headers=self.headers, timeout=10)
        assert response.status_code == 201, response.text


def _all_hold(watchers: list[Watcher], total: int) -> bool:
    return all((w.answered() or [0])[-1] >= total for w in watchers)


def _entries(board: list[dict]) -> list[tuple[str, int, int]]:
    return [(e["nickname"], e["score"], e["answered"]) for e in board]


def test_two_websocket_servers_every_client_gets_every_update_and_the_final_board(nodes):
    quiz = quiz_with_questions(questions=QUESTIONS, time_limit=120)
    players = [Player(nodes, quiz.code, f"p{i}") for i in range(PLAYERS)]
    watchers = [
        Watcher(f"{url}/ws/quizzes/{quiz.code}/", nodes.base, server=n)
        for n, url in enumerate(nodes.ws_urls)
        for _ in range(WATCHERS_PER_SERVER)
    ]
    threads = [threading.Thread(target=w.run, daemon=True) for w in watchers]
    for thread in threads:
        thread.start()
    try:
        for w in watchers:
            assert w.connected.wait(15), f"watcher on server {w.server} did not connect"
        # Each holds its snapshot (no answers yet) before the first answer.
        servers.wait_until(
            lambda: all(w.answered() for w in watchers), timeout=15, what="every snapshot"
        )

        # One answer at a time: each is a distinct board that every client must receive.
        stepped = PLAYERS * 2
        for k in range(1, stepped + 1):
            players[(k - 1) % PLAYERS].answer_next()
            servers.wait_until(lambda k=k: _all_hold(watchers, k), timeout=15, what=f"answer {k}")
        # Then a burst from every player at once (coalesced), and the close.
        burst = [
            threading.Thread(target=lambda p=p: [p.answer_next() for _ in range(QUESTIONS - 2)])
            for p in players
        ]
        for thread in burst:
            thread.start()
        for thread in burst:
            thread.join(timeout=60)
        services.quiz_status_set(code=quiz.code, status="closed")
        servers.wait_until(
            lambda: all(w.messages and w.messages[-1]["type"] == "quiz_closed" for w in watchers),
            timeout=15,
            what="quiz_closed on every client",
        )
    finally:
        for w in watchers:
            w.stop.set()
        for thread in threads:
            thread.join(timeout=10)

    final = requests.get(f"{nodes.base}/api/quizzes/{quiz.code}/leaderboard", timeout=10).json()
    assert sum(e["answered"] for e in final["entries"]) == PLAYERS * QUESTIONS
    for w in watchers:
        seen = w.answered()
        assert set(range(stepped + 1)) <= set(seen), (w.server, seen)  # every update
        assert seen == sorted(seen), (w.server, seen)  # never an older board after a newer one
        assert _entries(w.messages[-1]["entries"]) == _entries(final["entries"]), w.server
    assert {w.server for w in watchers} == {0, 1}
