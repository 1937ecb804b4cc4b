"""The leaderboard API and the player/board pages."""

import pytest

from config.testing import assert_error
from quizzes.models import Participant
from quizzes.tests.factories import participant_make

pytestmark = pytest.mark.django_db


# --- Leaderboard -------------------------------------------------------------------------------


def test_leaderboard_lists_entries_and_me(quiz, player, anon_client):
    participant_make(quiz=quiz, nickname="bob")
    Participant.objects.filter(nickname="bob").update(score=900, answered=1)

    public = anon_client.get(f"/api/quizzes/{quiz.code}/leaderboard").json()
    mine = player[1].get(f"/api/quizzes/{quiz.code}/leaderboard?limit=1").json()

    assert public["quiz"] == quiz.code
    assert public["participants"] == 2
    assert public["entries"] == [
        {"rank": 1, "nickname": "bob", "score": 900, "answered": 1},
        {"rank": 2, "nickname": "ada", "score": 0, "answered": 0},
    ]
    assert "me" not in public
    assert len(mine["entries"]) == 1
    assert mine["me"]["nickname"] == "ada"
    assert mine["me"]["rank"] == 2


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_leaderboard_bad_limit_is_400(anon_client, quiz, limit):
    response = anon_client.get(f"/api/quizzes/{quiz.code}/leaderboard?limit={limit}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "limit"


def test_leaderboard_unknown_quiz_is_404(anon_client, db):
    assert_error(
        anon_client.get("/api/quizzes/ZZZZZZ/leaderboard"), status=404, code="quiz_not_found"
    )


def test_leaderboard_reads_redis_not_postgres_once_built(
    anon_client, quiz, django_assert_num_queries
):
    for n in range(20):
        participant_make(quiz=quiz, nickname=f"p{n}")
    anon_client.get(f"/api/quizzes/{quiz.code}/leaderboard")  # builds the board

    with django_assert_num_queries(1):  # the quiz itself; entries come from Redis
        response = anon_client.get(f"/api/quizzes/{quiz.code}/leaderboard?limit=100")

    assert response.json()["participants"] == 20


@pytest.mark.parametrize("code", ["ZZZZZ", "ZZZZZZZ", "ZZ0ZZZ", "ZZ%00ZZ", "ZZ%20ZZZ"])
def test_api_code_that_cannot_be_a_quiz_is_404_without_a_lookup(
    anon_client, db, code, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = anon_client.get(f"/api/quizzes/{code}/leaderboard")

    assert_error(response, status=404, code="not_found")


def test_api_code_is_case_insensitive(anon_client, quiz):
    response = anon_client.get(f"/api/quizzes/{quiz.code.lower()}/leaderboard")

    assert response.status_code == 200
    assert response.json()["quiz"] == quiz.code


# --- Pages -------------------------------------------------------------------------------------


def test_play_page_renders_with_websocket_url(client, quiz):
    response = client.get(f"/quizzes/{quiz.code.lower()}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-ws-url="ws://testserver/ws/quizzes/{quiz.code}/"' in html
    assert "/static/quizzes/play." in html
    assert quiz.title in html


def test_board_page_renders_and_unknown_code_is_404(client, quiz):
    board = client.get(f"/quizzes/{quiz.code}/board")
    missing = client.get("/quizzes/ZZZZZZ/board")

    assert board.status_code == 200
    assert b"/static/quizzes/board." in board.content
    assert missing.status_code == 404
    assert b"No quiz ZZZZZZ" in missing.content


@pytest.mark.parametrize("path", ["/quizzes/ZZ%00ZZ/", "/quizzes/abc", "/quizzes/ZZ-ZZZ/board"])
def test_page_for_a_code_that_cannot_be_a_quiz_is_the_404_page(client, db, path):
    response = client.get(path)

    assert response.status_code == 404
    assert b"No such quiz" in response.content
