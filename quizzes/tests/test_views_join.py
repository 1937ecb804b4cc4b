"""Joining and resuming a quiz."""

import pytest

from config.testing import assert_error
from quizzes import views
from quizzes.models import Participant
from quizzes.tests.conftest import bearer_client
from quizzes.tests.factories import quiz_with_questions

pytestmark = pytest.mark.django_db


def test_join_returns_token_quiz_without_questions_and_websocket_url(anon_client, quiz):
    response = anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": "Ada"})

    assert response.status_code == 201
    body = response.json()
    assert set(body) >= {"participant_id", "token", "quiz", "websocket_url"}
    assert body["websocket_url"].endswith(f"/ws/quizzes/{quiz.code}/")
    assert body["quiz"]["question_count"] == 3  # a question's text comes only when served
    assert "questions" not in body["quiz"]
    assert "correct" not in str(body["quiz"])
    participant = Participant.objects.get(pk=body["participant_id"])
    assert participant.token_hash != body["token"]  # only a hash is stored


def test_join_nickname_taken_case_insensitive_is_409(anon_client, quiz):
    anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": "Ada"})

    response = anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": "aDA"})

    assert_error(response, status=409, code="nickname_taken", attr="nickname")


@pytest.mark.parametrize("status", ["draft", "closed"])
def test_join_quiz_not_open_is_409(anon_client, status):
    quiz = quiz_with_questions(status=status)

    response = anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": "Ada"})

    assert_error(response, status=409, code="quiz_not_open")


def test_join_unknown_code_is_404(anon_client, db):
    response = anon_client.post("/api/quizzes/ZZZZZZ/join", {"nickname": "Ada"})

    assert_error(response, status=404, code="quiz_not_found")


@pytest.mark.parametrize("nickname", ["", "   ", "x" * 41])
def test_join_bad_nickname_is_400_naming_it(anon_client, quiz, nickname):
    response = anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": nickname})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "nickname"


def test_join_with_token_resumes_same_participant_and_score(anon_client, quiz):
    joined = anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": "Ada"}).json()
    Participant.objects.filter(pk=joined["participant_id"]).update(score=750, answered=1)

    response = bearer_client(joined["token"]).post(f"/api/quizzes/{quiz.code}/join", {})

    assert response.status_code == 200
    body = response.json()
    assert (body["participant_id"], body["score"], body["token"]) == (
        joined["participant_id"],
        750,
        joined["token"],
    )


def test_join_with_unknown_or_foreign_token(quiz, player):
    other = quiz_with_questions()

    unknown = bearer_client("nope").post(f"/api/quizzes/{quiz.code}/join", {})
    foreign = player[1].post(f"/api/quizzes/{other.code}/join", {})

    assert_error(unknown, status=401, code="authentication_failed")
    assert_error(foreign, status=403, code="participant_of_other_quiz")


def test_join_is_throttled_per_ip(anon_client, quiz, monkeypatch, fresh_throttle_window):
    monkeypatch.setattr(
        views.ParticipantScopedRateThrottle, "THROTTLE_RATES", {"quiz_join": "2/min"}
    )
    for nickname in ("a", "b"):
        anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": nickname})

    response = anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": "c"})

    assert_error(response, status=429, code="throttled")
