"""The production shape through one port (`make test-slow`): Debian's nginx with the repo's
proxy config in front of the test's own gunicorn and daphne, as docker-compose.yml runs them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from websockets.sync.client import connect

from config.services import api_token_issue
from config.tests import nginx, servers
from config.tests.test_deploy import tool
from quizzes.tests.factories import quiz_with_questions

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@dataclass
class Proxy:
    base: str
    port: int


@pytest.fixture
def proxy(transactional_db) -> Iterator[Proxy]:
    tool("nginx", nginx.NGINX)
    web_port, ws_port = servers.free_port(), servers.free_port()
    env = servers.app_env(
        DJANGO_SETTINGS_MODULE="config.tests.server_settings",
        DATABASE_URL=servers.current_database_url(),
        REDIS_URL=settings.REDIS_URL,
        NUM_PROXIES="1",  # as docker-compose.yml sets it behind nginx
    )
    daphne = [*servers.daphne_cmd(ws_port), "--proxy-headers"]
    with servers.app_processes() as make:
        make("gunicorn", servers.gunicorn_cmd(web_port), env=env).start(port=web_port)
        make("daphne", daphne, env=env).start(port=ws_port)
        with nginx.running(web=f"127.0.0.1:{web_port}", ws=f"127.0.0.1:{ws_port}") as port:
            yield Proxy(f"http://127.0.0.1:{port}", port)


def test_rest_api_through_the_proxy(proxy):
    token = api_token_issue(username="proxy-ingest", role="ingest").key
    headers = {"Authorization": f"Token {token}"}

    created = requests.post(
        f"{proxy.base}/api/users",
        json={"username": "via-proxy", "email": "via@example.com"},
        headers=headers,
        timeout=10,
    )
    chunked = requests.post(
        f"{proxy.base}/api/users",
        data=iter([b'{"username": "chunk', b'ed", "email": "c@example.com"}']),
        headers={**headers, "Content-Type": "application/json"},
        timeout=10,
    )

    assert created.status_code == 201, created.text
    assert created.headers["X-Request-ID"]
    assert chunked.status_code == 201, chunked.text
    assert "Content-Security-Policy" in requests.get(f"{proxy.base}/api/docs", timeout=10).headers


def test_metrics_are_refused_through_the_proxy(proxy):
    response = requests.get(f"{proxy.base}/metrics", timeout=10)

    assert response.status_code == 403


def test_websocket_through_the_proxy(proxy):
    quiz = quiz_with_questions()
    origin = f"http://127.0.0.1:{proxy.port}"

    url = f"ws://127.0.0.1:{proxy.port}/ws/quizzes/{quiz.code}/"
    with connect(url, origin=origin, open_timeout=10) as socket:
        first = json.loads(socket.recv(timeout=10))

    assert first["type"] == "leaderboard"


def test_admin_login_and_static_files_through_the_proxy(proxy):
    get_user_model().objects.create_superuser("boss", "boss@example.com", "right-pass-9")
    session = requests.Session()
    page = session.get(f"{proxy.base}/admin/login/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    login = session.post(
        f"{proxy.base}/admin/login/?next=/admin/",
        data={"username": "boss", "password": "right-pass-9", "csrfmiddlewaretoken": csrf},
        headers={"Origin": proxy.base, "Referer": f"{proxy.base}/admin/login/"},
        timeout=10,
    )
    css = re.search(r'href="(/static/admin/css/[^"]+)"', page.text).group(1)
    static = session.get(f"{proxy.base}{css}", timeout=10)
    quiz_css = session.get(f"{proxy.base}/static/quizzes/quizzes.css", timeout=10)

    assert login.status_code == 200, login.text[:500]
    assert login.url == f"{proxy.base}/admin/"
    assert "Site administration" in login.text
    assert static.status_code == 200
    assert static.headers["Content-Type"].startswith("text/css")
    assert quiz_css.status_code == 200
