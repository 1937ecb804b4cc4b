"""The token -> (user, roles) cache: hot paths skip auth queries; changes show within its life."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.api import CachedTokenAuthentication
from config.services import api_token_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_client() -> tuple[APIClient, Token]:
    token = api_token_issue(username="cache-user", role="analyst")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client, token


def test_token_cache_hit_costs_no_query(token_client, django_assert_num_queries):
    client, _ = token_client
    assert client.get("/api/me").json()["roles"] == ["analyst"]

    with django_assert_num_queries(0):
        assert client.get("/api/me").json()["roles"] == ["analyst"]


def test_token_cache_keeps_a_deleted_token_and_old_roles_within_its_lifetime(token_client):
    client, token = token_client
    client.get("/api/me")
    token.user.groups.add(Group.objects.get_or_create(name="staff")[0])
    token.delete()

    cached = client.get("/api/me")

    assert cached.status_code == 200
    assert cached.json()["roles"] == ["analyst"]


def test_token_cache_entry_expires_after_its_lifetime(token_client, settings):
    settings.API_TOKEN_CACHE_SECONDS = 0
    client, token = token_client
    client.get("/api/me")
    token.delete()

    assert client.get("/api/me").status_code == 401


def test_token_cache_forget_all_drops_every_entry(token_client):
    client, token = token_client
    client.get("/api/me")
    token.delete()

    CachedTokenAuthentication.forget_all()

    assert client.get("/api/me").status_code == 401
