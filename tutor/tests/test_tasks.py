import time

import pytest
from prometheus_client import REGISTRY

from tutor import tasks
from tutor.tests.factories import ConversationFactory
from tutor.tests.helpers import aggregate_counts, ingest, redis_is_empty, row_counts

pytestmark = pytest.mark.django_db


def test_error_counts_flush_task_flushes_pending_counters(tax, django_capture_on_commit_callbacks):
    conversation = ConversationFactory()
    ingest(
        django_capture_on_commit_callbacks,
        conversation=conversation,
        labels=[("Grammar", "Tense")] * 2,
    )

    result = tasks.error_counts_flush.apply().get()

    assert result["increments"] == 2
    assert result["learners"] == 1
    assert aggregate_counts() == row_counts()
    assert redis_is_empty()


def test_error_counts_flush_task_name_matches_the_beat_schedule(settings):
    scheduled = settings.CELERY_BEAT_SCHEDULE["tutor-error-counts-flush"]["task"]

    assert tasks.error_counts_flush.name == scheduled


def test_error_counts_flush_task_reports_flush_lag_and_backlog_metrics(
    tax, django_capture_on_commit_callbacks
):
    before = REGISTRY.get_sample_value("tutor_flushed_increments_total") or 0.0
    ingest(
        django_capture_on_commit_callbacks,
        conversation=ConversationFactory(),
        labels=[("Grammar", "Tense")] * 3,
    )
    started = time.time()

    tasks.error_counts_flush.apply().get()

    assert REGISTRY.get_sample_value("tutor_flushed_increments_total") == before + 3
    assert REGISTRY.get_sample_value("tutor_flush_last_success_timestamp_seconds") >= started
    assert REGISTRY.get_sample_value("tutor_pending_learners") == 0
