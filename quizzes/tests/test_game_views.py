"""The hosted-game API: host moves (staff), game state and answers (players), results."""

import csv
import io

import pytest

from config.testing import assert_error
from quizzes import game, gamestate
from quizzes.models import Quiz
from quizzes.tests.conftest import bearer_client
from quizzes.tests.factories import (
    correct_choice,
    hosted_answer,
    hosted_quiz,
    participant_make,
    wrong_choice,
)

pytestmark = pytest.mark.django_db


def _question(quiz: Quiz):
    quiz.refresh_from_db()
    return quiz.questions.get(pk=gamestate.current_question_id(quiz))


def test_quiz_create_hosted_with_its_settings(staff_client):
    body = {
        "title": "Live", "mode": "hosted", "auto_reveal": False, "late_join": False,
        "questions": [{"text": "Q?", "choices": [{"text": "a", "correct": True}, {"text": "b"}]}],
    }  # fmt: skip

    response = staff_client.post("/api/quizzes", body, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["mode"], created["phase"], created["auto_reveal"]) == ("hosted", "lobby", False)
    assert (created["late_join"], created["close_when_all_answered"]) == (False, True)


def test_quiz_mode_changes_only_while_draft(staff_client):
    quiz = hosted_quiz()

    response = staff_client.patch(
        f"/api/quizzes/{quiz.code}", {"mode": "self_paced"}, format="json"
    )
    settings = staff_client.patch(
        f"/api/quizzes/{quiz.code}", {"auto_reveal": False}, format="json"
    )

    assert_error(response, status=409, code="quiz_not_draft", attr="mode")
    assert settings.status_code == 200
    assert settings.json()["auto_reveal"] is False


def test_host_drives_a_game_through_the_api(staff_client):
    quiz = hosted_quiz(questions=1)
    base = f"/api/quizzes/{quiz.code}/game"

    moves = ("start", "reveal", "next", "next")
    phases = [staff_client.post(f"{base}/{move}").json()["phase"] for move in moves]

    assert phases == ["question", "reveal", "leaderboard", "finished"]


@pytest.mark.parametrize(
    ("move", "code"),
    [("reveal", "invalid_game_transition"), ("next", "invalid_game_transition")],
)
def test_illegal_moves_are_409_with_codes(staff_client, move, code):
    quiz = hosted_quiz()

    response = staff_client.post(f"/api/quizzes/{quiz.code}/game/{move}")

    assert_error(response, status=409, code=code)
    assert "lobby" in response.json()["errors"][0]["detail"]


def test_moves_on_a_self_paced_or_unknown_quiz(staff_client, quiz):
    self_paced = staff_client.post(f"/api/quizzes/{quiz.code}/game/start")
    unknown = staff_client.post("/api/quizzes/ZZZZZZ/game/start")

    assert_error(self_paced, status=409, code="quiz_not_hosted")
    assert_error(unknown, status=404, code="quiz_not_found")


def test_moves_need_the_staff_role(anon_client, analyst_client):
    quiz = hosted_quiz()

    assert anon_client.post(f"/api/quizzes/{quiz.code}/game/start").status_code == 401
    assert analyst_client.post(f"/api/quizzes/{quiz.code}/game/start").status_code == 403


def test_player_answers_and_reads_their_state(anon_client):
    quiz = hosted_quiz()
    _, token = participant_make(quiz=quiz, nickname="ada")
    participant_make(quiz=quiz, nickname="bob")
    game.game_start(code=quiz.code)
    question = _question(quiz)
    player = bearer_client(token)

    right = {"question_id": question.pk, "choice_id": correct_choice(question).pk}
    wrong = {"question_id": question.pk, "choice_id": wrong_choice(question).pk}
    locked = player.post(f"/api/quizzes/{quiz.code}/game/answers", right)
    again = player.post(f"/api/quizzes/{quiz.code}/game/answers", wrong)
    mine = player.get(f"/api/quizzes/{quiz.code}/game").json()
    public = anon_client.get(f"/api/quizzes/{quiz.code}/game").json()

    assert locked.status_code == 201
    assert locked.json()["locked_in"] is True
    assert "correct" not in locked.json()
    assert "points" not in locked.json()
    assert_error(again, status=409, code="already_answered", attr="question_id")
    assert mine["you"]["answer"] == right
    assert "you" not in public
    assert public["answered"] == 1
    assert public["reveal"] is None


def test_answer_outside_a_question_and_to_self_paced_endpoints(quiz):
    hosted = hosted_quiz()
    _, token = participant_make(quiz=hosted, nickname="ada")
    question = hosted.questions.first()
    player = bearer_client(token)
    body = {"question_id": question.pk, "choice_id": correct_choice(question).pk}

    lobby = player.post(f"/api/quizzes/{hosted.code}/game/answers", body)
    self_paced = player.post(f"/api/quizzes/{hosted.code}/answers", body)
    serve = player.get(f"/api/quizzes/{hosted.code}/next")

    assert_error(lobby, status=409, code="question_not_open")
    assert_error(self_paced, status=409, code="quiz_is_hosted")
    assert_error(serve, status=409, code="quiz_is_hosted")


def test_game_state_of_a_self_paced_quiz_is_409(anon_client, quiz):
    assert_error(
        anon_client.get(f"/api/quizzes/{quiz.code}/game"), status=409, code="quiz_not_hosted"
    )


def _played(quiz: Quiz) -> tuple:
    ada, _ = participant_make(quiz=quiz, nickname="ada")
    bob, _ = participant_make(quiz=quiz, nickname="=bob")
    game.game_start(code=quiz.code)
    question = _question(quiz)
    given = hosted_answer(ada, question)
    game.game_end(code=quiz.code)
    return ada, bob, given


def test_results_json_per_player_and_question(staff_client):
    quiz = hosted_quiz(questions=2)
    given = _played(quiz)[2]

    body = staff_client.get(f"/api/quizzes/{quiz.code}/results").json()

    assert [p["nickname"] for p in body["players"]] == ["ada", "=bob"]
    first = body["players"][0]["answers"]
    assert first[0] == {
        "question_id": given.question_id, "choice_id": given.choice_id, "choice": "Q1 choice 1",
        "correct": True, "result": "correct", "points": given.points,
        "response_ms": given.response_ms,
    }  # fmt: skip
    assert first[1]["choice_id"] is None
    assert first[1]["points"] == 0
    assert body["players"][0]["score"] == given.points


def test_results_csv_quotes_formulas(staff_client):
    quiz = hosted_quiz(questions=2)
    _played(quiz)

    response = staff_client.get(f"/api/quizzes/{quiz.code}/results?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 4  # 2 players x 2 questions
    assert rows[0]["nickname"] == "ada"
    assert rows[0]["correct"] == "true"
    assert rows[2]["nickname"] == "'=bob"  # stays text in a spreadsheet


def test_results_need_staff_and_keep_the_error_shape_in_csv(anon_client):
    quiz = hosted_quiz()

    response = anon_client.get(f"/api/quizzes/{quiz.code}/results?format=csv")

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"
