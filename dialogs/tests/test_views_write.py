"""The write contract: POST /data/{customerId}/{dialogId}, POST /consents/{dialogId}, DELETEs."""

import json

import pytest
from rest_framework.throttling import ScopedRateThrottle

from config.testing import assert_error
from dialogs.models import ConsentDecision, Dialog, DialogCount

pytestmark = pytest.mark.django_db

BODY = {"text": "Hello, I need help with my order.", "language": "en"}


def post_dialog(client, customer="42", dialog="d1", body=None, slash=""):
    return client.post(f"/data/{customer}/{dialog}{slash}", body or BODY, format="json")


def consent(client, dialog_id, body, slash=""):
    raw = json.dumps(body)
    return client.post(f"/consents/{dialog_id}{slash}", raw, content_type="application/json")


# --- POST /data/{customerId}/{dialogId} -----------------------------------------------------
@pytest.mark.parametrize("slash", ["", "/"])
def test_dialog_create_is_201_with_exact_shape_and_unconsented(ingest_client, slash):
    response = post_dialog(ingest_client, slash=slash)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"customerId", "dialogId", "text", "language", "createdAt"}
    assert body["customerId"] == "42"
    assert body["dialogId"] == "d1"
    assert body["language"] == "EN"
    assert body["text"] == BODY["text"]
    assert body["createdAt"].endswith("Z")
    assert Dialog.objects.get(dialog_id="d1").consented_at is None


def test_dialog_create_identical_retry_is_200_with_stored_dialog(ingest_client):
    first = post_dialog(ingest_client).json()

    retry = post_dialog(ingest_client, body={**BODY, "language": "EN"})

    assert retry.status_code == 200
    assert retry.json() == first
    assert Dialog.objects.count() == 1


@pytest.mark.parametrize(
    ("customer", "body"),
    [
        ("43", BODY),
        ("42", {**BODY, "text": "something else"}),
        ("42", {**BODY, "language": "DE"}),
    ],
)
def test_dialog_create_difference_under_known_dialog_id_is_409(ingest_client, customer, body):
    post_dialog(ingest_client)

    response = post_dialog(ingest_client, customer=customer, body=body)

    assert_error(response, status=409, code="dialog_conflict", attr="dialogId")
    assert Dialog.objects.get(dialog_id="d1").text == BODY["text"]


def test_dialog_create_after_revocation_is_409_and_text_stays_gone(ingest_client):
    post_dialog(ingest_client)
    consent(ingest_client, "d1", False)

    response = post_dialog(ingest_client)

    assert_error(response, status=409, code="dialog_erased", attr="dialogId")
    assert not Dialog.objects.filter(dialog_id="d1").exists()


@pytest.mark.parametrize(
    ("customer", "dialog", "attr"),
    [
        ("a b", "d1", "customerId"),
        ("x" * 65, "d1", "customerId"),
        ("42", "d%2A", "dialogId"),
        ("42", "é", "dialogId"),
        ("42", "y" * 65, "dialogId"),
    ],
)
def test_dialog_create_invalid_ids_are_400_naming_the_id(ingest_client, customer, dialog, attr):
    response = post_dialog(ingest_client, customer=customer, dialog=dialog)

    assert_error(response, status=400, code="invalid", attr=attr)


def test_dialog_create_accepts_integer_like_and_punctuated_ids(ingest_client):
    response = post_dialog(ingest_client, customer="1234", dialog="A.b_c-9" + "x" * 57)

    assert response.status_code == 201
    assert response.json()["dialogId"] == "A.b_c-9" + "x" * 57


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"language": "EN"}, "text"),
        ({"text": "", "language": "EN"}, "text"),
        ({"text": "x" * 100_001, "language": "EN"}, "text"),
        ({"text": 12, "language": "EN"}, "text"),
        ({"text": None, "language": "EN"}, "text"),
        ({"text": "nul \u0000 byte", "language": "EN"}, "text"),
        ({"text": "hi"}, "language"),
        ({"text": "hi", "language": "ENG"}, "language"),
        ({"text": "hi", "language": "E1"}, "language"),
        ({"text": "hi", "language": "XX"}, "language"),
        ({"text": "hi", "language": 12}, "language"),
    ],
)
def test_dialog_create_invalid_body_is_400_naming_the_field(ingest_client, body, attr):
    response = post_dialog(ingest_client, body=body)

    assert_error(response, status=400, attr=attr)
    assert not Dialog.objects.exists()


def test_dialog_create_lone_surrogate_is_400_not_500(ingest_client):
    raw = '{"text": "bad \\ud800 text", "language": "EN"}'

    response = ingest_client.post("/data/42/d1", raw, content_type="application/json")

    assert_error(response, status=400, attr="text")


def test_dialog_create_accepts_text_of_exactly_100000_chars(ingest_client):
    response = post_dialog(ingest_client, body={"text": "é" * 100_000, "language": "fr"})

    assert response.status_code == 201
    assert len(Dialog.objects.get().text) == 100_000


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "true", "null"])
def test_dialog_create_body_must_be_an_object(ingest_client, raw):
    response = ingest_client.post("/data/42/d1", raw, content_type="application/json")

    assert_error(response, status=400)
    assert not Dialog.objects.exists()


def test_dialog_create_malformed_json_is_400(ingest_client):
    response = ingest_client.post("/data/42/d1", '{"text": ', content_type="application/json")

    assert_error(response, status=400, code="parse_error")


# --- roles ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/data/42/d1"),
        ("delete", "/data/42/d1"),
        ("delete", "/data/42"),
        ("post", "/consents/d1"),
    ],
)
def test_writes_need_the_ingest_role(analyst_client, anon_client, method, path):
    forbidden = getattr(analyst_client, method)(path, BODY, format="json")
    anonymous = getattr(anon_client, method)(path, BODY, format="json")

    assert_error(forbidden, status=403, code="role_required")
    assert anonymous.status_code == 401


@pytest.mark.parametrize("path", ["/data/42/d1", "/data", "/data/"])
def test_reads_need_the_analyst_role(ingest_client, anon_client, path):
    assert_error(ingest_client.get(path), status=403, code="role_required")
    assert anon_client.get(path).status_code == 401


def test_write_endpoints_use_the_ingest_throttle_scope():
    from dialogs import views

    for view in (views.DialogDetailView, views.CustomerDialogsDeleteView, views.ConsentRecordView):
        assert view.throttle_scope == "ingest"


def test_writes_are_throttled_reads_are_not(
    ingest_client, analyst_client, monkeypatch, fresh_throttle_window
):
    rates = {**ScopedRateThrottle.THROTTLE_RATES, "ingest": "2/min"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)

    codes = [post_dialog(ingest_client, dialog=f"d{i}").status_code for i in range(3)]
    reads = [analyst_client.get("/data/").status_code for _ in range(3)]

    assert codes == [201, 201, 429]
    assert reads == [200, 200, 200]


# --- POST /consents/{dialogId} --------------------------------------------------------------
@pytest.mark.parametrize(
    "body", [True, {"approved": True}, {"approved": "true"}], ids=["bare", "bool", "string"]
)
@pytest.mark.parametrize("slash", ["", "/"])
def test_consent_granted_is_200_with_the_dialog(ingest_client, body, slash):
    created = post_dialog(ingest_client).json()

    response = consent(ingest_client, "d1", body, slash=slash)

    assert response.status_code == 200
    assert response.json() == created
    assert Dialog.objects.get(dialog_id="d1").consented_at is not None
    assert DialogCount.objects.get(customer_id="42", language="EN").consented == 1


def test_consent_granted_twice_is_harmless_and_counted_once(ingest_client):
    post_dialog(ingest_client)

    first = consent(ingest_client, "d1", True)
    second = consent(ingest_client, "d1", True)

    assert first.status_code == second.status_code == 200
    assert DialogCount.objects.get(customer_id="42", language="EN").consented == 1
    assert ConsentDecision.objects.filter(dialog_id="d1", granted=True).count() == 2


@pytest.mark.parametrize(
    "body", [False, {"approved": False}, {"approved": "false"}], ids=["bare", "bool", "string"]
)
def test_consent_revoked_erases_dialog(ingest_client, body):
    post_dialog(ingest_client, body={"text": "my secret phone number", "language": "EN"})
    consent(ingest_client, "d1", True)

    response = consent(ingest_client, "d1", body)

    assert response.status_code == 200
    assert response.json() == {"dialogId": "d1", "deleted": True}
    assert not Dialog.objects.filter(text__contains="secret").exists()
    assert DialogCount.objects.get(customer_id="42", language="EN").consented == 0
    decisions = list(ConsentDecision.objects.filter(dialog_id="d1").values())
    assert [d["granted"] for d in decisions] == [False, True]  # newest first
    assert all("secret" not in str(d) for d in decisions)


def test_consent_unknown_dialog_is_404(ingest_client):
    assert_error(consent(ingest_client, "nope", True), status=404, code="dialog_not_found")
    assert_error(consent(ingest_client, "nope", False), status=404, code="dialog_not_found")


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ("true", "non_field_errors"),
        (1, "non_field_errors"),
        (0, "non_field_errors"),
        (None, "non_field_errors"),
        ([True], "non_field_errors"),
        ({}, "approved"),
        ({"approved": 1}, "approved"),
        ({"approved": "yes"}, "approved"),
        ({"approved": None}, "approved"),
        ({"granted": True}, "approved"),
    ],
)
def test_consent_any_other_body_is_400(ingest_client, body, attr):
    post_dialog(ingest_client)

    response = consent(ingest_client, "d1", body)

    assert_error(response, status=400, attr=attr)
    assert Dialog.objects.get(dialog_id="d1").consented_at is None


def test_consent_empty_body_is_400(ingest_client):
    post_dialog(ingest_client)

    response = ingest_client.post("/consents/d1", "", content_type="application/json")

    assert_error(response, status=400)


def test_consent_invalid_dialog_id_is_400(ingest_client):
    assert_error(consent(ingest_client, "a%20b", True), status=400, attr="dialogId")


# --- GET / DELETE /data/{customerId}/{dialogId} ---------------------------------------------
@pytest.mark.parametrize("slash", ["", "/"])
def test_dialog_get_is_200_only_when_consented(ingest_client, analyst_client, slash):
    created = post_dialog(ingest_client).json()
    before = analyst_client.get(f"/data/42/d1{slash}")
    consent(ingest_client, "d1", True)

    after = analyst_client.get(f"/data/42/d1{slash}")

    assert_error(before, status=404, code="dialog_not_found")
    assert after.status_code == 200
    assert after.json() == created


def test_dialog_get_of_another_customer_is_404(ingest_client, analyst_client):
    post_dialog(ingest_client)
    consent(ingest_client, "d1", True)

    assert_error(analyst_client.get("/data/43/d1"), status=404)


def test_dialog_get_invalid_id_is_400(analyst_client):
    assert_error(analyst_client.get("/data/42/a%20b"), status=400, attr="dialogId")


@pytest.mark.parametrize("slash", ["", "/"])
def test_dialog_delete_is_204_then_404(ingest_client, slash):
    post_dialog(ingest_client)
    consent(ingest_client, "d1", True)

    first = ingest_client.delete(f"/data/42/d1{slash}")
    second = ingest_client.delete(f"/data/42/d1{slash}")

    assert first.status_code == 204
    assert_error(second, status=404)
    assert not Dialog.objects.exists()
    assert DialogCount.objects.get(customer_id="42", language="EN").consented == 0
    erasure = ConsentDecision.objects.get(dialog_id="d1", source="erasure")
    assert erasure.granted is False


def test_dialog_delete_needs_the_right_customer(ingest_client):
    post_dialog(ingest_client)

    response = ingest_client.delete("/data/43/d1")

    assert_error(response, status=404)
    assert Dialog.objects.filter(dialog_id="d1").exists()


@pytest.mark.parametrize("slash", ["", "/"])
def test_customer_delete_erases_all_their_dialogs(ingest_client, slash):
    for i in range(3):
        post_dialog(ingest_client, dialog=f"d{i}")
    post_dialog(ingest_client, dialog="de", body={"text": "Hallo", "language": "de"})
    post_dialog(ingest_client, customer="7", dialog="other")
    for dialog_id in ("d0", "d1", "de", "other"):
        consent(ingest_client, dialog_id, True)

    response = ingest_client.delete(f"/data/42{slash}")

    assert response.status_code == 200
    assert response.json() == {"customerId": "42", "deleted": 4}
    assert list(Dialog.objects.values_list("dialog_id", flat=True)) == ["other"]
    counts = dict(DialogCount.objects.values_list("customer_id", "consented"))
    assert sum(c.consented for c in DialogCount.objects.filter(customer_id="42")) == 0
    assert counts["7"] == 1
    assert ConsentDecision.objects.filter(customer_id="42", source="erasure").count() == 4


def test_customer_delete_of_unknown_customer_is_200_zero(ingest_client):
    response = ingest_client.delete("/data/nobody")

    assert response.status_code == 200
    assert response.json() == {"customerId": "nobody", "deleted": 0}


def test_customer_delete_invalid_id_is_400(ingest_client):
    assert_error(ingest_client.delete("/data/a%20b"), status=400, attr="customerId")


def test_dialog_create_query_count_is_pinned(ingest_client, django_assert_num_queries):
    post_dialog(ingest_client, dialog="warm-up")  # token cache warm: auth costs no query

    # Existing row? Revoked before? INSERT; the savepoint pair is the atomic block, nested in
    # the test's transaction.
    with django_assert_num_queries(5) as captured:
        assert post_dialog(ingest_client).status_code == 201
    with django_assert_num_queries(1):
        assert post_dialog(ingest_client).status_code == 200

    assert "INSERT" in captured.captured_queries[3]["sql"]
