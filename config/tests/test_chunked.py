"""Chunked request bodies (Transfer-Encoding: chunked, no Content-Length) under a real gunicorn:
Django's test client never chunks, and Django alone reads such a body as empty."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from django.conf import settings

from config.tests import servers
from quizzes.tests.factories import quiz_with_questions

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 2_000


@pytest.fixture
def base_url(transactional_db) -> Iterator[str]:
    port = servers.free_port()
    env = servers.app_env(
        DJANGO_SETTINGS_MODULE="config.tests.server_settings",
        DATABASE_URL=servers.current_database_url(),
        REDIS_URL=settings.REDIS_URL,
        MAX_REQUEST_BODY_BYTES=str(LIMIT),
    )
    with servers.app_processes() as make:
        make("gunicorn", servers.gunicorn_cmd(port, workers=1), env=env).start(port=port)
        yield f"http://127.0.0.1:{port}"


def chunks(data: bytes, size: int = 7) -> Iterator[bytes]:
    """A generator body: requests sends it chunked, without Content-Length."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def post_chunked(url: str, body: bytes) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    response = requests.post(url, data=chunks(body), headers=headers, timeout=10)
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in response.request.headers
    return response


def test_chunked_body_is_read(base_url):
    quiz = quiz_with_questions()

    response = post_chunked(
        f"{base_url}/api/quizzes/{quiz.code}/join", json.dumps({"nickname": "chunky"}).encode()
    )

    assert response.status_code == 201, response.text
    assert response.json()["nickname"] == "chunky"


def test_chunked_body_over_the_limit_is_413(base_url):
    quiz = quiz_with_questions()
    body = json.dumps({"nickname": "x" * (LIMIT + 10)}).encode()

    response = post_chunked(f"{base_url}/api/quizzes/{quiz.code}/join", body)

    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "payload_too_large"


def test_deeply_nested_chunked_body_is_400(base_url):
    quiz = quiz_with_questions()

    response = post_chunked(f"{base_url}/api/quizzes/{quiz.code}/join", b"[" * 900 + b"]" * 900)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "body"
