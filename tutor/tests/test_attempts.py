import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from dialogs import cursors as dialog_cursors
from tutor.models import AttemptCount, Exercise, ExerciseAttempt

pytestmark = pytest.mark.django_db


def attrs(response) -> set[str]:
    return {e["attr"] for e in response.json()["errors"]}


@pytest.fixture
def exercise(tax, sub):
    return tax.pool[sub("Grammar", "Tense")][0]


@pytest.fixture
def attempt(ingest_client, learner, exercise):
    def _post(**changes):
        body = {"user_id": str(learner.id), "exercise_id": exercise.id, "correct": True}
        body |= changes
        return ingest_client.post("/api/exercise-attempts", body, format="json")

    return _post


# --- POST /api/exercise-attempts -------------------------------------------------------------


def test_attempt_create_is_201_with_feedback_and_counts_once(attempt, learner, exercise):
    response = attempt(answer="had already left", correct=False)

    assert response.status_code == 201
    body = response.json()
    assert body["user_id"] == str(learner.id)
    assert body["exercise_id"] == exercise.id
    assert body["correct"] is False
    assert body["answer"] == "had already left"
    assert body["model_answer"]
    assert body["explanation"]
    count = AttemptCount.objects.get()
    assert (count.learner_id, count.attempts, count.correct) == (learner.id, 1, 0)


def test_attempt_retry_with_same_id_and_content_is_200_with_the_stored_row(attempt):
    attempt_id = str(uuid.uuid4())
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    first = attempt(id=attempt_id, created_at=at, answer="x")

    again = attempt(id=attempt_id, created_at=at, answer="x")
    without_time = attempt(id=attempt_id, answer="x")

    assert first.status_code == 201
    assert again.status_code == 200
    assert without_time.status_code == 200
    assert again.json() == first.json() == without_time.json()
    assert ExerciseAttempt.objects.count() == 1
    assert AttemptCount.objects.get().attempts == 1


@pytest.mark.parametrize(
    "change", [{"correct": False}, {"answer": "other"}, {"created_at": timedelta(days=2)}]
)
def test_attempt_same_id_different_content_is_409_naming_id(attempt, change):
    attempt_id = str(uuid.uuid4())
    assert attempt(id=attempt_id, answer="x").status_code == 201
    if "created_at" in change:
        change = {"created_at": (timezone.now() - change["created_at"]).isoformat()}

    response = attempt(id=attempt_id, **({"answer": "x"} | change))

    assert response.status_code == 409
    assert attrs(response) == {"id"}
    assert AttemptCount.objects.get().attempts == 1


def test_attempt_same_id_other_learner_is_409(attempt, ingest_client, exercise):
    from tutor.tests.factories import LearnerFactory

    attempt_id = str(uuid.uuid4())
    assert attempt(id=attempt_id).status_code == 201

    response = attempt(id=attempt_id, user_id=str(LearnerFactory().id))

    assert response.status_code == 409


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"user_id": str(uuid.UUID(int=7))}, "user_id"),
        ({"user_id": "nope"}, "user_id"),
        ({"exercise_id": 999_999}, "exercise_id"),
        ({"exercise_id": "x"}, "exercise_id"),
        ({"correct": "maybe"}, "correct"),
        ({"correct": None}, "correct"),
        ({"id": "not-a-uuid"}, "id"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"created_at": "2999-01-01T00:00:00Z"}, "created_at"),
        ({"created_at": "2000-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_attempt_bad_input_is_400_naming_the_field(attempt, change, attr):
    response = attempt(**change)

    assert response.status_code == 400
    assert attrs(response) == {attr}
    assert not ExerciseAttempt.objects.exists()


def test_attempt_past_created_at_is_stored_and_counted_on_its_day(attempt):
    at = timezone.now() - timedelta(days=3)

    response = attempt(created_at=at.isoformat())

    assert response.status_code == 201
    assert AttemptCount.objects.get().day == at.date()


def test_attempt_create_needs_ingest_role(analyst_client, learner, exercise):
    body = {"user_id": str(learner.id), "exercise_id": exercise.id, "correct": True}

    response = analyst_client.post("/api/exercise-attempts", body, format="json")

    assert response.status_code == 403


# --- GET /api/users/{id}/attempts ------------------------------------------------------------


def _attempts(learner, exercise, n):
    now = timezone.now()
    subcategory_id = Exercise.objects.get(pk=exercise.id).subcategory_id
    rows = [
        ExerciseAttempt(
            learner=learner,
            exercise_id=exercise.id,
            subcategory_id=subcategory_id,
            correct=i % 2 == 0,
            # Pairs share a timestamp: ties are broken by id.
            created_at=now - timedelta(minutes=i // 2),
        )
        for i in range(n)
    ]
    return ExerciseAttempt.objects.bulk_create(rows)


def test_attempts_list_walks_every_row_newest_first_by_following_next(
    analyst_client, learner, exercise
):
    rows = _attempts(learner, exercise, 7)
    expected = [str(r.id) for r in sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)]

    seen, url = [], f"/api/users/{learner.id}/attempts?page_size=3"
    while url:
        page = analyst_client.get(url).json()
        seen += [r["id"] for r in page["results"]]
        url = page["next"]

    assert seen == expected


def test_attempts_list_query_count_is_flat(
    analyst_client, learner, exercise, django_assert_num_queries
):
    _attempts(learner, exercise, 5)
    analyst_client.get(f"/api/users/{learner.id}/attempts")  # warm the token cache

    with django_assert_num_queries(2):  # the learner exists; one page with its exercises
        response = analyst_client.get(f"/api/users/{learner.id}/attempts?page_size=2")

    assert len(response.json()["results"]) == 2


def test_attempts_list_rejects_tampered_and_foreign_cursors(analyst_client, learner):
    foreign = dialog_cursors.encode(dialog_cursors.Cursor(timezone.now(), 1))

    for token in ["garbage", foreign]:
        response = analyst_client.get(f"/api/users/{learner.id}/attempts", {"cursor": token})

        assert response.status_code == 400
        assert attrs(response) == {"cursor"}


def test_attempts_list_unknown_user_is_404_and_needs_analyst(
    analyst_client, ingest_client, learner
):
    assert analyst_client.get(f"/api/users/{uuid.uuid4()}/attempts").status_code == 404
    assert ingest_client.get(f"/api/users/{learner.id}/attempts").status_code == 403


# --- level, exercise details -----------------------------------------------------------------


def test_user_level_set_and_shown_on_the_user(ingest_client, analyst_client, learner):
    response = ingest_client.put(f"/api/users/{learner.id}/level", {"level": "B2"}, format="json")

    assert response.status_code == 200
    assert analyst_client.get(f"/api/users/{learner.id}").json()["level"] == "B2"
    bad = ingest_client.put(f"/api/users/{learner.id}/level", {"level": "Z9"}, format="json")
    assert bad.status_code == 400
    assert attrs(bad) == {"level"}
    missing = ingest_client.put(f"/api/users/{uuid.uuid4()}/level", {"level": ""}, format="json")
    assert missing.status_code == 404


def test_exercise_detail_has_answer_explanation_and_level(analyst_client, exercise):
    response = analyst_client.get(f"/api/exercises/{exercise.id}")

    assert response.status_code == 200
    body = response.json()
    assert body["level"] in {"A2", "B1", "B2", "C1"}
    assert body["answer"]
    assert body["explanation"]
    assert (body["errorCategory"], body["errorSubCategory"]) == ("Grammar", "Tense")
    assert analyst_client.get("/api/exercises/999999").status_code == 404
