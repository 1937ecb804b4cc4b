"""Safe retries: a client-chosen `id` makes every tutor write idempotent, counted once."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from tutor import flush
from tutor.models import Conversation, Learner, LearnerError, Utterance
from tutor.tests.factories import UtteranceFactory
from tutor.tests.helpers import aggregate_counts, realtime, row_counts

pytestmark = pytest.mark.django_db

TENSE = {"errorCategory": "Grammar", "errorSubCategory": "Tense"}
WORD = {"errorCategory": "Vocabulary", "errorSubCategory": "Wrong_Word"}


@pytest.fixture
def post(ingest_client, django_capture_on_commit_callbacks):
    def _post(path: str, body: dict):
        with django_capture_on_commit_callbacks(execute=True):
            return ingest_client.post(path, body, format="json")

    return _post


def attrs(response) -> set[str]:
    return {e["attr"] for e in response.json()["errors"]}


def utterance_body(conversation, **extra) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "conversation_id": str(conversation.id),
        "content": "I goes home.",
        "errors": [TENSE, WORD],
        **extra,
    }


def test_utterance_retry_with_same_id_is_200_with_the_stored_utterance_counted_once(
    post, tax, sub, conversation
):
    body = utterance_body(conversation)
    first = post("/api/utterances", body)

    again = post("/api/utterances", body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert first.json()["id"] == body["id"]
    assert LearnerError.objects.count() == 2
    assert realtime(conversation.learner_id) == {
        sub("Grammar", "Tense"): 1,
        sub("Vocabulary", "Wrong_Word"): 1,
    }


AN_HOUR_AGO = (timezone.now() - timedelta(hours=1)).isoformat()


@pytest.mark.parametrize(
    "change",
    [{"content": "I go home."}, {"errors": [TENSE, TENSE]}, {"created_at": AN_HOUR_AGO}],
    ids=["content", "errors", "time"],
)
def test_utterance_same_id_other_content_is_409_naming_id(post, tax, conversation, change):
    body = utterance_body(conversation)
    post("/api/utterances", body)

    response = post("/api/utterances", {**body, **change})

    assert response.status_code == 409
    assert attrs(response) == {"id"}
    assert Utterance.objects.count() == 1
    assert LearnerError.objects.count() == 2


def test_utterance_error_ids_are_kept_and_a_reused_one_is_409_naming_it(post, tax, conversation):
    error_id = str(uuid.uuid4())
    body = utterance_body(conversation, errors=[{**TENSE, "id": error_id}])
    created = post("/api/utterances", body)

    other = post(
        "/api/utterances", utterance_body(conversation, errors=[WORD, {**TENSE, "id": error_id}])
    )

    assert created.json()["errors"][0]["id"] == error_id
    assert other.status_code == 409
    assert attrs(other) == {"errors.1.id"}
    assert Utterance.objects.count() == 1  # the conflicting request stored nothing


def test_utterance_errors_add_retry_is_200_and_counts_once(post, tax, sub):
    utterance = UtteranceFactory()
    body = {"errors": [{**TENSE, "id": str(uuid.uuid4())}, {**WORD, "id": str(uuid.uuid4())}]}
    path = f"/api/utterances/{utterance.id}/errors"

    first, again = post(path, body), post(path, body)
    changed = post(path, {"errors": [{**WORD, "id": body["errors"][0]["id"]}]})

    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 409)
    assert attrs(changed) == {"errors.0.id"}
    assert again.json() == first.json()
    assert realtime(utterance.learner_id) == {
        sub("Grammar", "Tense"): 1,
        sub("Vocabulary", "Wrong_Word"): 1,
    }


def test_error_create_retry_is_200_and_other_content_is_409(post, tax, learner):
    body = {"id": str(uuid.uuid4()), "user_id": str(learner.id), **TENSE}

    first, again = post("/api/errors", body), post("/api/errors", body)
    changed = post("/api/errors", {**body, **WORD})

    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 409)
    assert again.json() == first.json()
    assert attrs(changed) == {"id"}
    assert LearnerError.objects.count() == 1


def test_user_create_retry_is_200_and_other_content_is_409(post):
    body = {"id": str(uuid.uuid4()), "username": "ann", "email": "ann@example.com"}

    first, again = post("/api/users", body), post("/api/users", body)
    changed = post("/api/users", {**body, "username": "bob", "email": "bob@example.com"})

    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 409)
    assert again.json() == first.json()
    assert first.json()["id"] == body["id"]
    assert attrs(changed) == {"id"}
    assert Learner.objects.count() == 1


def test_conversation_create_retry_is_200_and_other_user_is_409(post, learner):
    other = Learner.objects.create(username="zed", email="zed@example.com")
    body = {"id": str(uuid.uuid4()), "user_id": str(learner.id)}

    first, again = post("/api/conversations", body), post("/api/conversations", body)
    changed = post("/api/conversations", {**body, "user_id": str(other.id)})

    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 409)
    assert again.json() == first.json()
    assert attrs(changed) == {"id"}
    assert Conversation.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_identical_requests_racing_store_one_utterance_counted_once(tax, sub, conversation):
    from config.services import api_token_issue

    token = api_token_issue(username="racer", role="ingest").key
    body = utterance_body(conversation)
    statuses: list[int] = []
    start = threading.Barrier(4)

    def race() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            start.wait()
            statuses.append(client.post("/api/utterances", body, format="json").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 200, 200, 201]
    assert Utterance.objects.filter(pk=body["id"]).count() == 1
    assert realtime(conversation.learner_id) == {
        sub("Grammar", "Tense"): 1,
        sub("Vocabulary", "Wrong_Word"): 1,
    }
    flush.error_counts_flush()
    assert aggregate_counts() == row_counts()
