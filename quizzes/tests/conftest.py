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
