import time

from celery import shared_task
from django.db import OperationalError
from redis import RedisError

from tutor import flush, metrics, services


@shared_task(
    name="tutor.tasks.error_counts_flush",
    acks_late=True,
    autoretry_for=(OperationalError, RedisError),
    retry_backoff=True,
    max_retries=5,
)
def error_counts_flush() -> dict:
    """Beat entry point; the service is idempotent, so a retried or overlapping run is harmless."""
    result = services.error_counts_flush()
    metrics.flushed_increments.inc(result.increments)
    metrics.flush_last_success.set(time.time())
    metrics.pending_learners.set(flush.dirty_count())
    return vars(result)
