"""Fault test: a Redis Cluster master is killed during error ingestion (`make test-slow`).

A real gunicorn (2 workers) serves the API with DATA_REDIS_URL pointing at a loopback Redis
Cluster (3 masters, a replica each, config/tests/redis_cluster.py); client threads post
utterances with errors the whole time. One master gets SIGKILL; its replica takes over its
slots after the node timeout. Meanwhile every request still gets its 201: an increment that
cannot reach the dead master leaves its rows marked (every row is written marked with its
batch), as when a plain Redis is down, and real-time reads count those rows. Once the replica
serves the slots, the workers' cluster clients (which reload the slot map after a failure)
count in Redis again, and the flush folds the rows without evidence in: the aggregates equal
the rows, exactly.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import requests
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from config import redis as app_redis
from config.services import api_token_issue
from config.tests import redis_cluster, servers
from tutor import counters, services
from tutor.models import LearnerError
from tutor.tests.factories import ConversationFactory
from tutor.tests.helpers import aggregate_counts, realtime, redis_is_empty, row_counts
from tutor.tests.helpers import rows_by_subcategory as rows_of

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ERRORS = [
    {"errorCategory": "Grammar", "errorSubCategory": "Tense"},
    {"errorCategory": "Vocabulary", "errorSubCategory": "Wrong_Word"},
    {"errorCategory": "Pronunciation", "errorSubCategory": "Mispronounced_Word"},
]
SETTLE_SECONDS = 1.0  # rows whose increment failed are folded after this (production: 5 s)
LEARNERS = 8


@dataclass
class Writers:
    """Threads posting utterances round-robin over the conversations; every status is kept."""

    base: str
    token: str
    conversations: list[str]
    statuses: Counter[int] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)
    server: servers.AppProcess | None = None
    errors: list[str] = field(default_factory=list)

    def failures(self) -> str:
        """The workers' log lines about increments that could not reach Redis."""
        log = self.server.log_path.read_text() if self.server else ""
        return "\n".join(line for line in log.splitlines() if "redis increment failed" in line)

    def start(self, count: int = 3) -> None:
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(count)]
        for thread in self.threads:
            thread.start()

    def halt(self) -> None:
        """Stops posting and waits for the requests in flight (and their increments) to end."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def run(self, index: int) -> None:
        headers = {"Authorization": f"Token {self.token}"}
        n = index
        with requests.Session() as session:
            while not self.stop.is_set():
                body = {
                    "conversation_id": self.conversations[n % len(self.conversations)],
                    "content": f"utterance {uuid.uuid4()}",
                    "errors": ERRORS[: 1 + n % len(ERRORS)],
                }
                try:
                    url = f"{self.base}/api/utterances"
                    status = session.post(url, json=body, headers=headers, timeout=10).status_code
                except requests.RequestException as exc:  # a dropped connection is a result too
                    status = -1
                    self.errors.append(repr(exc))
                with self.lock:
                    self.statuses[status] += 1
                n += 1

    def total(self) -> int:
        with self.lock:
            return sum(self.statuses.values())

    def wait_for(self, more: int) -> None:
        target = self.total() + more
        servers.wait_until(lambda: self.total() >= target, timeout=90, what=f"{more} posts")


@pytest.fixture
def cluster(tax) -> Iterator[redis_cluster.RedisClusterServers]:
    """The cluster, with this process's data clients pointing at it too (flush, reads)."""
    with (
        redis_cluster.redis_cluster() as running,
        override_settings(DATA_REDIS_URL=running.url(), TUTOR_FOLD_SETTLE_SECONDS=SETTLE_SECONDS),
    ):
        _forget_clients()
        try:
            yield running
        finally:
            _forget_clients()


def _forget_clients() -> None:
    app_redis.forget_clients()
    counters.client.cache_clear()


@pytest.fixture
def writers(cluster) -> Iterator[Writers]:
    conversations = [str(ConversationFactory().id) for _ in range(LEARNERS)]
    token = api_token_issue(username="ingest", role="ingest").key
    env = servers.app_env(
        DATABASE_URL=servers.current_database_url(),  # the test database: our rows are committed
        REDIS_URL=settings.REDIS_URL,
        DATA_REDIS_URL=cluster.url(),
        REDIS_SOCKET_TIMEOUT="0.5",
    )
    with servers.app_processes() as make:
        port = servers.free_port()
        gunicorn = make("gunicorn", servers.gunicorn_cmd(port, workers=2), env=env)
        gunicorn.start(port=port)
        running = Writers(f"http://127.0.0.1:{port}", token, conversations, server=gunicorn)
        running.start()
        try:
            yield running
        finally:
            running.halt()


def _master_of_a_learner(cluster, learner_id: str) -> redis_cluster.ClusterNode:
    """The master serving this learner's keys: killing it interrupts that learner's counting."""
    node = counters.client().get_node_from_key(counters.pending_key(learner_id))
    (master,) = [n for n in cluster.masters() if n.port == node.port]
    return master


def _counted_in_redis(row: LearnerError) -> bool:
    """The row's request left its evidence in Redis: the workers count there again."""
    state = counters.learner_state_read(learner_id=str(row.learner_id))
    evidence = state.pending.evidence.union(*(t.evidence for t in state.snapshots.values()))
    return row.uncounted_batch is not None and row.uncounted_batch.hex in evidence


def _assert_realtime_equals_rows() -> None:
    for learner_id in LearnerError.objects.values_list("learner_id", flat=True).distinct():
        assert realtime(learner_id) == rows_of(learner_id), learner_id


def _uncounted_rows_settled() -> bool:
    cutoff = timezone.now() - timedelta(seconds=SETTLE_SECONDS)
    marked = LearnerError.objects.filter(uncounted_batch__isnull=False)
    return not marked.filter(created_at__gte=cutoff).exists()


def test_master_killed_during_ingestion_fails_over_and_counts_stay_exact(cluster, writers):
    writers.wait_for(40)
    services.error_counts_flush()  # part of the counts reach Postgres before the fault
    writers.wait_for(20)
    learner = str(LearnerError.objects.order_by("-id").first().learner_id)

    _master_of_a_learner(cluster, learner).kill()
    writers.wait_for(20)  # during the gap: increments for the dead master's slots fail
    cluster.wait_healthy()  # its replica serves the slots now
    _forget_clients()  # this process's clients; the workers' ones find the new master themselves
    writers.wait_for(60)
    writers.halt()
    newest = list(LearnerError.objects.order_by("-id")[:10])

    assert set(writers.statuses) == {201}, (writers.statuses, writers.errors)
    assert writers.failures()  # the gap: some increments could not reach the dead master
    assert all(_counted_in_redis(row) for row in newest), writers.failures()[-3000:]
    _assert_realtime_equals_rows()
    servers.wait_until(_uncounted_rows_settled, timeout=30, what="uncounted rows to settle")
    services.error_counts_flush()
    assert aggregate_counts() == row_counts()
    assert not LearnerError.objects.filter(uncounted_batch__isnull=False).exists()
    _assert_realtime_equals_rows()
    services.error_counts_flush()  # the next beat clears the fold's tombstones
    assert redis_is_empty()
