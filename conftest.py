"""Project-wide fixtures: API clients per role, and a clean Redis database for every test."""

import os
import time

import pytest
from rest_framework.test import APIClient

from config import redis as app_redis
from config.api import CachedTokenAuthentication
from config.services import api_token_issue


@pytest.fixture(autouse=True)
def _clean_redis():
    """Tests run against Redis database 15 (see `make test`); each starts empty."""
    client = app_redis.client()
    if client.connection_pool.connection_kwargs.get("db") != 15 and not os.environ.get(
        "TEST_REDIS_URL"
    ):
        pytest.exit("Tests flush Redis: run them with `make test` (Redis database 15).", 2)
    client.flushdb()
    CachedTokenAuthentication.forget_all()
    yield
    client.flushdb()


@pytest.fixture
def fresh_throttle_window() -> None:
    """Tests that count requests against a per-minute limit start well inside a window: the
    fixed windows roll over on the minute, and a test straddling it would see a fresh budget."""
    left = 60 - time.time() % 60
    if left < 5:
        time.sleep(left + 0.05)


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


def _client_for(role: str) -> APIClient:
    token = api_token_issue(username=f"test-{role}", role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def ingest_client(db) -> APIClient:
    return _client_for("ingest")


@pytest.fixture
def analyst_client(db) -> APIClient:
    return _client_for("analyst")


@pytest.fixture
def staff_client(db) -> APIClient:
    return _client_for("staff")
