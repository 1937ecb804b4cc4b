"""A repeated revocation (the sending job retries) is idempotent; a never-seen id stays a 404."""

import pytest

from config.errors import ApplicationError
from dialogs import services
from dialogs.models import ConsentDecision
from dialogs.tests.test_views_write import consent, post_dialog

pytestmark = pytest.mark.django_db


def test_dialog_consent_record_repeated_revocation_returns_deleted_again(dialog_factory):
    dialog = dialog_factory()
    services.dialog_consent_record(dialog_id=dialog.dialog_id, granted=False)

    again = services.dialog_consent_record(dialog_id=dialog.dialog_id, granted=False)

    assert again is None
    assert ConsentDecision.objects.filter(dialog_id=dialog.dialog_id).count() == 1


def test_dialog_consent_record_grant_after_revocation_is_404(dialog_factory):
    dialog = dialog_factory()
    services.dialog_consent_record(dialog_id=dialog.dialog_id, granted=False)

    with pytest.raises(ApplicationError) as exc:
        services.dialog_consent_record(dialog_id=dialog.dialog_id, granted=True)

    assert exc.value.status_code == 404


def test_dialog_consent_record_revocation_after_erasure_returns_deleted(dialog_factory):
    dialog = dialog_factory()
    services.dialog_delete(customer_id=dialog.customer_id, dialog_id=dialog.dialog_id)

    assert services.dialog_consent_record(dialog_id=dialog.dialog_id, granted=False) is None


def test_consent_repeated_revocation_is_200_deleted(ingest_client):
    post_dialog(ingest_client)
    first = consent(ingest_client, "d1", False)

    second = consent(ingest_client, "d1", False)

    assert first.status_code == second.status_code == 200
    assert second.json() == {"dialogId": "d1", "deleted": True}


def test_consent_revocation_of_a_never_seen_id_is_404(ingest_client):
    response = consent(ingest_client, "never-seen", False)

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "dialog_not_found"
