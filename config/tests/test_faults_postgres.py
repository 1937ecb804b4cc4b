"""Fault test: PostgreSQL stops under a running gunicorn, and comes back (`make test-slow`).

A private PostgreSQL (the test stops it with `pg_ctl stop -m immediate`: every backend killed at
once, crash recovery on the next start) and a real gunicorn against it; Redis is the test
database. Writers keep posting utterances with errors while Postgres dies.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import psutil
import psycopg
import pytest
import requests
from django.conf import settings

from config.tests import servers

pytestmark = pytest.mark.slow

ERRORS = [
    {"errorCategory": "Grammar", "errorSubCategory": "Tense"},
    {"errorCategory": "Vocabulary", "errorSubCategory": "Wrong_Word"},
    {"errorCategory": "Pronunciation", "errorSubCategory": "Mispronounced_Word"},
]
TOKENS_SCRIPT = (
    "from config.services import api_token_issue as t;"
    "print(t(username='ingest', role='ingest').key, t(username='analyst', role='analyst').key)"
)


@dataclass
class App:
    base: str
    pg: servers.PostgresServer
    db_url: str
    env: dict[str, str]
    gunicorn: servers.AppProcess
    ingest: dict[str, str]
    analyst: dict[str, str]

    def post(self, path: str, body: dict, session=requests) -> requests.Response:
        return session.post(self.base + path, json=body, headers=self.ingest, timeout=10)

    def get(self, path: str, params: dict | None = None) -> requests.Response:
        return requests.get(self.base + path, params=params, headers=self.analyst, timeout=10)

    def sql(self, query: str, params: list | None = None) -> list[tuple]:
        with psycopg.connect(self.db_url) as conn:
            return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    """Private PostgreSQL, migrated and loaded as `make run` does, behind gunicorn (2 workers)."""
    with servers.postgres_server() as pg, servers.app_processes() as make:
        pg.create_database("lingua")
        db_url = pg.url("lingua")
        env = servers.app_env(
            DATABASE_URL=db_url,
            REDIS_URL=settings.REDIS_URL,  # the test Redis database
            DB_CONNECT_TIMEOUT="2",
        )
        servers.manage("migrate", "--noinput", env=env)
        servers.manage(
            "loaddata", "fixtures/tutor_1_taxonomy.json", "fixtures/tutor_2_exercises.json", env=env
        )
        output = servers.manage("shell", "-c", TOKENS_SCRIPT, env=env)
        ingest_key, analyst_key = output.strip().splitlines()[-1].split()
        port = servers.free_port()
        gunicorn = make("gunicorn", servers.gunicorn_cmd(port, workers=2), env=env)
        gunicorn.start(port=port)
        yield App(
            base=f"http://127.0.0.1:{port}",
            pg=pg,
            db_url=db_url,
            env=env,
            gunicorn=gunicorn,
            ingest={"Authorization": f"Token {ingest_key}"},
            analyst={"Authorization": f"Token {analyst_key}"},
        )


@dataclass
class Writers:
    """Threads posting utterances with three errors each; every (content, status) is kept."""

    app: App
    conversation_id: str
    results: list[tuple[str, int]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with requests.Session() as session:
            while not self.stop.is_set():
                content = f"utterance {uuid.uuid4()}"
                body = {"conversation_id": self.conversation_id, "content": content}
                try:
                    status = self.app.post("/api/utterances", {**body, "errors": ERRORS}, session)
                    self.results.append((content, status.status_code))
                except requests.RequestException:  # a dropped connection is a result too
                    self.results.append((content, -1))

    def count(self, status: int) -> int:
        return sum(1 for _, s in list(self.results) if s == status)


def assert_503_database_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {
        "type": "server_error",
        "errors": [
            {
                "code": "database_unavailable",
                "detail": "The database is unavailable; nothing was changed. Retry shortly.",
                "attr": None,
            }
        ],
    }


def gunicorn_pids(app: App) -> set[int]:
    master = psutil.Process(app.gunicorn.proc.pid)
    return {master.pid, *(child.pid for child in master.children())}


WRITER_THREADS = 3


def run_writers_while_postgres_dies(app: App, conversation_id: str) -> tuple[Writers, set[int]]:
    """Writers post until Postgres is stopped under them and 503s arrive; returns the writers
    (with every result) and gunicorn's pids from before the crash."""
    writers = Writers(app, conversation_id)
    threads = [threading.Thread(target=writers.run) for _ in range(WRITER_THREADS)]
    for thread in threads:
        thread.start()
    try:
        servers.wait_until(lambda: writers.count(201) >= 30, timeout=30, what="30 writes")
        pids = gunicorn_pids(app)

        app.pg.stop("immediate")  # writers are mid-request
        servers.wait_until(lambda: writers.count(503) >= 20, timeout=30, what="503s")
    finally:
        writers.stop.set()
        for thread in threads:
            thread.join(timeout=30)
    return writers, pids


def assert_down(app: App, user_id: str, conversation_id: str, writers: Writers) -> None:
    """A write and reads get the error shape; readiness names postgres; no 500s ever."""
    for _ in range(4):  # more requests than workers: each worker answers
        body = {"conversation_id": conversation_id, "content": "lost", "errors": ERRORS}
        assert_503_database_unavailable(app.post("/api/utterances", body))
        assert_503_database_unavailable(app.get("/api/generate-exercise", {"user_id": user_id}))
        assert_503_database_unavailable(app.get(f"/api/users/{user_id}"))
        ready = requests.get(app.base + "/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["errors"][0]["code"] == "postgres_unavailable"
        assert ready.json()["checks"] == {"postgres": "down", "redis": "ok"}
    assert {status for _, status in writers.results} <= {201, 503}, writers.results


def assert_back(app: App, user_id: str, conversation_id: str, pids: set[int]) -> None:
    """The same gunicorn processes serve again, without any restart."""
    back = {"conversation_id": conversation_id, "content": "back", "errors": ERRORS}
    first = servers.wait_until(
        lambda: app.post("/api/utterances", back).status_code == 201,
        timeout=30,
        what="a write to succeed again",
    )
    assert first
    for _ in range(6):
        body = {"conversation_id": conversation_id, "content": "after", "errors": ERRORS}
        assert app.post("/api/utterances", body).status_code == 201
        assert app.get("/api/generate-exercise", {"user_id": user_id}).status_code == 200
        assert requests.get(app.base + "/readyz", timeout=10).status_code == 200
    assert gunicorn_pids(app) == pids


def assert_nothing_half_written(app: App, writers: Writers) -> None:
    """Every utterance has all its errors; every 201 is there."""
    per_utterance = app.sql(
        "SELECT u.content, count(e.id) FROM tutor_utterance u"
        " LEFT JOIN tutor_learnererror e ON e.utterance_id = u.id GROUP BY u.id, u.content"
    )
    assert {n for _, n in per_utterance} == {len(ERRORS)}
    stored = {content for content, _ in per_utterance}
    created = {content for content, status in writers.results if status == 201}
    assert created <= stored
    # A 503 promised "nothing was changed". Only a request whose COMMIT was cut off by the
    # crash itself could have landed anyway (its client cannot know): at most one per writer.
    failed = {content for content, status in writers.results if status != 201}
    assert "lost" not in stored
    assert len(failed & stored) <= WRITER_THREADS


def assert_counts_match_rows(app: App, user_id: str) -> None:
    """Real-time reads equal the rows, and so do the aggregates after a flush."""
    rows = dict(
        app.sql(
            "SELECT s.name, count(*) FROM tutor_learnererror e"
            " JOIN tutor_errorsubcategory s ON s.id = e.subcategory_id GROUP BY s.name"
        )
    )
    top = app.get("/api/generate-exercise", {"user_id": user_id, "top_n_errors": 50}).json()
    assert {e["errorSubCategory"]: e["errorFrequency"] for e in top["top_errors"]} == rows
    servers.manage(
        "shell", "-c", "from tutor import services; services.error_counts_flush()", env=app.env
    )
    (aggregated,) = app.sql("SELECT sum(count) FROM tutor_errorcount")[0]
    assert aggregated == sum(rows.values())


def test_postgres_down_gives_503s_writes_nothing_half_and_service_resumes_by_itself(app):
    user = app.post("/api/users", {"username": "ada", "email": "ada@example.com"}).json()
    conversation = app.post("/api/conversations", {"user_id": user["id"]}).json()

    writers, pids = run_writers_while_postgres_dies(app, conversation["id"])
    assert_down(app, user["id"], conversation["id"], writers)
    app.pg.start()

    assert_back(app, user["id"], conversation["id"], pids)
    assert_nothing_half_written(app, writers)
    assert_counts_match_rows(app, user["id"])
