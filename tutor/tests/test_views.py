import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tutor import taxonomy
from tutor.models import Exercise, LearnerError
from tutor.tests.factories import (
    LearnerErrorFactory,
    LearnerFactory,
    UtteranceFactory,
)

pytestmark = pytest.mark.django_db


def attrs(response) -> set[str]:
    return {e["attr"] for e in response.json()["errors"]}


@pytest.fixture
def post(ingest_client, django_capture_on_commit_callbacks):
    """POST as the ingest role, running after-commit work as a real commit would."""

    def _post(path: str, body: dict):
        with django_capture_on_commit_callbacks(execute=True):
            return ingest_client.post(path, body, format="json")

    return _post


def gen(client, **params):
    return client.get("/api/generate-exercise", params)


# --- users ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/users", "/api/users/"])
def test_users_create_returns_201_with_id(post, path):
    response = post(path, {"username": "ann", "email": "ann@example.com", "first_name": "Ann"})

    assert response.status_code == 201
    assert uuid.UUID(response.json()["id"])
    assert response.json()["username"] == "ann"


@pytest.mark.parametrize("field", ["username", "email"])
def test_users_create_duplicate_is_400_naming_the_field(post, field):
    LearnerFactory(username="ann", email="ann@example.com")
    body = {"username": "bob", "email": "bob@example.com"} | {
        field: {"username": "ann", "email": "ann@example.com"}[field]
    }

    response = post("/api/users", body)

    assert response.status_code == 400
    assert attrs(response) == {field}


def test_users_create_invalid_email_is_400(post):
    response = post("/api/users", {"username": "ann", "email": "not-an-email"})

    assert response.status_code == 400
    assert attrs(response) == {"email"}


def test_users_create_needs_ingest_role(analyst_client):
    response = analyst_client.post(
        "/api/users", {"username": "a", "email": "a@example.com"}, format="json"
    )

    assert response.status_code == 403


def test_users_retrieve_for_analyst_and_404_for_unknown(analyst_client):
    learner = LearnerFactory()

    found = analyst_client.get(f"/api/users/{learner.id}")
    missing = analyst_client.get(f"/api/users/{uuid.uuid4()}/")

    assert found.status_code == 200
    assert found.json()["email"] == learner.email
    assert missing.status_code == 404


def test_users_retrieve_without_token_is_401(anon_client):
    assert anon_client.get(f"/api/users/{uuid.uuid4()}").status_code == 401


# --- conversations, utterances, errors -------------------------------------------------------


def test_conversations_create(post, learner):
    response = post("/api/conversations", {"user_id": str(learner.id)})

    assert response.status_code == 201
    assert set(response.json()) == {"id", "user_id", "started_at"}
    assert response.json()["user_id"] == str(learner.id)


@pytest.mark.parametrize("user_id", [str(uuid.uuid4()), "nope", None])
def test_conversations_create_bad_user_is_400_naming_user_id(post, db, user_id):
    response = post("/api/conversations", {"user_id": user_id})

    assert response.status_code == 400
    assert attrs(response) == {"user_id"}


def test_utterances_create_returns_the_utterance_with_errors(post, tax, conversation):
    body = {
        "conversation_id": str(conversation.id),
        "content": "She go to school yesterday.",
        "errors": [
            {"errorCategory": "Grammar", "errorSubCategory": "Subject-Verb Agreement"},
            {"errorCategory": "grammar", "errorSubCategory": "tense"},
        ],
    }

    response = post("/api/utterances", body)

    assert response.status_code == 201
    data = response.json()
    assert set(data) == {"id", "conversation_id", "user_id", "content", "errors", "created_at"}
    assert data["user_id"] == str(conversation.learner_id)
    assert [(e["errorCategory"], e["errorSubCategory"]) for e in data["errors"]] == [
        ("Grammar", "Subject_Verb_Agreement"),
        ("Grammar", "Tense"),
    ]


@pytest.mark.parametrize("errors", [[], None])
def test_utterances_create_errors_may_be_empty_or_absent(post, tax, conversation, errors):
    body = {"conversation_id": str(conversation.id), "content": "Hello!"}
    if errors is not None:
        body["errors"] = errors

    response = post("/api/utterances", body)

    assert response.status_code == 201
    assert response.json()["errors"] == []


@pytest.mark.parametrize(
    ("error", "attr"),
    [
        (
            {"errorCategory": "Grammar", "errorSubCategory": "Wrong_Word"},
            "errors.0.errorSubCategory",
        ),
        ({"errorCategory": "Spelling", "errorSubCategory": "Tense"}, "errors.0.errorCategory"),
        ({"errorCategory": "Grammar"}, "errors.0.errorSubCategory"),
    ],
)
def test_utterances_create_bad_label_is_400_naming_the_field(post, tax, conversation, error, attr):
    body = {"conversation_id": str(conversation.id), "content": "x", "errors": [error]}

    response = post("/api/utterances", body)

    assert response.status_code == 400
    assert attrs(response) == {attr}
    assert not LearnerError.objects.exists()


def test_utterances_create_unknown_conversation_is_400(post, tax):
    response = post("/api/utterances", {"conversation_id": str(uuid.uuid4()), "content": "x"})

    assert response.status_code == 400
    assert attrs(response) == {"conversation_id"}


def test_utterances_create_query_count_is_pinned(
    post, tax, conversation, django_assert_num_queries
):
    body = {
        "conversation_id": str(conversation.id),
        "content": "x",
        "errors": [{"errorCategory": "Grammar", "errorSubCategory": "Tense"}] * 3,
    }
    post("/api/utterances", body)  # warms the taxonomy and token caches

    # one statement: conversation lookup, utterance insert and errors insert
    with django_assert_num_queries(1):
        assert post("/api/utterances", body).status_code == 201


def test_utterances_create_succeeds_when_redis_is_down(
    post, tax, conversation, redis_down, analyst_client
):
    body = {
        "conversation_id": str(conversation.id),
        "content": "x",
        "errors": [{"errorCategory": "Grammar", "errorSubCategory": "Tense"}],
    }

    with redis_down():
        response = post("/api/utterances", body)

    assert response.status_code == 201
    top = gen(analyst_client, user_id=str(conversation.learner_id)).json()["top_errors"]
    assert [(t["errorSubCategory"], t["errorFrequency"]) for t in top] == [("Tense", 1)]


def test_utterance_errors_add(post, tax):
    utterance = UtteranceFactory()

    response = post(
        f"/api/utterances/{utterance.id}/errors",
        {"errors": [{"errorCategory": "Vocabulary", "errorSubCategory": "plural"}]},
    )

    assert response.status_code == 201
    assert response.json()["errors"][0]["errorSubCategory"] == "Plural"
    assert LearnerError.objects.get().learner_id == utterance.learner_id


def test_utterance_errors_add_unknown_utterance_is_404(post, tax):
    response = post(
        f"/api/utterances/{uuid.uuid4()}/errors",
        {"errors": [{"errorCategory": "Grammar", "errorSubCategory": "Tense"}]},
    )

    assert response.status_code == 404


def test_errors_create_single_error(post, tax, learner):
    body = {
        "user_id": str(learner.id),
        "errorCategory": "Fluency/Content",
        "errorSubCategory": "Lack of content",
    }

    response = post("/api/errors", body)

    assert response.status_code == 201
    assert response.json()["errorSubCategory"] == "Lack_of_Content"
    assert response.json()["utterance_id"] is None


# --- generate-exercise -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({}, "user_id"),
        ({"user_id": "123"}, "user_id"),
        ({"user_id": str(uuid.UUID(int=1)), "top_n_errors": 0}, "top_n_errors"),
        ({"user_id": str(uuid.UUID(int=1)), "top_n_errors": 51}, "top_n_errors"),
        ({"user_id": str(uuid.UUID(int=1)), "top_n_errors": "x"}, "top_n_errors"),
        ({"user_id": str(uuid.UUID(int=1)), "last_n_days": 0}, "last_n_days"),
        ({"user_id": str(uuid.UUID(int=1)), "last_n_days": 3651}, "last_n_days"),
    ],
)
def test_generate_exercise_bad_params_are_400_naming_them(analyst_client, params, attr):
    response = gen(analyst_client, **params)

    assert response.status_code == 400
    assert attrs(response) == {attr}


def test_generate_exercise_unknown_user_is_404(analyst_client, tax):
    assert gen(analyst_client, user_id=str(uuid.uuid4())).status_code == 404


def test_generate_exercise_needs_analyst_role(ingest_client, learner):
    assert gen(ingest_client, user_id=str(learner.id)).status_code == 403


def test_generate_exercise_no_errors_is_empty_list(analyst_client, tax, learner):
    response = gen(analyst_client, user_id=str(learner.id), last_n_days=7)

    assert response.status_code == 200
    assert response.json() == {
        "user_id": str(learner.id),
        "top_n_errors": 3,
        "last_n_days": 7,
        "top_errors": [],
    }


def test_generate_exercise_reflects_an_error_right_after_its_201(
    post, analyst_client, tax, conversation
):
    body = {
        "conversation_id": str(conversation.id),
        "content": "x",
        "errors": [{"errorCategory": "Grammar", "errorSubCategory": "Preposition"}],
    }
    assert post("/api/utterances", body).status_code == 201

    top = gen(analyst_client, user_id=str(conversation.learner_id)).json()["top_errors"]

    assert len(top) == 1
    assert top[0]["errorCategory"] == "Grammar"
    assert top[0]["errorFrequency"] == 1
    assert 1 <= len(top[0]["exercises"]) <= 2
    assert set(top[0]["exercises"][0]) == {"id", "title", "instructions", "prompt", "difficulty"}


def test_generate_exercise_sorts_by_frequency_then_recency_then_name(
    analyst_client, tax, sub, learner
):
    now = timezone.now()
    for name, n, ago in [
        ("Tense", 3, 5),
        ("Article", 2, 1),
        ("Preposition", 2, 1),
        ("Adverb", 2, 0),
        ("Pronoun", 1, 0),
    ]:
        for _ in range(n):
            LearnerErrorFactory(
                learner=learner,
                subcategory_id=sub("Grammar", name),
                created_at=now - timedelta(minutes=ago),
                uncounted_batch=uuid.uuid4(),
            )

    top = gen(analyst_client, user_id=str(learner.id), top_n_errors=4).json()["top_errors"]

    assert [(t["errorSubCategory"], t["errorFrequency"]) for t in top] == [
        ("Tense", 3),
        ("Adverb", 2),
        ("Article", 2),
        ("Preposition", 2),
    ]


def test_generate_exercise_window_counts_utc_calendar_days_including_today(
    analyst_client, tax, sub, learner
):
    today = timezone.now().replace(hour=0, minute=0, second=1)
    LearnerErrorFactory(
        learner=learner,
        subcategory_id=sub("Grammar", "Tense"),
        created_at=today,
        uncounted_batch=uuid.uuid4(),
    )
    LearnerErrorFactory(
        learner=learner,
        subcategory_id=sub("Grammar", "Adverb"),
        created_at=today - timedelta(seconds=2),
        uncounted_batch=uuid.uuid4(),
    )

    one_day = gen(analyst_client, user_id=str(learner.id), last_n_days=1).json()["top_errors"]
    two_days = gen(analyst_client, user_id=str(learner.id), last_n_days=2).json()["top_errors"]
    all_time = gen(analyst_client, user_id=str(learner.id)).json()

    assert [t["errorSubCategory"] for t in one_day] == ["Tense"]
    assert len(two_days) == 2
    assert len(all_time["top_errors"]) == 2
    assert all_time["last_n_days"] is None


def test_generate_exercise_exercise_choice_is_deterministic(analyst_client, tax, sub, learner):
    LearnerErrorFactory(
        learner=learner, subcategory_id=sub("Grammar", "Tense"), uncounted_batch=uuid.uuid4()
    )

    easiest_then_oldest = list(
        Exercise.objects.filter(subcategory_id=sub("Grammar", "Tense"))
        .order_by("difficulty", "id")
        .values_list("id", flat=True)[:2]
    )

    first = gen(analyst_client, user_id=str(learner.id)).json()
    taxonomy.taxonomy_forget()  # the second answer is chosen afresh, not read from the cache
    second = gen(analyst_client, user_id=str(learner.id)).json()

    assert first == second
    assert len(first["top_errors"][0]["exercises"]) == 2
    assert [e["id"] for e in first["top_errors"][0]["exercises"]] == easiest_then_oldest


def test_generate_exercise_query_count_is_pinned(
    analyst_client, tax, learner, django_assert_num_queries
):
    gen(analyst_client, user_id=str(learner.id))  # warm caches

    with django_assert_num_queries(
        1
    ):  # learner + aggregates + uncounted rows + ledger, one statement
        assert gen(analyst_client, user_id=str(learner.id), last_n_days=30).status_code == 200
