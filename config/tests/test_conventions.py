import json

import pytest
from django.test import override_settings

from config.api import websocket_url
from config.testing import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.urls("config.tests.urls")]

VALID = {"count": 1, "colour": "red"}


@pytest.mark.parametrize("path", ["/test/probe", "/test/probe/"])
def test_api_path_answers_with_and_without_trailing_slash_without_redirect(ingest_client, path):
    response = ingest_client.post(path, VALID, format="json")

    assert response.status_code == 201
    assert response.json() == VALID


def test_missing_token_is_401_with_error_shape(anon_client):
    response = anon_client.post("/test/probe", VALID, format="json")

    assert response["WWW-Authenticate"].startswith("Token")
    assert_error(response, status=401, code="not_authenticated", only=True)


def test_invalid_token_is_401(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = anon_client.post("/test/probe", VALID, format="json")

    assert_error(response, status=401, code="authentication_failed", only=True)


def test_wrong_role_is_403(analyst_client):
    response = analyst_client.post("/test/probe", VALID, format="json")

    assert_error(response, status=403, code="role_required", only=True)


def test_malformed_json_is_400_not_500(ingest_client):
    response = ingest_client.post("/test/probe", '{"count": 1,', content_type="application/json")

    assert_error(response, status=400, code="parse_error", only=True)


def test_wrong_type_is_400_naming_the_field(ingest_client):
    response = ingest_client.post("/test/probe", {"count": "many", "colour": "red"}, format="json")

    assert response.json()["type"] == "validation_error"
    assert_error(response, status=400, code="invalid", attr="count")


def test_unknown_enum_value_is_400_naming_the_field(ingest_client):
    response = ingest_client.post("/test/probe", {"count": 1, "colour": "blue"}, format="json")

    assert_error(response, status=400, code="invalid_choice", attr="colour")


def test_body_that_is_not_an_object_is_400(ingest_client):
    response = ingest_client.post("/test/probe", "[1, 2]", content_type="application/json")

    assert_error(response, status=400, code="invalid", attr="non_field_errors")


@override_settings(MAX_REQUEST_BODY_BYTES=1024)
def test_oversized_body_is_413(ingest_client):
    body = json.dumps({**VALID, "padding": "x" * 2048})

    response = ingest_client.post("/test/probe", body, content_type="application/json")

    assert_error(response, status=413, code="payload_too_large", only=True)


def test_unknown_url_is_404_with_error_shape(anon_client):
    response = anon_client.get("/no/such/thing")

    assert_error(response, status=404, code="not_found", only=True)


def test_wrong_method_is_405_with_error_shape(ingest_client):
    response = ingest_client.delete("/test/probe")

    assert_error(response, status=405, code="method_not_allowed", only=True)


def test_request_id_is_echoed_or_generated(anon_client):
    given = anon_client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    generated = anon_client.get("/healthz")

    assert given["X-Request-ID"] == "abc-123"
    assert len(generated["X-Request-ID"]) == 32


def test_me_reports_username_and_roles(ingest_client):
    response = ingest_client.get("/api/me/")

    assert response.status_code == 200
    assert response.json() == {"username": "test-ingest", "roles": ["ingest"]}


def test_root_redirects_to_swagger_ui(anon_client):
    response = anon_client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/api/docs"


@pytest.mark.parametrize("path", ["/api/schema", "/api/schema/", "/api/docs", "/api/redoc/"])
def test_docs_are_served(anon_client, path):
    response = anon_client.get(path)

    assert response.status_code == 200


def test_browsable_api_renders_html(ingest_client):
    response = ingest_client.get("/api/me", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert b"<html" in response.content.lower()


def test_metrics_expose_per_endpoint_counts_and_latency(anon_client):
    anon_client.get("/healthz")

    body = anon_client.get("/metrics").content.decode()

    assert "django_http_requests_latency_seconds_by_view_method_bucket" in body
    assert "django_http_responses_total_by_status_view_method_total" in body


@pytest.mark.parametrize(
    ("public_url", "ws_port", "expected"),
    [
        ("", 0, "ws://testserver/ws/quizzes/ABC234/"),
        ("", 8001, "ws://testserver:8001/ws/quizzes/ABC234/"),
        ("wss://live.example.com/", 0, "wss://live.example.com/ws/quizzes/ABC234/"),
    ],
)
def test_websocket_url_tells_clients_where_the_websocket_server_is(
    rf, settings, public_url, ws_port, expected
):
    settings.WS_PUBLIC_URL, settings.WS_PORT = public_url, ws_port

    url = websocket_url(rf.get("/"), "/ws/quizzes/ABC234/")

    assert url == expected
