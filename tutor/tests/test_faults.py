"""Fault tests: Redis stops during error ingestion; the Celery worker dies mid-flush
(`make test-slow`).

The app runs in-process against a private redis-server that the test stops and starts, with
ingestion going on from client threads the whole time; Postgres is the test database.

Redis failure modes, and what makes the counts converge exactly once:
- Every error row is written marked with its request's batch id; the flush clears the marks of
  batches whose Redis increment it applies. A mark that outlives the settle time means the
  increment never landed, and the flush folds the row from Postgres.
- Redis down (stopped, crashed, unreachable): requests still get 201 (the errors are committed
  in Postgres first); their rows stay marked, real-time reads count those rows, and the
  next flush folds them into the aggregates.
- Redis killed in the middle of a request: the increment may or may not have executed. The
  batch id written with the increment tells the fold which (evidence -> already counted).
- Redis restarted with its data (SHUTDOWN NOSAVE or SIGKILL, then start): production runs
  Redis with the append-only file (docker-compose.yml: `--appendonly yes --appendfsync
  everysec`) and so does the private server here. Redis writes the AOF before it replies, so
  every increment a client saw acknowledged, and every moved-aside snapshot, survives a crash
  of the process. While Redis is down, its pending counters are unreadable: real-time reads
  miss them until it is back (they are not lost).
- Redis restarted without its data (data files lost, a host crash within the AOF's last second,
  a replica promoted before it caught up): the pending counters that were never flushed are
  gone, but their rows are still marked (no flush applied them), so real-time reads count
  them from Postgres at once and the next flush folds them: exact, with no manual command.
  (A web worker killed between its commit and its Redis call: test_faults_ingest.py.)
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import connections
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from config import redis as app_redis
from config.celery import app as celery_app
from config.services import api_token_issue
from config.tests import servers
from tutor import counters, flush, services, taxonomy
from tutor.models import FlushLedger, Learner, LearnerError
from tutor.tests.factories import ConversationFactory
from tutor.tests.helpers import (
    aggregate_counts,
    realtime,
    redis_is_empty,
    row_counts,
    rows_by_subcategory,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LABELS = [
    {"errorCategory": "Grammar", "errorSubCategory": "Tense"},
    {"errorCategory": "Grammar", "errorSubCategory": "Preposition"},
    {"errorCategory": "Vocabulary", "errorSubCategory": "Wrong_Word"},
    {"errorCategory": "Pronunciation", "errorSubCategory": "Mispronounced_Word"},
]
SETTLE_SECONDS = 1.0  # rows whose increment failed are folded after this (production: 5 s)


def _point_app_at(url: str):
    return override_settings(
        REDIS_URL=url,
        REDIS_SOCKET_TIMEOUT=0.5,
        TUTOR_FOLD_SETTLE_SECONDS=SETTLE_SECONDS,
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "cache",
            }
        },
    )


def _forget_clients() -> None:
    app_redis.client.cache_clear()
    counters.client.cache_clear()


@pytest.fixture
def private_redis() -> Iterator[servers.RedisServer]:
    """A private redis-server with the AOF on, as in production; the app's Redis URL, cache and
    clients point at it for the test."""
    with servers.redis_server() as server, _point_app_at(server.url()):
        _forget_clients()
        try:
            yield server
        finally:
            _forget_clients()


@pytest.fixture
def tutor_world(private_redis, tax):
    conversations = [ConversationFactory() for _ in range(4)]
    ingest, analyst = APIClient(), APIClient()
    ingest.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(username='i', role='ingest')}")
    analyst.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(username='a', role='analyst')}")
    return conversations, ingest, analyst


class Ingesters:
    """Client threads posting utterances with errors until stopped; every status is kept."""

    def __init__(self, conversations, client: APIClient, threads: int = 3) -> None:
        self.conversations = conversations
        self.client_credentials = client._credentials
        self.statuses: Counter[int] = Counter()
        self.stop = threading.Event()
        self.go = threading.Event()
        self.go.set()
        self.busy = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, index: int) -> None:
        client = APIClient()
        client.credentials(**self.client_credentials)
        n = 0
        try:
            while not self.stop.is_set():
                if not self.go.wait(timeout=0.05):
                    continue
                with self.lock:
                    self.busy += 1
                conversation = self.conversations[(index + n) % len(self.conversations)]
                body = {
                    "conversation_id": str(conversation.id),
                    "content": f"thread {index} utterance {n}",
                    "errors": LABELS[: 1 + (index + n) % len(LABELS)],
                }
                status = client.post("/api/utterances", body, format="json").status_code
                with self.lock:
                    self.statuses[status] += 1
                    self.busy -= 1
                n += 1
                time.sleep(0.005)
        finally:
            connections.close_all()

    def total(self) -> int:
        with self.lock:
            return sum(self.statuses.values())

    def wait_for(self, more: int) -> None:
        target = self.total() + more
        servers.wait_until(lambda: self.total() >= target, timeout=60, what=f"{more} ingestions")

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No request in flight meanwhile: reads then see a quiet system."""
        self.go.clear()
        try:
            servers.wait_until(lambda: self.busy == 0, timeout=30, what="requests to finish")
            yield
        finally:
            self.go.set()

    def __enter__(self) -> Ingesters:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def realtime_by_label(analyst: APIClient, learner_id) -> dict[tuple[str, str], int]:
    response = analyst.get(
        "/api/generate-exercise", {"user_id": str(learner_id), "top_n_errors": 50}
    )
    assert response.status_code == 200, response.content
    return {
        (e["errorCategory"], e["errorSubCategory"]): e["errorFrequency"]
        for e in response.json()["top_errors"]
    }


def rows_by_label(learner_id) -> dict[tuple[str, str], int]:
    by_id = taxonomy.taxonomy_get().by_id
    return {
        (by_id[sid].category, by_id[sid].name): n
        for sid, n in rows_by_subcategory(learner_id).items()
    }


def realtime_and_rows(analyst: APIClient, learner_id) -> tuple[Counter, Counter]:
    return Counter(realtime_by_label(analyst, learner_id)), Counter(rows_by_label(learner_id))


def assert_realtime_equals_rows(conversations, analyst) -> None:
    for c in conversations:
        assert realtime_by_label(analyst, c.learner_id) == rows_by_label(c.learner_id)


def _uncounted_rows_settled() -> bool:
    cutoff = timezone.now() - timedelta(seconds=SETTLE_SECONDS)
    marked = LearnerError.objects.filter(uncounted_batch__isnull=False)
    return not marked.filter(created_at__gte=cutoff).exists()


def flush_after_settle() -> flush.FlushResult:
    # The fold only takes rows older than the settle time: wait until every marked row is.
    servers.wait_until(_uncounted_rows_settled, timeout=30, what="uncounted rows to settle")
    return services.error_counts_flush()


def _redis_stopped_reads_count_new_rows(private_redis, ingesters, conversations, analyst) -> None:
    private_redis.shutdown_nosave()
    ingesters.wait_for(15)  # Redis down: these rows are marked uncounted
    with ingesters.paused():
        before = [realtime_and_rows(analyst, c.learner_id) for c in conversations]
    ingesters.wait_for(15)
    with ingesters.paused():
        after = [realtime_and_rows(analyst, c.learner_id) for c in conversations]
    for (realtime_0, rows_0), (realtime_1, rows_1) in zip(before, after, strict=True):
        # Errors made while Redis is down count at once (from their rows); the pending
        # counters Redis held when it stopped are unreadable until it is back.
        assert realtime_1 - realtime_0 == rows_1 - rows_0
    with pytest.raises(redis.ConnectionError):
        services.error_counts_flush()  # the beat task fails (and retries); nothing breaks


def _redis_restarted_then_killed_mid_stream(private_redis, ingesters) -> None:
    private_redis.start()
    ingesters.wait_for(30)
    flush.snapshot_move(flush_id="moved-before-kill", limit=2)  # a flush's first step only
    ingesters.wait_for(10)
    private_redis.kill()  # SIGKILL in the middle of a request stream
    ingesters.wait_for(30)
    private_redis.start()
    ingesters.wait_for(30)


def test_redis_stopped_and_killed_during_ingestion_counts_converge_exactly_once(
    private_redis, tutor_world
):
    conversations, ingest, analyst = tutor_world

    with Ingesters(conversations, ingest) as ingesters:
        ingesters.wait_for(30)
        services.error_counts_flush()  # part of the counts reach Postgres before the faults
        ingesters.wait_for(20)
        _redis_stopped_reads_count_new_rows(private_redis, ingesters, conversations, analyst)
        _redis_restarted_then_killed_mid_stream(private_redis, ingesters)

    assert set(ingesters.statuses) == {201}, ingesters.statuses
    assert LearnerError.objects.filter(uncounted_batch__isnull=False).exists()
    assert "moved-before-kill" in counters.client().zrange(counters.REGISTRY, 0, -1)  # kept
    assert_realtime_equals_rows(conversations, analyst)

    flush_after_settle()

    assert aggregate_counts() == row_counts()
    assert not LearnerError.objects.filter(uncounted_batch__isnull=False).exists()
    assert_realtime_equals_rows(conversations, analyst)
    services.error_counts_flush()  # the next beat clears the fold's tombstones
    assert redis_is_empty()
    assert aggregate_counts() == row_counts()


def test_redis_restarted_empty_converges_to_exact_counts_by_itself(private_redis, tutor_world):
    conversations, ingest, analyst = tutor_world
    with Ingesters(conversations, ingest) as ingesters:
        ingesters.wait_for(30)
        services.error_counts_flush()
        ingesters.wait_for(30)
        flush.snapshot_move(flush_id="lost-with-redis", limit=2)
        ingesters.wait_for(10)
        private_redis.kill()
        private_redis.wipe()  # its data files are gone: it comes back empty
        ingesters.wait_for(10)
        private_redis.start()
        ingesters.wait_for(30)
    assert set(ingesters.statuses) == {201}, ingesters.statuses
    assert_realtime_equals_rows(conversations, analyst)  # the lost counters read from the rows

    flush_after_settle()  # what beat runs every TUTOR_FLUSH_SECONDS; no manual command

    assert aggregate_counts() == row_counts()
    assert not LearnerError.objects.filter(uncounted_batch__isnull=False).exists()
    assert_realtime_equals_rows(conversations, analyst)
    with Ingesters(conversations, ingest) as ingesters:  # and counting goes on exactly
        ingesters.wait_for(30)
    flush_after_settle()
    assert aggregate_counts() == row_counts()
    assert_realtime_equals_rows(conversations, analyst)


# --- The Celery worker is killed with SIGKILL in the middle of a flush -------------------------

KILL_LEARNERS = 4000
KILL_BATCH = 40  # learners per flush batch in the worker: ~100 batches, a flush takes a moment


def _pending_for_many_learners(sub_ids: list[int]) -> int:
    """KILL_LEARNERS learners with errors committed in Postgres and counted in Redis, as the
    ingestion service leaves them (rows first, then its after-commit increment)."""
    now = timezone.now()
    learners = Learner.objects.bulk_create(
        Learner(username=f"k{i}", email=f"k{i}@example.com") for i in range(KILL_LEARNERS)
    )
    rows = LearnerError.objects.bulk_create(
        LearnerError(learner=learner, subcategory_id=sub_ids[j % len(sub_ids)], created_at=now)
        for i, learner in enumerate(learners)
        for j in range(1 + i % 3)
    )
    by_learner: dict[uuid.UUID, list[LearnerError]] = {}
    for row in rows:
        by_learner.setdefault(row.learner_id, []).append(row)
    for learner_rows in by_learner.values():
        assert services.errors_count(rows=learner_rows)
    return len(rows)


def _worker(make) -> servers.AppProcess:
    env = servers.app_env(
        DATABASE_URL=servers.current_database_url(),  # the test database: our rows are committed
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=settings.REDIS_URL,
        TUTOR_FLUSH_BATCH=str(KILL_BATCH),
        TUTOR_FLUSH_WORKERS="2",
    )
    worker = make("celery-worker", servers.celery_worker_cmd(concurrency=1), env=env)
    worker.start(ready=lambda: " ready." in worker.log())
    return worker


def _mid_flush() -> bool:
    """Some batches applied, more still waiting in Redis: the flush is under way."""
    return FlushLedger.objects.exists() and counters.client().scard(counters.DIRTY) > 0


def test_worker_killed_mid_flush_then_next_flush_counts_exactly_once(tax):
    sub_ids = sorted(tax.by_id)[:5]
    total = _pending_for_many_learners(sub_ids)

    with servers.app_processes() as make:
        worker = _worker(make)
        celery_app.send_task("tutor.tasks.error_counts_flush")
        servers.wait_until(_mid_flush, timeout=60, what="a flush under way", every=0.002)
        worker.kill()  # SIGKILL to the worker and its pool process

        applied = FlushLedger.objects.count()
        left = counters.client().scard(counters.DIRTY)
        assert applied, "the flush had not applied anything yet"
        assert left, "the flush had already finished"
        sample = Learner.objects.order_by("?")[:50]
        for learner in sample:  # readers stay exact across the half-done flush
            assert realtime(learner.id) == rows_by_subcategory(learner.id)

        _worker(make)  # a new worker; beat sends the task again
        celery_app.send_task("tutor.tasks.error_counts_flush")
        servers.wait_until(
            lambda: redis_is_empty() and not counters.client().zcard(counters.REGISTRY),
            timeout=120,
            what="the next flush to finish",
        )

    assert aggregate_counts() == row_counts()
    assert sum(row_counts().values()) == total
    assert FlushLedger.objects.count() > applied  # the rest went through the ledger too
