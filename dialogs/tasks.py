from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from dialogs import services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def dialogs_unconsented_purge() -> int:
    """Beat entry point (name fixed by the beat schedule). Idempotent: overlapping runs skip each
    other's locked rows, and a retried run only finds what is left."""
    hours = settings.DIALOGS_CONSENT_TTL_HOURS
    return services.dialogs_unconsented_purge(older_than=timezone.now() - timedelta(hours=hours))
