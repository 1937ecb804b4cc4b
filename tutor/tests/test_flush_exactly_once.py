"""Exactly-once proofs against real Redis and Postgres: each crash point is reached by running
the flush's steps and stopping between them, as a killed worker would."""

import random
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, connections
from django.utils import timezone
from redis.crc import key_slot

from tutor import counters, flush, services
from tutor.models import ErrorCount, FlushLedger, LearnerError
from tutor.tests.factories import ConversationFactory, LearnerErrorFactory, LearnerFactory
from tutor.tests.helpers import (
    aggregate_counts,
    ingest,
    realtime,
    redis_is_empty,
    row_counts,
    rows_by_subcategory,
)

pytestmark = pytest.mark.django_db

LABELS = [("Grammar", "Tense"), ("Grammar", "Preposition"), ("Vocabulary", "Wrong_Word")]


@pytest.fixture
def conversations(tax):
    return [ConversationFactory() for _ in range(3)]


@pytest.fixture
def feed(conversations, django_capture_on_commit_callbacks):
    def _feed(n: int = 6) -> None:
        for i in range(n):
            conversation = conversations[i % len(conversations)]
            ingest(
                django_capture_on_commit_callbacks,
                conversation=conversation,
                labels=LABELS[: 1 + i % 3],
            )

    return _feed


def assert_exactly_once(conversations) -> None:
    for c in conversations:
        assert realtime(c.learner_id) == rows_by_subcategory(c.learner_id)


def test_flush_moves_pending_into_aggregates_and_clears_redis(feed, conversations):
    feed(6)

    result = flush.error_counts_flush()

    assert aggregate_counts() == row_counts()
    assert result.increments == sum(row_counts().values())
    assert result.learners == 3
    assert redis_is_empty()
    assert_exactly_once(conversations)


def test_snapshot_move_writes_the_python_key_layout_in_one_slot_per_learner(feed, conversations):
    feed(3)
    learner = str(conversations[0].learner_id)

    flush.snapshot_move(flush_id="f1", limit=100)

    r = counters.client()
    moved = [counters.snapshot_key(learner, "f1"), counters.gen_key(learner)]
    assert all(r.exists(key) for key in moved)
    assert r.sismember(counters.snaps_key(learner), "f1")
    assert r.sismember(counters.flush_set_key("f1"), learner)
    assert not r.exists(counters.pending_key(learner))
    learner_keys = [*moved, counters.snaps_key(learner), counters.pending_key(learner)]
    assert len({key_slot(key.encode()) for key in learner_keys}) == 1  # Redis Cluster hash tag


def test_flush_crash_after_move_is_recovered_by_the_next_flush(feed, conversations):
    feed(6)
    flush.snapshot_move(flush_id="crashed", limit=100)  # worker killed here
    assert_exactly_once(conversations)  # readers count the unapplied snapshot

    feed(3)  # new increments go to a fresh pending hash
    flush.error_counts_flush()

    assert aggregate_counts() == row_counts()
    assert FlushLedger.objects.filter(flush_id="crashed").exists()
    assert redis_is_empty()


def test_flush_crash_after_read_before_apply_is_recovered(feed, conversations):
    feed(6)
    flush.snapshot_move(flush_id="crashed", limit=100)
    flush.snapshot_read(flush_id="crashed")  # killed before the transaction

    flush.error_counts_flush()

    assert aggregate_counts() == row_counts()


def test_flush_crash_after_commit_before_delete_does_not_double_count(feed, conversations):
    feed(6)
    flush.snapshot_move(flush_id="crashed", limit=100)
    flush.snapshot_apply(flush_id="crashed", tallies=flush.snapshot_read(flush_id="crashed"))
    # killed before snapshot_delete: the snapshot is still in Redis but already in the ledger
    assert_exactly_once(conversations)

    flush.error_counts_flush()

    assert aggregate_counts() == row_counts()
    assert redis_is_empty()


def test_flush_crash_during_delete_is_finished_by_the_next_flush(feed, conversations):
    feed(6)
    flush.snapshot_move(flush_id="crashed", limit=100)
    flush.snapshot_apply(flush_id="crashed", tallies=flush.snapshot_read(flush_id="crashed"))
    one = str(conversations[0].learner_id)
    counters.client().delete(counters.snapshot_key(one, "crashed"))  # half of the delete ran

    flush.error_counts_flush()

    assert aggregate_counts() == row_counts()
    assert redis_is_empty()


def test_snapshot_apply_twice_is_a_no_op(feed):
    feed(6)
    flush.snapshot_move(flush_id="f1", limit=100)
    tallies = flush.snapshot_read(flush_id="f1")

    first = flush.snapshot_apply(flush_id="f1", tallies=tallies)
    second = flush.snapshot_apply(flush_id="f1", tallies=tallies)

    assert (first, second) == (True, False)
    assert aggregate_counts() == row_counts()


def test_overlapping_flush_recovers_a_running_flush_snapshot_without_double_count(
    feed, conversations
):
    feed(6)
    # Flush A moved its batch aside and is slow; flush B starts, recovers A's snapshot, finishes.
    flush.snapshot_move(flush_id="A", limit=100)
    tallies_a = flush.snapshot_read(flush_id="A")
    feed(3)
    flush.error_counts_flush()
    # A resumes: its apply finds its id in the ledger and adds nothing; its delete is harmless.
    applied = flush.snapshot_apply(flush_id="A", tallies=tallies_a)
    flush.snapshot_delete(flush_id="A")

    assert applied is False
    assert aggregate_counts() == row_counts()
    assert_exactly_once(conversations)


@pytest.mark.django_db(transaction=True)
def test_flush_failing_half_way_rolls_back_and_is_retried_later(feed, conversations, sub):
    feed(6)
    learner = str(conversations[0].learner_id)
    day = timezone.now().strftime("%Y%m%d")
    # A corrupt counter: the aggregate's CHECK (count >= 0) fails the transaction after the
    # ledger row and part of the upsert were written.
    counters.client().hset(counters.pending_key(learner), f"{sub('Grammar', 'Article')}:{day}", -5)

    with pytest.raises(IntegrityError):
        flush.error_counts_flush()

    assert not ErrorCount.objects.exists()
    assert not FlushLedger.objects.exists()
    assert_exactly_once(conversations[1:])  # nothing lost while the snapshot waits
    snapshot = counters.snapshot_key(learner, _only_flush_id())
    counters.client().hdel(snapshot, f"{sub('Grammar', 'Article')}:{day}")  # an operator fixes it
    flush.error_counts_flush()
    assert aggregate_counts() == row_counts()
    assert redis_is_empty()


def _only_flush_id() -> str:
    (flush_id,) = counters.client().zrange(counters.REGISTRY, 0, -1)
    return flush_id


def test_uncounted_rows_are_folded_exactly_once(
    tax, sub, conversations, redis_down, django_capture_on_commit_callbacks
):
    with redis_down():
        ingest(django_capture_on_commit_callbacks, conversation=conversations[0], labels=LABELS)

    first = flush.uncounted_fold(settle_seconds=0)
    second = flush.uncounted_fold(settle_seconds=0)

    assert (first, second) == (3, 0)
    assert aggregate_counts() == row_counts()
    assert not LearnerError.objects.filter(uncounted_batch__isnull=False).exists()
    assert_exactly_once(conversations)


def test_uncounted_row_whose_increment_did_land_is_counted_once(
    tax, conversations, django_capture_on_commit_callbacks
):
    # The reply was lost after Redis applied the increment: the request marked its rows anyway.
    utterance = ingest(
        django_capture_on_commit_callbacks, conversation=conversations[0], labels=LABELS[:1]
    )
    pending = counters.client().hgetall(counters.pending_key(str(conversations[0].learner_id)))
    (batch,) = [k[2:] for k in pending if k.startswith("b:")]
    LearnerError.objects.filter(utterance=utterance).update(uncounted_batch=batch)
    assert_exactly_once(conversations)  # the reader sees the evidence and skips the row

    assert flush.uncounted_fold(settle_seconds=0) == 0  # Redis has it: not claimable
    flush.error_counts_flush()

    assert aggregate_counts() == row_counts()
    assert not LearnerError.objects.filter(uncounted_batch__isnull=False).exists()


def test_fold_tombstone_stops_a_late_increment(tax, conversations):
    learner = LearnerFactory()
    row = LearnerErrorFactory(
        learner=learner, subcategory_id=1, uncounted_batch=_uuid("0" * 31 + "1")
    )
    flush.uncounted_fold(settle_seconds=0)

    counters.ingest_increment(  # the original request's increment arrives late
        learner_id=str(learner.id),
        batch=row.uncounted_batch,
        at=row.created_at,
        subcategory_ids=[1],
    )
    flush.error_counts_flush()

    assert aggregate_counts() == row_counts()


def _uuid(hex_: str):
    import uuid

    return uuid.UUID(hex_)


def test_fold_waits_for_the_settle_time(tax):
    LearnerErrorFactory(subcategory_id=1, uncounted_batch=_uuid("0" * 32))

    assert flush.uncounted_fold(settle_seconds=60) == 0
    assert flush.uncounted_fold(settle_seconds=0) == 1


def test_rebuild_discards_pending_and_snapshots_and_matches_rows(
    feed, conversations, redis_down, django_capture_on_commit_callbacks
):
    feed(6)
    flush.error_counts_flush()
    feed(3)
    flush.snapshot_move(flush_id="stuck", limit=100)
    feed(3)
    with redis_down():
        ingest(django_capture_on_commit_callbacks, conversation=conversations[1], labels=LABELS)
    ErrorCount.objects.update(count=999)  # corrupted aggregates

    services.error_counts_rebuild()

    assert aggregate_counts() == row_counts()
    assert redis_is_empty()
    assert_exactly_once(conversations)
    flush.error_counts_flush()
    flush.uncounted_fold(settle_seconds=0)
    assert aggregate_counts() == row_counts()


def test_randomized_ingest_flush_crash_mix_converges_exactly_once(
    tax, redis_down, django_capture_on_commit_callbacks
):
    rng = random.Random(20240601)
    convs = [ConversationFactory() for _ in range(5)]
    labels = [*LABELS, ("Pronunciation", "Mispronounced_Word"), ("Grammar", "Article")]

    for step in range(120):
        op = rng.random()
        conversation = rng.choice(convs)
        errors = [rng.choice(labels) for _ in range(rng.randint(0, 3))]
        if op < 0.55:
            ingest(django_capture_on_commit_callbacks, conversation=conversation, labels=errors)
        elif op < 0.65:
            with redis_down():
                ingest(django_capture_on_commit_callbacks, conversation=conversation, labels=errors)
        elif op < 0.75:
            flush.error_counts_flush(batch_size=rng.randint(1, 4))
        elif op < 0.85:
            _crash_somewhere(rng, f"crash{step}")
        elif op < 0.9:
            flush.uncounted_fold(settle_seconds=0)
        elif op < 0.93:
            services.error_counts_rebuild()
        else:
            _late_backdated_rows(rng, conversation)
        for c in convs:  # real time is exact at every step
            assert realtime(c.learner_id) == rows_by_subcategory(c.learner_id), step

    flush.error_counts_flush()
    flush.uncounted_fold(settle_seconds=0)
    assert aggregate_counts() == row_counts()
    services.error_counts_rebuild()
    assert aggregate_counts() == row_counts()


def _crash_somewhere(rng: random.Random, flush_id: str) -> None:
    point = rng.randrange(3)
    if not flush.snapshot_move(flush_id=flush_id, limit=rng.randint(1, 5)) or point == 0:
        return
    tallies = flush.snapshot_read(flush_id=flush_id)
    if point == 1:
        return
    flush.snapshot_apply(flush_id=flush_id, tallies=tallies)


def _late_backdated_rows(rng: random.Random, conversation) -> None:
    """Errors from earlier days, as if Redis had been down then (exercise other UTC days)."""
    at = timezone.now() - timedelta(days=rng.randint(1, 3))
    LearnerErrorFactory(
        learner=conversation.learner,
        subcategory_id=rng.randint(1, 4),
        created_at=at,
        # a version-4 id, as marks were before batch ids carried their time (see flush/fold.py)
        uncounted_batch=uuid.UUID(int=rng.getrandbits(128), version=4),
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_flushes_while_ingesting_count_everything_once(tax):
    convs = [ConversationFactory() for _ in range(4)]
    stop = threading.Event()
    errors: list[BaseException] = []

    def flusher() -> None:
        try:
            while not stop.is_set():
                flush.error_counts_flush(batch_size=2, workers=2)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=flusher) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(60):
        services.utterance_create(
            conversation_id=convs[i % 4].id, content="x", errors=LABELS[: 1 + i % 3]
        )
    stop.set()
    for t in threads:
        t.join()
    flush.error_counts_flush()

    assert not errors
    assert aggregate_counts() == row_counts()
    assert sum(row_counts().values()) == 120
    connection.close()
