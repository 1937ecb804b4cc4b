import io
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dialogs.languages import ISO_639_1
from dialogs.models import Dialog, DialogCount

pytestmark = pytest.mark.django_db


def test_rebuild_dialog_counts_repairs_drift(consented_dialog):
    consented_dialog(customer_id="1", language="EN")
    consented_dialog(customer_id="1", language="EN")
    consented_dialog(customer_id="2", language="DE")
    DialogCount.objects.filter(customer_id="1").update(consented=7)
    DialogCount.objects.filter(customer_id="2").delete()
    DialogCount.objects.create(customer_id="ghost", language="IT", consented=5)
    out = io.StringIO()

    call_command("rebuild_dialog_counts", stdout=out)

    assert "3 consented dialogs" in out.getvalue()
    counted = {(c.customer_id, c.language): c.consented for c in DialogCount.objects.all()}
    assert counted == {("1", "EN"): 2, ("2", "DE"): 1, ("ghost", "IT"): 0}


def generate(**options):
    out = io.StringIO()
    call_command("generate_dialogs", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_generate_dialogs_keeps_counts_exact():
    out = generate(customers=5, dialogs=230, consented=120, batch=50, seed=1)

    assert "Inserted 230 dialogs (120 consented) for 5 customers" in out
    assert Dialog.objects.count() == 230
    consented = Dialog.objects.filter(consented_at__isnull=False)
    actual = Counter(consented.values_list("customer_id", "language"))
    counted = {
        (c.customer_id, c.language): c.consented for c in DialogCount.objects.exclude(consented=0)
    }
    assert counted == dict(actual)
    assert sum(counted.values()) == 120


def test_generate_dialogs_makes_plausible_multilingual_data():
    generate(customers=3, dialogs=300, consented=200, seed=2)

    dialogs = list(Dialog.objects.all())
    languages = {d.language for d in dialogs}
    assert languages <= ISO_639_1
    assert len(languages) >= 4
    assert {d.customer_id for d in dialogs} <= {"1", "2", "3"}
    assert all(d.text.startswith("Customer: ") and "\nBot: " in d.text for d in dialogs)
    assert len({d.dialog_id for d in dialogs}) == 300


def test_generate_dialogs_unconsented_are_within_the_ttl_so_the_purge_keeps_them():
    generate(customers=2, dialogs=50, consented=10)

    cutoff = timezone.now() - timedelta(hours=168)
    assert not Dialog.objects.filter(consented_at__isnull=True, created_at__lt=cutoff).exists()
    assert Dialog.objects.filter(consented_at__isnull=False, created_at__lt=cutoff).exists()


def test_generate_dialogs_twice_adds_new_dialogs():
    generate(customers=2, dialogs=20, consented=10, seed=3)
    generate(customers=2, dialogs=20, consented=10, seed=3)

    assert Dialog.objects.count() == 40
    assert sum(DialogCount.objects.values_list("consented", flat=True)) == 20


@pytest.mark.parametrize(
    "options",
    [
        {"dialogs": 10, "consented": 11},
        {"dialogs": 10, "consented": -1},
        {"customers": 0},
        {"batch": 0},
    ],
)
def test_generate_dialogs_rejects_bad_options(options):
    with pytest.raises(CommandError):
        generate(**options)
