import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/dialogs/dialog/",
        "/admin/dialogs/dialog/?q=42",
        "/admin/dialogs/dialog/?language=EN&consented=yes",
        "/admin/dialogs/dialog/?consented=no",
        "/admin/dialogs/consentdecision/?granted__exact=0",
        "/admin/dialogs/consentdecision/?q=d-1",
        "/admin/dialogs/dialogcount/",
    ],
)
def test_admin_lists_render(admin_client, consented_dialog, dialog_factory, url):
    consented_dialog(customer_id="42", language="EN")
    dialog_factory(customer_id="42", language="DE")

    response = admin_client.get(url)

    assert response.status_code == 200


def test_admin_dialog_filters_and_search_select_the_right_rows(
    admin_client, consented_dialog, dialog_factory
):
    consented_dialog(dialog_id="yes-en", customer_id="42", language="EN")
    dialog_factory(dialog_id="no-de", customer_id="42", language="DE")
    consented_dialog(dialog_id="other", customer_id="7", language="EN")

    pending = admin_client.get("/admin/dialogs/dialog/?consented=no").context["cl"]
    searched = admin_client.get("/admin/dialogs/dialog/?q=42&language=EN").context["cl"]

    assert [d.dialog_id for d in pending.result_list] == ["no-de"]
    assert [d.dialog_id for d in searched.result_list] == ["yes-en"]


def test_admin_is_read_only_so_counts_and_ledger_stay_right(admin_client, consented_dialog):
    dialog = consented_dialog()

    assert admin_client.get("/admin/dialogs/dialog/add/").status_code == 403
    assert admin_client.post(f"/admin/dialogs/dialog/{dialog.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/dialogs/consentdecision/add/").status_code == 403
    assert admin_client.get(f"/admin/dialogs/dialog/{dialog.pk}/change/").status_code == 200
