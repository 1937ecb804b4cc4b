import pytest

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
