"""Fault test: the websocket server restarts in the middle of a quiz (`make test-slow`).

The process layout of `make run`: gunicorn serves HTTP (pages and the API), daphne serves the
websockets, both on the test database and the test Redis. daphne is killed with SIGKILL while
a real browser page and websocket clients watch the leaderboard; players keep answering over
HTTP meanwhile, then daphne comes back on the same port.
"""

from __future__ import annotations

import contextlib
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
from quizzes.models import Answer
from quizzes.tests.factories import quiz_with_questions
from quizzes.tests.test_browser import CHROMIUM_ARGS, chromium_path  # noqa: F401 - a fixture

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAYERS = 4
WATCHERS = 3


@dataclass
class Stack:
    base: str
    ws_url: str
    daphne: servers.AppProcess
    ws_port: int


@pytest.fixture
def stack(transactional_db) -> Iterator[Stack]:
    http_port, ws_port = servers.free_port(), servers.free_port()
    env = servers.app_env(
        DJANGO_SETTINGS_MODULE="config.tests.server_settings",
        DATABASE_URL=servers.current_database_url(),
        REDIS_URL=settings.REDIS_URL,
        WS_PORT=str(ws_port),  # pages and join responses point browsers at daphne
        THROTTLE_QUIZ_JOIN="1000/min",
        THROTTLE_QUIZ_ANSWER="1000/min",
    )
    with servers.app_processes() as make:
        make("gunicorn", servers.gunicorn_cmd(http_port), env=env).start(port=http_port)
        daphne = make("daphne", servers.daphne_cmd(ws_port), env=env)
        daphne.start(port=ws_port)
        yield Stack(f"http://127.0.0.1:{http_port}", f"ws://127.0.0.1:{ws_port}", daphne, ws_port)


class Player:
    """A participant playing over HTTP only, as any client may."""

    def __init__(self, stack: Stack, code: str, nickname: str) -> None:
        self.api = f"{stack.base}/api/quizzes/{code}"
        joined = requests.post(f"{self.api}/join", json={"nickname": nickname}, timeout=10)
        assert joined.status_code == 201, joined.text
        self.headers = {"Authorization": f"Bearer {joined.json()['token']}"}

    def answer_next(self) -> requests.Response:
        question = requests.get(f"{self.api}/next", headers=self.headers, timeout=10).json()
        n = question["text"].split()[1].rstrip("?")
        choice = next(c for c in question["choices"] if c["text"] == f"Q{n} choice 1")
        body = {"question_id": question["id"], "choice_id": choice["id"]}
        return requests.post(f"{self.api}/answers", json=body, headers=self.headers, timeout=10)


@dataclass
class Watcher:
    """A websocket client that reconnects by itself, as live.js does; keeps every message with
    the number of the connection it came on."""

    url: str
    origin: str
    messages: list[tuple[int, dict]] = field(default_factory=list)
    connections: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with connect(self.url, origin=self.origin, open_timeout=2) as socket:
                    self.connections += 1
                    self._receive(socket)
            except (OSError, ConnectionClosed, TimeoutError):
                self.stop.wait(0.2)

    def _receive(self, socket) -> None:
        while not self.stop.is_set():
            try:
                text = socket.recv(timeout=0.2)
            except TimeoutError:
                continue
            self.messages.append((self.connections, json.loads(text)))

    def last_board(self) -> tuple[int, list[dict]] | None:
        boards = [(n, m["entries"]) for n, m in self.messages if m["type"] == "leaderboard"]
        return boards[-1] if boards else None


def rest_board(stack: Stack, code: str) -> list[dict]:
    board = requests.get(f"{stack.base}/api/quizzes/{code}/leaderboard", timeout=10).json()
    return board["entries"]


def page_board(page) -> list[dict]:
    return page.evaluate(
        """() => [...document.querySelectorAll('#entries li:not(.empty)')].map(li => ({
            nickname: li.querySelector('.name').textContent,
            score: Number(li.querySelector('.score').textContent),
            answered: parseInt(li.querySelector('.answered').textContent),
        }))"""
    )


def summary(entries: list[dict]) -> list[tuple[str, int, int]]:
    return [(e["nickname"], e["score"], e["answered"]) for e in entries]


@contextlib.contextmanager
def watching(stack: Stack, code: str) -> Iterator[list[Watcher]]:
    """WATCHERS websocket clients on their own threads, stopped (and joined) on exit."""
    watchers = [Watcher(f"{stack.ws_url}/ws/quizzes/{code}/", stack.base) for _ in range(WATCHERS)]
    threads = [threading.Thread(target=w.run, daemon=True) for w in watchers]
    for thread in threads:
        thread.start()
    try:
        yield watchers
    finally:
        for watcher in watchers:
            watcher.stop.set()
        for thread in threads:
            if thread.is_alive():
                thread.join(timeout=10)


def open_pages(browser, stack: Stack, code: str):
    """The player page, joined and live (its first answer given), and the big-screen board."""
    from playwright.sync_api import expect

    page = browser.new_context().new_page()
    page.goto(f"{stack.base}/quizzes/{code}/")
    page.fill("#nickname", "browser")
    page.click("#join-form button[type=submit]")
    expect(page.locator("#live")).to_have_text("live")
    page.evaluate("window.__sameDocument = true")
    board = browser.new_context().new_page()  # the big screen, watching only
    board.goto(f"{stack.base}/quizzes/{code}/board")
    page.click("#q-choices button:has-text('Q1 choice 1')")
    return page, board


def play_while_daphne_is_down(stack: Stack, page, board, players: list[Player]) -> list[int]:
    """Kill daphne, keep playing over HTTP; the answers' statuses."""
    from playwright.sync_api import expect

    stack.daphne.kill()  # SIGKILL: every socket drops at once

    expect(page.locator("#live")).to_have_text("reconnecting…")
    expect(board.locator("#live")).to_have_text("reconnecting…")
    statuses = []
    for _ in range(2):  # the quiz goes on over HTTP while nobody is live
        statuses += [p.answer_next().status_code for p in players]
    expect(page.locator("#q-text")).to_have_text("Question 2?")
    page.click("#q-choices button:has-text('Q2 choice 1')")
    expect(page.locator("#q-feedback")).to_contain_text("Correct!")
    return statuses


def assert_caught_up(pages: tuple, watchers: list[Watcher], expected: list[tuple]) -> None:
    """Every page and watcher reconnected by itself and shows `expected`."""
    from playwright.sync_api import expect

    for shown in pages:
        expect(shown.locator("#live")).to_have_text("live", timeout=30_000)
        servers.wait_until(
            lambda p=shown: summary(page_board(p)) == expected,
            timeout=15,
            what="the page's fresh snapshot",
        )
    assert pages[0].evaluate("window.__sameDocument") is True  # no reload
    for watcher in watchers:
        servers.wait_until(
            lambda w=watcher: (b := w.last_board()) and b[0] >= 2 and summary(b[1]),
            timeout=15,
            what="a watcher's fresh snapshot",
        )
        assert summary(watcher.last_board()[1]) == expected


def test_websocket_server_restart_clients_and_page_reconnect_and_no_answer_is_lost(
    chromium_path,  # noqa: F811 - the fixture imported above; first: skips before any server
    stack,
):
    from playwright.sync_api import expect, sync_playwright

    quiz = quiz_with_questions(questions=4, time_limit=120)
    players = [Player(stack, quiz.code, f"player{i}") for i in range(PLAYERS)]
    with watching(stack, quiz.code) as watchers, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page, board = open_pages(browser, stack, quiz.code)
            statuses = [p.answer_next().status_code for p in players]
            expect(page.locator("#entries li")).to_have_count(PLAYERS + 1)
            expect(board.locator("#entries li")).to_have_count(PLAYERS + 1)

            statuses += play_while_daphne_is_down(stack, page, board, players)
            expected = summary(rest_board(stack, quiz.code))
            stack.daphne.start(port=stack.ws_port)  # same port, as a restarted container

            assert_caught_up((page, board), watchers, expected)
        finally:
            browser.close()

    assert statuses == [201] * (3 * PLAYERS)
    answers = Answer.objects.filter(participant__quiz=quiz).count()  # (no event loop here)
    assert answers == 3 * PLAYERS + 2  # the players' and the page's, none lost
    assert sorted(answered for _, _, answered in expected) == [2] + [3] * PLAYERS
    assert all(w.connections >= 2 for w in watchers)
