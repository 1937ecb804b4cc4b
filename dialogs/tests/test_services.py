from datetime import timedelta

import pytest
from django.utils import timezone

from config.errors import ApplicationError
from dialogs import demo, selectors, services
from dialogs.models import ConsentDecision, Dialog, DialogCount

pytestmark = pytest.mark.django_db


def counts() -> dict[tuple[str, str], int]:
    return {(c.customer_id, c.language): c.consented for c in DialogCount.objects.all()}


def test_dialog_consent_record_revocation_erases_text(dialog_factory):
    dialog = dialog_factory(text="my phone number is 555-0199")

    services.dialog_consent_record(dialog_id=dialog.dialog_id, granted=False)

    assert not Dialog.objects.filter(dialog_id=dialog.dialog_id).exists()
    decision = ConsentDecision.objects.get(dialog_id=dialog.dialog_id)
    assert decision.granted is False
    assert not hasattr(decision, "text")
    assert "555-0199" not in str(list(ConsentDecision.objects.values()))


def test_dialog_consent_record_revocation_of_unconsented_keeps_counts(dialog_factory):
    dialog = dialog_factory(customer_id="1", language="EN")

    services.dialog_consent_record(dialog_id=dialog.dialog_id, granted=False)

    assert counts() == {}


def test_dialog_consent_record_unknown_is_404():
    with pytest.raises(ApplicationError) as exc:
        services.dialog_consent_record(dialog_id="missing", granted=True)

    assert exc.value.status_code == 404
    assert not ConsentDecision.objects.exists()


def test_dialog_create_normalised_retry_returns_existing():
    first, created = services.dialog_create(customer_id="1", dialog_id="a", text="t", language="EN")

    again, created_again = services.dialog_create(
        customer_id="1", dialog_id="a", text="t", language="EN"
    )

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk


def test_counts_follow_consent_revocation_and_erasure(consented_dialog, dialog_factory):
    a = consented_dialog(customer_id="1", language="EN")
    consented_dialog(customer_id="1", language="EN")
    consented_dialog(customer_id="1", language="DE")
    consented_dialog(customer_id="2", language="EN")
    dialog_factory(customer_id="2", language="FR")  # unconsented: never counted
    assert counts() == {("1", "EN"): 2, ("1", "DE"): 1, ("2", "EN"): 1}

    services.dialog_consent_record(dialog_id=a.dialog_id, granted=False)
    services.customer_dialogs_delete(customer_id="2")

    assert counts() == {("1", "EN"): 1, ("1", "DE"): 1, ("2", "EN"): 0}
    assert selectors.dialogs_count(language=None, customer_id=None) == 2
    assert selectors.dialogs_count(language="EN", customer_id="1") == 1


def test_dialog_counts_rebuild_repairs_drift(consented_dialog):
    consented_dialog(customer_id="1", language="EN")
    consented_dialog(customer_id="1", language="DE")
    DialogCount.objects.filter(language="EN").update(consented=99)
    DialogCount.objects.create(customer_id="ghost", language="IT", consented=5)

    total = services.dialog_counts_rebuild()

    assert total == 2
    assert counts() == {("1", "EN"): 1, ("1", "DE"): 1, ("ghost", "IT"): 0}


def test_dialog_counts_add_never_blocks_an_erasure_on_drifted_counts(consented_dialog):
    dialog = consented_dialog(customer_id="1", language="EN")
    DialogCount.objects.update(consented=0)

    services.dialog_delete(customer_id="1", dialog_id=dialog.dialog_id)

    assert counts() == {("1", "EN"): 0}
    assert not Dialog.objects.exists()


def test_dialogs_unconsented_purge_in_batches(dialog_factory, consented_dialog):
    old = timezone.now() - timedelta(hours=200)
    for _ in range(5):
        dialog_factory(created_at=old)
    kept_recent = dialog_factory()
    kept_consented = consented_dialog(created_at=old)

    deleted = services.dialogs_unconsented_purge(
        older_than=timezone.now() - timedelta(hours=168), batch_size=2
    )

    assert deleted == 5
    assert set(Dialog.objects.values_list("pk", flat=True)) == {kept_recent.pk, kept_consented.pk}


def test_demo_seed_is_idempotent_and_prints_a_curl_example():
    first = demo.seed()
    second = demo.seed()

    assert first == second
    assert any("curl" in line and "/data/" in line for line in first)
    assert Dialog.objects.filter(consented_at__isnull=False).count() == len(demo.DEMO_DIALOGS)
    assert ConsentDecision.objects.count() == len(demo.DEMO_DIALOGS)


def test_demo_seed_leaves_a_revoked_demo_dialog_erased():
    demo.seed()
    services.dialog_consent_record(dialog_id="demo-1", granted=False)

    demo.seed()

    assert not Dialog.objects.filter(dialog_id="demo-1").exists()
