"""The per-process evidence cache: repeat reads skip the settled parts, and every writer of them
(attempts, flushes, folds, rebuilds) makes the next read exact, against real Redis and Postgres.
"""

import random
import uuid
from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from tutor import attempts, evidence, flush, ranking, rotation, selectors, services
from tutor.models import ErrorCount, Learner
from tutor.tests.factories import ConversationFactory
from tutor.tests.helpers import ingest, move_all, realtime, rows_by_subcategory

pytestmark = pytest.mark.django_db

LABELS = [("Grammar", "Tense"), ("Grammar", "Preposition"), ("Vocabulary", "Wrong_Word")]


def _window():
    today = timezone.now().astimezone(UTC).date()
    return selectors.window_start(last_n_days=30, today=today), today


def cached_sums(learner_id) -> dict:
    since, today = _window()
    model = ranking.Model.from_settings()
    return evidence.learner_sums(learner_id=learner_id, since=since, today=today, model=model)


def fresh_sums(learner_id) -> dict:
    """The same sums from the per-day read, which never uses the cache."""
    since, today = _window()
    model = ranking.Model.from_settings()
    found = evidence.learner_evidence(learner_id=learner_id, since=since)
    return ranking.sums_from_evidence(evidence=found, today=today, model=model)


def assert_exact(learner_id) -> None:
    got, want = cached_sums(learner_id), fresh_sums(learner_id)
    assert {sid: (s.errors, s.attempts, s.correct) for sid, s in got.items()} == {
        sid: (s.errors, s.attempts, s.correct) for sid, s in want.items()
    }
    for sid, s in want.items():
        assert got[sid].decayed_errors == pytest.approx(s.decayed_errors)
        assert got[sid].balance == pytest.approx(s.balance)
    assert realtime(learner_id) == rows_by_subcategory(learner_id)


def lookups(result: str) -> float:
    value = REGISTRY.get_sample_value("tutor_evidence_cache_lookups_total", {"result": result})
    return value or 0.0


@pytest.fixture
def learner(tax, django_capture_on_commit_callbacks):
    conversation = ConversationFactory()
    ingest(django_capture_on_commit_callbacks, conversation=conversation, labels=LABELS)
    flush.error_counts_flush()
    return conversation


@pytest.fixture
def exercise_id(tax, sub):
    return tax.pool[sub("Grammar", "Tense")][0].id


def test_a_repeat_read_comes_from_the_cache_and_counts_once(learner):
    assert_exact(learner.learner_id)
    hits = lookups("hit")

    assert_exact(learner.learner_id)  # a double count would show here: live + cached rows

    assert lookups("hit") == hits + 2  # the priority sums and the counts


def test_an_attempt_counts_on_the_next_read(learner, exercise_id):
    cached_sums(learner.learner_id)

    attempts.attempt_record(learner_id=learner.learner_id, exercise_id=exercise_id, correct=True)

    (tense,) = [s for s in cached_sums(learner.learner_id).values() if s.attempts]
    assert (tense.attempts, tense.correct) == (1, 1)
    assert_exact(learner.learner_id)


def test_a_replayed_attempt_keeps_the_cache(learner, exercise_id):
    attempt_id = uuid.uuid4()
    attempts.attempt_record(
        learner_id=learner.learner_id, exercise_id=exercise_id, correct=True, attempt_id=attempt_id
    )
    cached_sums(learner.learner_id)
    hits = lookups("hit")

    attempts.attempt_record(
        learner_id=learner.learner_id, exercise_id=exercise_id, correct=True, attempt_id=attempt_id
    )
    cached_sums(learner.learner_id)

    assert lookups("hit") == hits + 1


def test_practice_is_cached_until_the_next_attempt(learner, exercise_id):
    def seen():
        practice = rotation.practice_get(learner_id=learner.learner_id, exercise_ids=[exercise_id])
        return practice.seen[exercise_id]

    assert seen() == (None, None)
    hits = lookups("hit")
    assert seen() == (None, None)
    assert lookups("hit") == hits + 1

    first = attempts.attempt_record(
        learner_id=learner.learner_id, exercise_id=exercise_id, correct=False
    )[0]
    assert seen() == (first.created_at, None)
    second = attempts.attempt_record(
        learner_id=learner.learner_id, exercise_id=exercise_id, correct=True
    )[0]
    assert seen() == (second.created_at, second.created_at)


def test_errors_flushed_after_a_cached_read_count_once(learner, django_capture_on_commit_callbacks):
    assert_exact(learner.learner_id)
    ingest(django_capture_on_commit_callbacks, conversation=learner, labels=LABELS[:2])
    assert_exact(learner.learner_id)  # pending in Redis, aggregates from the cache

    flush.error_counts_flush()

    assert_exact(learner.learner_id)
    assert sum(s.errors for s in cached_sums(learner.learner_id).values()) == 5


def test_a_snapshot_applied_after_a_cached_read_counts_once_before_and_after_its_delete(
    learner, django_capture_on_commit_callbacks
):
    ingest(django_capture_on_commit_callbacks, conversation=learner, labels=LABELS)
    (flush_id,) = move_all("cut")
    assert_exact(learner.learner_id)  # cached: the snapshot is not in the ledger yet

    flush.snapshot_apply(flush_id=flush_id, tallies=flush.snapshot_read(flush_id=flush_id))
    assert_exact(learner.learner_id)  # the cache's ledger says "not applied": Redis counts it

    flush.snapshot_delete(flush_id=flush_id)
    assert_exact(learner.learner_id)


def test_a_fold_after_a_cached_read_counts_once(
    learner, redis_down, django_capture_on_commit_callbacks
):
    with redis_down():
        ingest(django_capture_on_commit_callbacks, conversation=learner, labels=LABELS)
    assert_exact(learner.learner_id)  # the uncounted rows are read live

    assert flush.uncounted_fold(settle_seconds=0) == 3

    assert_exact(learner.learner_id)
    assert sum(s.errors for s in cached_sums(learner.learner_id).values()) == 6


def test_a_rebuild_after_a_cached_read_replaces_what_it_held(learner):
    ErrorCount.objects.filter(learner_id=learner.learner_id).update(count=999)  # corrupted
    assert {s.errors for s in cached_sums(learner.learner_id).values()} == {999}

    services.error_counts_rebuild()

    assert {s.errors for s in cached_sums(learner.learner_id).values()} == {1}
    assert_exact(learner.learner_id)


def test_a_learner_recreated_under_the_same_id_starts_empty(learner):
    learner_id = learner.learner_id
    assert cached_sums(learner_id)
    Learner.objects.filter(pk=learner_id).delete()
    Learner.objects.create(id=learner_id, username="again", email="again@example.com")

    assert cached_sums(learner_id) == {}
    assert realtime(learner_id) == {}


def test_entries_expire(learner, settings):
    settings.TUTOR_EVIDENCE_CACHE_SECONDS = 0
    cached_sums(learner.learner_id)
    misses = lookups("miss")

    cached_sums(learner.learner_id)

    assert lookups("miss") == misses + 1


def test_the_cache_holds_at_most_the_configured_number_of_reads(learner, settings):
    settings.TUTOR_EVIDENCE_CACHE_ENTRIES = 1
    other = ConversationFactory()
    cached_sums(learner.learner_id)
    cached_sums(other.learner_id)  # evicts the first
    misses = lookups("miss")

    cached_sums(learner.learner_id)

    assert lookups("miss") == misses + 1


def test_with_redis_down_nothing_is_cached_and_reads_stay_exact(learner, redis_down):
    with redis_down():
        hits, misses = lookups("hit"), lookups("miss")
        cached_sums(learner.learner_id)
        cached_sums(learner.learner_id)
        assert (lookups("hit"), lookups("miss")) == (hits, misses + 2)
    assert_exact(learner.learner_id)


def test_randomized_writers_between_cached_reads_stay_exact(
    tax, sub, redis_down, django_capture_on_commit_callbacks
):
    rng = random.Random(20261203)
    convs = [ConversationFactory() for _ in range(3)]
    labels = [*LABELS, ("Grammar", "Article")]
    exercise_ids = [tax.pool[sub(*label)][0].id for label in labels]
    hits = lookups("hit")

    for step in range(80):
        op = rng.random()
        conversation = rng.choice(convs)
        errors = [rng.choice(labels) for _ in range(rng.randint(0, 3))]
        if op < 0.35:
            ingest(django_capture_on_commit_callbacks, conversation=conversation, labels=errors)
        elif op < 0.45:
            with redis_down():
                ingest(django_capture_on_commit_callbacks, conversation=conversation, labels=errors)
        elif op < 0.6:
            flush.error_counts_flush(batch_size=rng.randint(1, 3))
        elif op < 0.7:
            (fid, *_) = move_all(f"cut{step}") or [None]
            if fid and rng.random() < 0.5:
                flush.snapshot_apply(flush_id=fid, tallies=flush.snapshot_read(flush_id=fid))
        elif op < 0.8:
            flush.uncounted_fold(settle_seconds=0)
        elif op < 0.95:
            at = timezone.now() - timedelta(days=rng.randint(0, 5))
            attempts.attempt_record(
                learner_id=conversation.learner_id,
                exercise_id=rng.choice(exercise_ids),
                correct=rng.random() < 0.5,
                created_at=at,
            )
        else:
            services.error_counts_rebuild()
        for c in convs:
            assert_exact(c.learner_id)

    assert lookups("hit") > hits + 50  # most reads were served from the cache
