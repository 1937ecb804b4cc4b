"""Staff authoring API: create, list (filters), detail, patch (transitions), delete."""

import re

import pytest

from config.testing import assert_error
from quizzes.models import CODE_ALPHABET, Quiz
from quizzes.tests.factories import (
    QuizFactory,
    quiz_with_questions,
)

pytestmark = pytest.mark.django_db


def payload(**overrides) -> dict:
    body = {
        "title": "Verbs",
        "description": "Irregular verbs",
        "questions": [
            {
                "text": "Past of 'go'?",
                "time_limit": 15,
                "choices": [{"text": "goed"}, {"text": "went", "correct": True}],
            }
        ],
    }
    return {**body, **overrides}


def question_with(choices: list[dict]) -> dict:
    return payload(questions=[{"text": "Q?", "choices": choices}])


def test_quiz_create_returns_draft_with_code_and_nested_questions(staff_client):
    response = staff_client.post("/api/quizzes", payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(f"[{CODE_ALPHABET}]{{6}}", body["code"])
    assert body["status"] == "draft"
    assert body["author"] == "test-staff"
    assert body["questions"][0]["time_limit"] == 15
    assert [c["correct"] for c in body["questions"][0]["choices"]] == [False, True]
    assert Quiz.objects.get(code=body["code"]).questions.get().choices.count() == 2


def test_quiz_create_accepts_trailing_slash(staff_client):
    response = staff_client.post("/api/quizzes/", payload(), format="json")

    assert response.status_code == 201


@pytest.mark.parametrize(
    "choices",
    [
        [{"text": "only", "correct": True}],
        [{"text": str(i), "correct": i == 0} for i in range(7)],
        [{"text": "a", "correct": True}, {"text": "b", "correct": True}],
        [{"text": "a"}, {"text": "b"}],
    ],
    ids=["one-choice", "seven-choices", "two-correct", "none-correct"],
)
def test_quiz_create_rejects_bad_choice_sets_naming_the_field(staff_client, choices):
    response = staff_client.post("/api/quizzes", question_with(choices), format="json")

    assert_error(response, status=400, code="invalid_choices", attr="questions.0.choices")
    assert not Quiz.objects.exists()


def test_quiz_create_rejects_zero_time_limit_and_no_questions(staff_client):
    bad_time = payload()
    bad_time["questions"][0]["time_limit"] = 0

    time_response = staff_client.post("/api/quizzes", bad_time, format="json")
    empty_response = staff_client.post("/api/quizzes", payload(questions=[]), format="json")

    assert_error(time_response, status=400, code="min_value", attr="questions.0.time_limit")
    assert_error(empty_response, status=400, code="min_length", attr="questions.non_field_errors")


def test_quiz_api_needs_staff_role(anon_client, analyst_client):
    assert anon_client.get("/api/quizzes").status_code == 401
    assert_error(
        analyst_client.post("/api/quizzes", payload(), format="json"),
        status=403,
        code="role_required",
    )


def test_quiz_list_is_one_query_whatever_the_count(staff_client, django_assert_num_queries):
    quiz_with_questions(questions=2)
    quiz_with_questions(questions=1)
    staff_client.get("/api/quizzes")  # warm the token cache

    with django_assert_num_queries(1):
        response = staff_client.get("/api/quizzes")

    assert response.status_code == 200
    assert sorted(q["question_count"] for q in response.json()) == [1, 2]


def test_quiz_list_filters_by_status(staff_client, django_assert_num_queries):
    draft = quiz_with_questions(status="draft")
    quiz_with_questions(status="open")
    staff_client.get("/api/quizzes")  # warm the token cache

    with django_assert_num_queries(1):
        response = staff_client.get("/api/quizzes?status=draft")

    assert [q["code"] for q in response.json()] == [draft.code]


def test_quiz_list_unknown_status_is_400_naming_it(staff_client):
    response = staff_client.get("/api/quizzes?status=archived")

    assert_error(response, status=400, code="invalid_choice", attr="status")


def test_quiz_detail_shows_correct_choices_to_staff(staff_client, quiz):
    response = staff_client.get(f"/api/quizzes/{quiz.code}")

    assert response.status_code == 200
    first = response.json()["questions"][0]
    assert [c["correct"] for c in first["choices"]] == [False, True, False]


def test_quiz_detail_unknown_code_is_404(staff_client):
    assert_error(staff_client.get("/api/quizzes/ZZZZZZ"), status=404, code="quiz_not_found")


def test_quiz_patch_moves_draft_to_open_to_closed(staff_client):
    quiz = quiz_with_questions(status="draft")

    opened = staff_client.patch(f"/api/quizzes/{quiz.code}", {"status": "open"}, format="json")
    again = staff_client.patch(f"/api/quizzes/{quiz.code}", {"status": "open"}, format="json")
    closed = staff_client.patch(f"/api/quizzes/{quiz.code}", {"status": "closed"}, format="json")

    assert opened.status_code == 200
    assert opened.json()["opened_at"]
    assert again.status_code == 200  # same status again: idempotent
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_at"]


@pytest.mark.parametrize(
    ("start", "target"), [("draft", "closed"), ("closed", "open"), ("open", "draft")]
)
def test_quiz_patch_rejects_other_transitions_with_409(staff_client, start, target):
    quiz = quiz_with_questions(status=start)

    response = staff_client.patch(f"/api/quizzes/{quiz.code}", {"status": target}, format="json")

    assert_error(response, status=409, code="invalid_status_transition", attr="status")
    quiz.refresh_from_db()
    assert quiz.status == start


def test_quiz_patch_unknown_status_is_400(staff_client, quiz):
    response = staff_client.patch(f"/api/quizzes/{quiz.code}", {"status": "paused"}, format="json")

    assert_error(response, status=400, code="invalid_choice", attr="status")


def test_quiz_open_without_questions_is_409(staff_client):
    quiz = QuizFactory(status="draft")

    response = staff_client.patch(f"/api/quizzes/{quiz.code}", {"status": "open"}, format="json")

    assert_error(response, status=409, code="quiz_has_no_questions", attr="status")


def test_quiz_patch_questions_only_while_draft(staff_client, quiz):
    draft = quiz_with_questions(status="draft")
    questions = payload()["questions"]

    changed = staff_client.patch(f"/api/quizzes/{draft.code}", {"questions": questions})
    refused = staff_client.patch(f"/api/quizzes/{quiz.code}", {"questions": questions})

    assert changed.status_code == 200
    assert len(changed.json()["questions"]) == 1
    assert_error(refused, status=409, code="quiz_not_draft", attr="questions")


def test_quiz_delete_removes_it(staff_client, quiz):
    response = staff_client.delete(f"/api/quizzes/{quiz.code}")

    assert response.status_code == 204
    assert not Quiz.objects.filter(pk=quiz.pk).exists()


def test_quiz_list_options_describes_the_create_form(staff_client):
    response = staff_client.options("/api/quizzes")

    assert response.status_code == 200
    assert "title" in response.json()["actions"]["POST"]
