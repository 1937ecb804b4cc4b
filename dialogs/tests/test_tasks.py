from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from dialogs import tasks
from dialogs.models import Dialog

pytestmark = pytest.mark.django_db


def test_purge_task_has_the_name_beat_schedules():
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}

    assert tasks.dialogs_unconsented_purge.name == "dialogs.tasks.dialogs_unconsented_purge"
    assert tasks.dialogs_unconsented_purge.name in scheduled


def test_purge_task_deletes_only_unconsented_dialogs_older_than_the_ttl(
    dialog_factory, consented_dialog, settings
):
    settings.DIALOGS_CONSENT_TTL_HOURS = 24
    now = timezone.now()
    expired = dialog_factory(created_at=now - timedelta(hours=25), text="expired secret")
    fresh = dialog_factory(created_at=now - timedelta(hours=23))
    consented_old = consented_dialog(created_at=now - timedelta(days=30))

    result = tasks.dialogs_unconsented_purge.apply()

    assert result.get() == 1
    remaining = set(Dialog.objects.values_list("dialog_id", flat=True))
    assert remaining == {fresh.dialog_id, consented_old.dialog_id}
    assert expired.dialog_id not in remaining
    assert not Dialog.objects.filter(text__contains="secret").exists()


def test_purge_task_default_ttl_is_a_week(dialog_factory):
    now = timezone.now()
    dialog_factory(created_at=now - timedelta(hours=169))
    six_days = dialog_factory(created_at=now - timedelta(hours=150))

    assert tasks.dialogs_unconsented_purge.apply().get() == 1
    assert list(Dialog.objects.values_list("pk", flat=True)) == [six_days.pk]
