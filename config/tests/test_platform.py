import io
import os
import subprocess
import sys
import threading

import pytest
from asgiref.sync import async_to_sync
from celery.contrib.testing.worker import start_worker
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from config import redis as app_redis
from config.celery import app as celery_app

received = threading.Event()


@celery_app.task(name="config.tests.mark_received")
def mark_received(key: str) -> None:
    app_redis.client().set(key, "done")
    received.set()


@pytest.mark.django_db
def test_issue_token_creates_user_with_role_and_prints_token_last():
    out = io.StringIO()

    call_command(
        "issue_token", "chat-backend", "--role", "ingest", stdout=out, stderr=io.StringIO()
    )

    user = get_user_model().objects.get(username="chat-backend")
    assert list(user.groups.values_list("name", flat=True)) == ["ingest"]
    assert out.getvalue().strip().splitlines()[-1] == Token.objects.get(user=user).key


@pytest.mark.django_db
def test_issue_token_is_idempotent():
    first, second = io.StringIO(), io.StringIO()

    call_command("issue_token", "svc", "--role", "analyst", stdout=first, stderr=io.StringIO())
    call_command("issue_token", "svc", "--role", "analyst", stdout=second, stderr=io.StringIO())

    assert first.getvalue() == second.getvalue()


@pytest.mark.django_db
def test_openapi_schema_builds_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


@pytest.mark.django_db(transaction=True)
def test_celery_worker_runs_a_task_through_real_redis_broker():
    received.clear()
    with start_worker(celery_app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
        mark_received.delay("platform:test:celery")

        assert received.wait(timeout=20)

    assert app_redis.client().get("platform:test:celery") == "done"


def test_channel_layer_round_trips_through_redis():
    layer = get_channel_layer()

    async def round_trip() -> dict:
        channel = await layer.new_channel()
        await layer.group_add("platform-test", channel)
        await layer.group_send("platform-test", {"type": "probe.message", "n": 1})
        message = await layer.receive(channel)
        await layer.group_discard("platform-test", channel)
        await layer.flush()
        return message

    assert async_to_sync(round_trip)() == {"type": "probe.message", "n": 1}


def test_check_deploy_is_clean_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_HTTPS": "true",
        "DJANGO_SECRET_KEY": "x7!" + "k9Qz-production-grade-secret-" * 3,
        "DJANGO_ALLOWED_HOSTS": "api.example.com",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
