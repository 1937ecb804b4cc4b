import factory
from django.utils import timezone

from dialogs.models import Dialog


class DialogFactory(factory.django.DjangoModelFactory):
    """An unconsented dialog. Consent through `services.dialog_consent_record` (see conftest),
    which keeps the counts table right; setting consented_at here would bypass it."""

    class Meta:
        model = Dialog

    dialog_id = factory.Sequence(lambda n: f"d-{n}")
    customer_id = "42"
    text = factory.Faker("sentence")
    language = "EN"
    created_at = factory.LazyFunction(timezone.now)
