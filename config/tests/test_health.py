import pytest
from django.db import connection
from django.test import override_settings

from config import redis as app_redis


def test_healthz_is_ok_without_dependencies(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_postgres_and_redis_answer(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"postgres": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_naming_redis_when_it_is_down(client):
    app_redis.forget_clients()
    try:
        with override_settings(REDIS_URL="redis://127.0.0.1:1/0", REDIS_SOCKET_TIMEOUT=0.2):
            response = client.get("/readyz")
    finally:
        app_redis.forget_clients()

    assert response.status_code == 503
    body = response.json()
    assert body["type"] == "server_error"
    assert [e["attr"] for e in body["errors"]] == ["redis"]
    assert body["checks"] == {"postgres": "ok", "redis": "down"}


@pytest.mark.django_db(transaction=True)
def test_readyz_is_503_naming_postgres_when_it_is_down(client):
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        response = client.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port

    assert response.status_code == 503
    assert [e["code"] for e in response.json()["errors"]] == ["postgres_unavailable"]
    assert response.json()["checks"]["redis"] == "ok"
