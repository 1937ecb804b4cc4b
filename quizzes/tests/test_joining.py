"""Classroom-proof joining: a class behind one address, bounded per quiz, honest nicknames."""

import pytest
from rest_framework.test import APIClient

from config.testing import assert_error
from config.throttling import ScopedRedisRateThrottle
from quizzes import game
from quizzes.models import Participant
from quizzes.tests.factories import hosted_quiz, quiz_with_questions

pytestmark = pytest.mark.django_db


def _join(client: APIClient, code: str, nickname: str, **extra):
    return client.post(f"/api/quizzes/{code}/join", {"nickname": nickname}, **extra)


def test_join_300_players_from_one_address_with_default_settings():
    quiz = quiz_with_questions()
    classroom = APIClient(REMOTE_ADDR="203.0.113.7")  # one school NAT

    statuses = [_join(classroom, quiz.code, f"pupil{n:03d}").status_code for n in range(300)]

    assert statuses == [201] * 300
    assert Participant.objects.filter(quiz=quiz).count() == 300


def test_join_beyond_the_quiz_cap_is_409_quiz_full(settings, anon_client):
    settings.QUIZ_MAX_PLAYERS = 2
    quiz = quiz_with_questions()

    statuses = [_join(anon_client, quiz.code, name).status_code for name in ("ada", "bob")]
    third = _join(anon_client, quiz.code, "cy")

    assert statuses == [201, 201]
    assert_error(third, status=409, code="quiz_full")


def test_forged_forwarded_for_does_not_escape_the_address_limit(
    monkeypatch, settings, fresh_throttle_window
):
    rates = {**ScopedRedisRateThrottle.THROTTLE_RATES, "quiz_join": "3/min"}
    monkeypatch.setattr(ScopedRedisRateThrottle, "THROTTLE_RATES", rates)
    quiz = quiz_with_questions()
    client = APIClient(REMOTE_ADDR="198.51.100.1")

    statuses = [
        _join(client, quiz.code, f"fake{n}", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(4)
    ]

    assert settings.REST_FRAMEWORK.get("NUM_PROXIES") is None  # as under `make run`
    assert statuses == [201, 201, 201, 429]


@pytest.mark.parametrize(
    ("nickname", "code"),
    [
        ("a\u200bda", "nickname_invalid_character"),  # zero-width space
        ("\u202eada", "nickname_invalid_character"),  # bidi override
        ("\u3164", "nickname_invalid_character"),  # Hangul filler: looks empty
        ("   ", "blank"),
    ],
)
def test_join_invisible_or_control_nickname_is_400(anon_client, nickname, code):
    quiz = quiz_with_questions()

    assert_error(_join(anon_client, quiz.code, nickname), status=400, code=code, attr="nickname")


@pytest.mark.parametrize(
    ("taken", "attempt", "code"),
    [
        ("Ada", "aDA", "nickname_taken"),
        ("Ada", "\uff21\uff44\uff41", "nickname_taken"),  # full-width letters: NFKC folds them
        ("ada", "\u0430da", "nickname_confusable"),  # Cyrillic a
        ("paul", "pau1", "nickname_confusable"),
    ],
)
def test_join_same_or_look_alike_nickname_is_409(anon_client, taken, attempt, code):
    quiz = quiz_with_questions()
    _join(anon_client, quiz.code, taken)

    assert_error(_join(anon_client, quiz.code, attempt), status=409, code=code, attr="nickname")


def test_join_stores_the_folded_nickname(anon_client):
    quiz = quiz_with_questions()

    body = _join(anon_client, quiz.code, " \uff21\uff44\uff41 ").json()

    assert body["nickname"] == "Ada"


def test_join_response_carries_no_question_text(anon_client):
    quiz = quiz_with_questions(questions=3)

    body = _join(anon_client, quiz.code, "ada").json()

    assert body["quiz"]["question_count"] == 3
    assert "questions" not in body["quiz"]
    assert "Question 1?" not in str(body)


def test_late_join_is_allowed_by_default_with_zero_points(anon_client):
    quiz = hosted_quiz()
    game.game_start(code=quiz.code)

    response = _join(anon_client, quiz.code, "late")

    assert response.status_code == 201
    assert response.json()["score"] == 0


def test_late_join_can_be_turned_off(anon_client):
    quiz = hosted_quiz(late_join=False)
    in_lobby = _join(anon_client, quiz.code, "early")
    game.game_start(code=quiz.code)

    late = _join(anon_client, quiz.code, "late")

    assert in_lobby.status_code == 201
    assert_error(late, status=409, code="late_join_closed")
