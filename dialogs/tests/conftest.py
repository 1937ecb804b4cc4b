from collections.abc import Callable

import pytest

from dialogs import services
from dialogs.models import Dialog
from dialogs.tests.factories import DialogFactory


@pytest.fixture
def dialog_factory(db) -> type[DialogFactory]:
    return DialogFactory


@pytest.fixture
def consented_dialog(db) -> Callable[..., Dialog]:
    """Creates a dialog and consents to it through the service, as the API would."""

    def make(**fields: object) -> Dialog:
        dialog = DialogFactory(**fields)
        return services.dialog_consent_record(dialog_id=dialog.dialog_id, granted=True)

    return make
