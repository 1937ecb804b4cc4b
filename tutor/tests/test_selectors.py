import uuid
from datetime import date

import pytest

from tutor import counters, flush, selectors
from tutor.tests.factories import ConversationFactory
from tutor.tests.helpers import ALL_TIME, ingest, move_all, realtime, rows_by_subcategory

pytestmark = pytest.mark.django_db


def test_window_start_counts_today_as_day_one():
    assert selectors.window_start(last_n_days=1, today=date(2024, 3, 1)) == date(2024, 3, 1)
    assert selectors.window_start(last_n_days=7, today=date(2024, 3, 1)) == date(2024, 2, 24)
    assert selectors.window_start(last_n_days=None) == ALL_TIME


def test_error_counts_adds_aggregates_pending_and_unapplied_snapshots_once(
    tax, sub, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory()
    labels = [("Grammar", "Tense")]
    ingest(django_capture_on_commit_callbacks, conversation=conversation, labels=labels)
    flush.error_counts_flush()  # 1 in aggregates
    ingest(django_capture_on_commit_callbacks, conversation=conversation, labels=labels)
    move_all("s1", limit=10)  # 1 in an unapplied snapshot
    ingest(django_capture_on_commit_callbacks, conversation=conversation, labels=labels)
    (s2,) = move_all("s2", limit=10)
    flush.snapshot_apply(flush_id=s2, tallies=flush.snapshot_read(flush_id=s2))  # applied
    ingest(django_capture_on_commit_callbacks, conversation=conversation, labels=labels)  # pending

    assert realtime(conversation.learner_id) == {sub("Grammar", "Tense"): 4}
    assert realtime(conversation.learner_id) == rows_by_subcategory(conversation.learner_id)


def test_error_counts_degrades_to_postgres_when_redis_is_down(
    tax, sub, redis_down, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory()
    ingest(
        django_capture_on_commit_callbacks, conversation=conversation, labels=[("Grammar", "Tense")]
    )
    flush.error_counts_flush()

    with redis_down():
        counts = realtime(conversation.learner_id)

    assert counts == {sub("Grammar", "Tense"): 1}


def test_error_counts_reads_only_aggregates_not_error_rows(
    tax, sub, django_capture_on_commit_callbacks, django_assert_num_queries
):
    conversation = ConversationFactory()
    for _ in range(20):
        ingest(
            django_capture_on_commit_callbacks,
            conversation=conversation,
            labels=[("Grammar", "Tense")] * 5,
        )
    flush.error_counts_flush()

    with django_assert_num_queries(1) as ctx:
        counts = realtime(conversation.learner_id)

    assert counts == {sub("Grammar", "Tense"): 100}
    sql = ctx.captured_queries[0]["sql"]
    assert "uncounted_batch IS NOT NULL" in sql  # only rows no flush has applied yet


def test_error_counts_unknown_learner_is_404(tax):
    with pytest.raises(selectors.ApplicationError) as exc:
        selectors.error_counts(learner_id=uuid.uuid4(), since=ALL_TIME)

    assert exc.value.status_code == 404


def test_learner_state_read_returns_pending_and_snapshots(tax, django_capture_on_commit_callbacks):
    conversation = ConversationFactory()
    ingest(
        django_capture_on_commit_callbacks, conversation=conversation, labels=[("Grammar", "Tense")]
    )
    (s1,) = move_all("s1", limit=10)

    state = counters.learner_state_read(learner_id=str(conversation.learner_id))

    assert set(state.snapshots) == {s1}
    assert not state.pending.counts
    assert state.gen == s1  # the last move's flush id
