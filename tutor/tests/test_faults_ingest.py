"""Fault test (`make test-slow`): a gunicorn worker is SIGKILLed after its commit, before its
Redis call, against real servers (gunicorn, the test PostgreSQL, a private redis-server).

To stop the worker at exactly that point, its Redis traffic goes through a small TCP proxy that
the test can make swallow what the worker sends: the increment then never reaches Redis, as if
the process had died just before the call. The worker is killed while it waits for the reply.
Its rows are committed and marked with their batch id; nothing else knows about them. Real-time
reads must count them at once, the flush (what beat runs) must fold them exactly once, and a
client retry of the lost request must be a 200 that counts nothing more.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import uuid
from collections.abc import Iterator

import psutil
import pytest
import requests
from django.test import override_settings

from config import redis as app_redis
from config.services import api_token_issue
from config.tests import servers
from tutor import counters, services
from tutor.models import LearnerError, Utterance
from tutor.tests.factories import ConversationFactory
from tutor.tests.helpers import aggregate_counts, realtime, row_counts, rows_by_subcategory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SETTLE_SECONDS = 1.0
ERRORS = [
    {"errorCategory": "Grammar", "errorSubCategory": "Tense"},
    {"errorCategory": "Vocabulary", "errorSubCategory": "Wrong_Word"},
]


class SwallowingProxy:
    """Forwards TCP to a port; while `swallow` is set, bytes from clients are dropped."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.swallow = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for src, dst, from_client in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(
                    target=self._pump, args=(src, dst, from_client), daemon=True
                ).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if not (from_client and self.swallow.is_set()):
                    dst.sendall(data)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def redis_behind_proxy() -> Iterator[tuple[servers.RedisServer, SwallowingProxy]]:
    with (
        servers.redis_server() as server,
        override_settings(REDIS_URL=server.url(), TUTOR_FOLD_SETTLE_SECONDS=SETTLE_SECONDS),
    ):
        app_redis.client.cache_clear()
        counters.client.cache_clear()
        proxy = SwallowingProxy(int(server.url().rsplit(":", 1)[1].split("/")[0]))
        try:
            yield server, proxy
        finally:
            proxy.close()
            app_redis.client.cache_clear()
            counters.client.cache_clear()


def _gunicorn(make, proxy: SwallowingProxy) -> tuple[servers.AppProcess, str]:
    env = servers.app_env(
        DATABASE_URL=servers.current_database_url(),  # the test database: our rows are committed
        REDIS_URL=f"redis://127.0.0.1:{proxy.port}/0",
        REDIS_SOCKET_TIMEOUT="60",  # the worker waits on the swallowed call until it is killed
    )
    port = servers.free_port()
    gunicorn = make("gunicorn", servers.gunicorn_cmd(port, workers=1), env=env)
    gunicorn.start(port=port)
    return gunicorn, f"http://127.0.0.1:{port}"


def _kill_worker(gunicorn: servers.AppProcess) -> None:
    assert gunicorn.proc is not None
    (worker,) = psutil.Process(gunicorn.proc.pid).children()
    os.kill(worker.pid, signal.SIGKILL)  # the master starts a new worker


def test_worker_killed_between_commit_and_redis_call_counts_exactly_once(
    redis_behind_proxy, tax, sub
):
    _, proxy = redis_behind_proxy
    conversation = ConversationFactory()
    auth = {"Authorization": f"Token {api_token_issue(username='i', role='ingest').key}"}
    body = {"id": str(uuid.uuid4()), "conversation_id": str(conversation.id), "content": "x",
            "errors": ERRORS}  # fmt: skip
    with servers.app_processes() as make:
        gunicorn, base = _gunicorn(make, proxy)
        warm = {**body, "id": str(uuid.uuid4())}  # fills caches, leases throttle permits
        assert requests.post(f"{base}/api/utterances", json=warm, headers=auth).status_code == 201
        proxy.swallow.set()
        lost: list[BaseException] = []
        thread = threading.Thread(target=_post_and_keep_error, args=(base, body, auth, lost))
        thread.start()
        servers.wait_until(
            lambda: Utterance.objects.filter(pk=body["id"]).exists(), timeout=30, what="commit"
        )
        _kill_worker(gunicorn)
        thread.join(timeout=30)
        proxy.swallow.clear()
        assert lost, "the client should have lost its response"

        assert LearnerError.objects.filter(utterance_id=body["id"]).count() == 2
        assert realtime(conversation.learner_id) == rows_by_subcategory(conversation.learner_id)
        retry = _retry_until_served(base, body, auth)
        assert retry.status_code == 200  # stored once; the retry counts nothing more

    servers.wait_until(_settled, timeout=30, what="the settle time")
    services.error_counts_flush()  # what beat runs

    assert aggregate_counts() == row_counts()
    assert sum(aggregate_counts().values()) == 4
    assert not LearnerError.objects.filter(uncounted_batch__isnull=False).exists()
    assert realtime(conversation.learner_id) == {
        sub("Grammar", "Tense"): 2,
        sub("Vocabulary", "Wrong_Word"): 2,
    }


def _post_and_keep_error(base: str, body: dict, auth: dict, out: list) -> None:
    try:
        requests.post(f"{base}/api/utterances", json=body, headers=auth, timeout=120)
    except requests.RequestException as exc:
        out.append(exc)


def _retry_until_served(base: str, body: dict, auth: dict) -> requests.Response:
    def attempt() -> requests.Response | None:
        with contextlib.suppress(requests.ConnectionError):
            return requests.post(f"{base}/api/utterances", json=body, headers=auth, timeout=30)
        return None

    return servers.wait_until(attempt, timeout=60, what="the new worker")


def _settled() -> bool:
    import time

    from tutor import ids

    newest = LearnerError.objects.filter(uncounted_batch__isnull=False).order_by("-uncounted_batch")
    batch = newest.values_list("uncounted_batch", flat=True).first()
    floor = ids.time_floor(int((time.time() - SETTLE_SECONDS) * 1000))
    return batch is None or batch < floor
