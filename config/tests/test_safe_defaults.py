"""Safe defaults: login lockout, /metrics for internal networks only, reference data that never
overwrites an admin's edit, and the demo admin's password."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from config.health import metrics_client_allowed
from tutor.models import Exercise

pytestmark = pytest.mark.django_db

LOGIN_PAGES = ["/admin/login/", "/api-auth/login/"]


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("boss", "boss@example.com", "right-pass-9")


def _login(client: Client, url: str, password: str):
    client.get(url)  # the CSRF cookie
    return client.post(
        url,
        {
            "username": "boss",
            "password": password,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )


@pytest.mark.parametrize("url", LOGIN_PAGES)
def test_login_locks_out_after_repeated_failures(admin_user, settings, url):
    client = Client(enforce_csrf_checks=True)
    failures = [_login(client, url, f"wrong-{n}") for n in range(settings.AXES_FAILURE_LIMIT)]

    locked = _login(client, url, "right-pass-9")

    assert [r.status_code for r in failures[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert locked.status_code == 429
    assert locked.json()["errors"][0]["code"] == "login_locked_out"
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("url", LOGIN_PAGES)
def test_login_with_the_right_password_before_the_limit_works(admin_user, url):
    client = Client(enforce_csrf_checks=True)
    _login(client, url, "wrong")

    response = _login(client, url, "right-pass-9")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(admin_user.pk)


def test_lockout_is_per_client_address(admin_user, settings):
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(attacker, "/admin/login/", f"wrong-{n}")

    response = _login(Client(REMOTE_ADDR="198.51.100.7"), "/admin/login/", "right-pass-9")

    assert response.status_code == 302


def test_api_tokens_are_not_subject_to_login_lockout(ingest_client, settings):
    for n in range(settings.AXES_FAILURE_LIMIT + 1):
        Client().post("/admin/login/", {"username": "demo-ingest", "password": f"x{n}"})

    assert ingest_client.get("/api/me").status_code == 200


# --- /metrics --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("10.1.2.3", True),
        ("172.20.0.5", True),
        ("192.168.1.10", True),
        ("::ffff:10.0.0.1", True),
        ("8.8.8.8", False),
        ("172.32.0.1", False),
        ("2001:db8::1", False),
        ("", False),
        ("not-an-ip", False),
    ],
)
def test_metrics_client_allowed(address, allowed):
    assert metrics_client_allowed(address) is allowed


def test_metrics_refuses_a_public_address_even_with_a_private_forwarded_for():
    client = Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="127.0.0.1")

    response = client.get("/metrics")

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"


def test_metrics_serves_the_internal_network(settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    inside = Client(REMOTE_ADDR="10.9.9.9").get("/metrics")
    loopback = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")

    assert inside.status_code == 200
    assert b"django_http_requests" in inside.content
    assert loopback.status_code == 403  # the configured list replaces the default


# --- Reference data --------------------------------------------------------------------------
def test_load_reference_data_keeps_an_admin_edit_and_restores_a_deleted_row():
    call_command("load_reference_data", verbosity=0)
    total = Exercise.objects.count()
    edited, deleted = Exercise.objects.order_by("pk")[:2]
    Exercise.objects.filter(pk=edited.pk).update(title="Edited in the admin")
    Exercise.objects.filter(pk=deleted.pk).delete()

    call_command("load_reference_data", verbosity=0)

    assert Exercise.objects.get(pk=edited.pk).title == "Edited in the admin"
    assert Exercise.objects.filter(pk=deleted.pk).exists()
    assert Exercise.objects.count() == total


def test_load_reference_data_moves_the_sequence_past_the_fixture_keys():
    call_command("load_reference_data", verbosity=0)
    highest = Exercise.objects.order_by("-pk").first()

    copy = Exercise.objects.create(
        subcategory=highest.subcategory,
        title="Admin's own",
        instructions="i",
        prompt="p",
        answer="a",
        difficulty=1,
    )

    assert copy.pk > highest.pk


# --- Demo admin ------------------------------------------------------------------------------
def test_seed_demo_uses_the_given_password_and_never_admin(monkeypatch, capsys):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "given-pass-123")

    call_command("seed_demo")

    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("given-pass-123")
    assert not admin.check_password("admin")
    assert "admin / given-pass-123" in capsys.readouterr().out


def test_seed_demo_without_a_password_makes_a_random_one_and_keeps_a_changed_one(
    monkeypatch, capsys
):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    call_command("seed_demo")
    first = capsys.readouterr().out.split("user admin / ")[1].split()[0]
    admin = get_user_model().objects.get(username="admin")

    call_command("seed_demo")

    assert len(first) >= 16
    assert admin.check_password(first)
    assert "(unchanged)" in capsys.readouterr().out
    assert get_user_model().objects.get(username="admin").check_password(first)
