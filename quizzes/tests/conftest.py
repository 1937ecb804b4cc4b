import pytest
from rest_framework.test import APIClient

from quizzes.tests.factories import participant_make, quiz_with_questions


@pytest.fixture
def quiz(db):
    return quiz_with_questions()


@pytest.fixture
def player(quiz):
    """(participant, APIClient with its bearer token) in `quiz`."""
    participant, token = participant_make(quiz=quiz, nickname="ada")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return participant, client


def bearer_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """Put the role groups back after a transactional test's flush.

    TransactionTestCase-style tests end by truncating every table, including the role groups the
    platform's migration created; later tests (the role clients in the root conftest) need them.
    A hook, not a fixture: it runs after every fixture teardown, so after the flush.
    """
    result = yield
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        from django.contrib.auth.models import Group
        from pytest_django.plugin import blocking_manager_key

        from config.api import ROLES

        with item.config.stash[blocking_manager_key].unblock():
            for role in ROLES:
                Group.objects.get_or_create(name=role)
    return result
