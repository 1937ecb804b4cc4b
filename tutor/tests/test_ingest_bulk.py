"""POST /api/utterances/bulk, and client times (`created_at`) on every ingest path."""

import uuid
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from tutor import flush
from tutor.models import ErrorCount, LearnerError, Utterance
from tutor.tests.factories import ConversationFactory
from tutor.tests.helpers import aggregate_counts, realtime, row_counts

pytestmark = pytest.mark.django_db

TENSE = {"errorCategory": "Grammar", "errorSubCategory": "Tense"}
WORD = {"errorCategory": "Vocabulary", "errorSubCategory": "Wrong_Word"}
BULK = "/api/utterances/bulk"


@pytest.fixture
def post(ingest_client, django_capture_on_commit_callbacks):
    def _post(path: str, body: object):
        with django_capture_on_commit_callbacks(execute=True):
            return ingest_client.post(path, body, format="json")

    return _post


def item(conversation, errors=(TENSE,), **extra) -> dict:
    return {
        "conversation_id": str(conversation.id),
        "content": "hi",
        "errors": list(errors),
    } | extra


def test_bulk_stores_valid_items_once_and_reports_each_invalid_one(post, tax, sub, conversation):
    stored = item(conversation, id=str(uuid.uuid4()))
    post("/api/utterances", stored)
    items = [
        item(conversation, errors=[TENSE, WORD]),
        item(conversation, errors=[WORD, {"errorCategory": "Nope", "errorSubCategory": "x"}]),
        item(ConversationFactory.build()),  # unknown conversation
        stored,  # a retry of a stored utterance
        {**stored, "content": "changed"},  # its id with other content
        {"conversation_id": str(conversation.id)},  # no content
        item(conversation, errors=[WORD]),
        item(conversation, errors=[]),
    ]

    response = post(BULK, {"utterances": items})

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 400, 400, 200, 409, 400, 201, 201]
    assert results[1]["errors"][0]["attr"] == "utterances.1.errors.1.errorCategory"
    assert results[2]["errors"][0]["attr"] == "utterances.2.conversation_id"
    assert results[4]["errors"][0]["attr"] == "utterances.4.id"
    assert results[5]["errors"][0]["attr"] == "utterances.5.content"
    assert results[3]["id"] == stored["id"]
    assert response.json()["totals"] == {"created": 3, "existing": 1, "rejected": 4}
    assert Utterance.objects.count() == 4
    assert realtime(conversation.learner_id) == {
        sub("Grammar", "Tense"): 2,
        sub("Vocabulary", "Wrong_Word"): 2,
    }


def test_bulk_retried_batch_is_all_200_and_counts_nothing_twice(post, tax, conversation):
    items = [item(conversation, id=str(uuid.uuid4()), errors=[TENSE, WORD]) for _ in range(5)]

    first = post(BULK, {"utterances": items})
    again = post(BULK, {"utterances": items})

    assert [r["status"] for r in first.json()["results"]] == [201] * 5
    assert [r["status"] for r in again.json()["results"]] == [200] * 5
    assert [(r["id"], r["error_ids"]) for r in again.json()["results"]] == [
        (r["id"], r["error_ids"]) for r in first.json()["results"]
    ]
    assert LearnerError.objects.count() == 10
    flush.error_counts_flush()
    assert aggregate_counts() == row_counts()
    assert sum(realtime(conversation.learner_id).values()) == 10


def test_bulk_same_id_twice_in_one_request_is_stored_once(post, tax, conversation):
    twice = item(conversation, id=str(uuid.uuid4()))

    response = post(BULK, {"utterances": [twice, twice]})

    assert [r["status"] for r in response.json()["results"]] == [201, 200]
    assert LearnerError.objects.count() == 1


def test_bulk_over_the_limit_is_413_naming_utterances(post, tax, conversation, settings):
    settings.TUTOR_BULK_MAX = 3

    response = post(BULK, {"utterances": [item(conversation)] * 4})

    assert response.status_code == 413
    assert response.json()["errors"][0]["attr"] == "utterances"
    assert not Utterance.objects.exists()


def test_bulk_items_that_are_not_objects_are_400_each(post, tax, conversation):
    response = post(BULK, {"utterances": [True, None, 3, "x", [], item(conversation)]})

    assert [r["status"] for r in response.json()["results"]] == [400] * 5 + [201]


@pytest.mark.parametrize("body", [[], {"utterances": "x"}, {"other": []}])
def test_bulk_malformed_body_is_400(post, tax, body):
    response = post(BULK, body)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "utterances"


def test_bodies_nested_too_deep_are_400_not_500(ingest_client, tax, conversation):
    deep = "[" * 5000 + "]" * 5000
    item_json = f'{{"conversation_id": "{conversation.id}", "content": "hi", "x": {deep}}}'

    single = ingest_client.post("/api/utterances", item_json, content_type="application/json")
    bulk = ingest_client.post(
        BULK, f'{{"utterances": [{item_json}]}}', content_type="application/json"
    )

    assert single.status_code == 400
    assert bulk.status_code == 400
    assert not Utterance.objects.exists()


def test_bulk_query_count_does_not_grow_with_items(
    post, tax, conversation, django_assert_num_queries
):
    post(BULK, {"utterances": [item(conversation)]})  # warms the taxonomy and token caches

    # conversations lookup, then one statement for utterances and errors (in a transaction)
    with django_assert_num_queries(2):
        post(BULK, {"utterances": [item(conversation, errors=[TENSE, WORD])] * 50})


# --- Client times ------------------------------------------------------------------------------


def test_utterance_created_at_counts_in_that_utc_day(post, tax, sub, conversation, analyst_client):
    spoken = (timezone.now() - timedelta(days=3)).replace(microsecond=0)
    body = item(conversation, created_at=spoken.isoformat())

    response = post("/api/utterances", body)
    flush.error_counts_flush()

    assert response.status_code == 201
    assert response.json()["errors"][0]["created_at"].startswith(spoken.date().isoformat())
    assert ErrorCount.objects.get().day == spoken.astimezone(UTC).date()
    params = {"user_id": str(conversation.learner_id)}
    recent = analyst_client.get("/api/generate-exercise", {**params, "last_n_days": 2})
    wider = analyst_client.get("/api/generate-exercise", {**params, "last_n_days": 4})
    assert recent.json()["top_errors"] == []
    assert [e["errorFrequency"] for e in wider.json()["top_errors"]] == [1]


def test_error_created_at_of_its_own_wins_over_the_utterance_time(post, tax, conversation):
    own = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
    body = item(conversation, errors=[TENSE, {**WORD, "created_at": own.isoformat()}])

    post("/api/utterances", body)

    times = sorted(LearnerError.objects.values_list("created_at", flat=True))
    assert times[0] == own
    assert times[1] > own


@pytest.mark.parametrize(
    ("where", "shift", "attr"),
    [
        ("utterance", timedelta(minutes=10), "created_at"),
        ("utterance", -timedelta(days=31), "created_at"),
        ("error", timedelta(minutes=10), "errors.0.created_at"),
    ],
)
def test_client_time_outside_the_window_is_400_naming_the_field(
    post, tax, conversation, where, shift, attr
):
    at = (timezone.now() + shift).isoformat()
    body = item(conversation, created_at=at) if where == "utterance" else item(
        conversation, errors=[{**TENSE, "created_at": at}]
    )  # fmt: skip

    single = post("/api/utterances", body)
    in_bulk = post(BULK, {"utterances": [item(conversation), body]})

    assert single.status_code == 400
    assert {e["attr"] for e in single.json()["errors"]} == {attr}
    assert in_bulk.json()["results"][1]["errors"][0]["attr"] == f"utterances.1.{attr}"
    assert Utterance.objects.count() == 1  # only the bulk's valid item


def test_client_time_horizon_is_configurable(post, tax, conversation, settings):
    settings.TUTOR_MAX_AGE_DAYS = 1
    body = item(conversation, created_at=(timezone.now() - timedelta(days=2)).isoformat())

    response = post("/api/utterances", body)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "time_too_old"


def test_error_create_accepts_a_client_time(post, tax, learner):
    at = (timezone.now() - timedelta(hours=5)).replace(microsecond=0)

    response = post(
        "/api/errors", {"user_id": str(learner.id), **TENSE, "created_at": at.isoformat()}
    )

    assert response.status_code == 201
    assert LearnerError.objects.get().created_at == at
