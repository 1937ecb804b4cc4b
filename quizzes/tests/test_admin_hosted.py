"""Admin for hosted games: the Host link, the results CSV action, the mode fixed once open."""

import csv
import io

import pytest

from quizzes import game
from quizzes.tests.factories import (
    hosted_answer,
    hosted_quiz,
    participant_make,
    quiz_with_questions,
)

pytestmark = pytest.mark.django_db


def test_admin_list_links_hosted_quizzes_to_the_host_screen(admin_client):
    hosted = hosted_quiz()
    self_paced = quiz_with_questions()

    html = admin_client.get("/admin/quizzes/quiz/").content.decode()

    assert f'href="/quizzes/{hosted.code}/host"' in html
    assert f'href="/quizzes/{self_paced.code}/host"' not in html


def test_admin_results_csv_action_exports_every_selected_quiz(admin_client):
    quiz = hosted_quiz(questions=2)
    ada, _ = participant_make(quiz=quiz, nickname="ada")
    game.game_start(code=quiz.code)
    hosted_answer(ada, quiz.questions.order_by("order").first())
    other = quiz_with_questions(questions=1)
    participant_make(quiz=other, nickname="bob")

    response = admin_client.post(
        "/admin/quizzes/quiz/", {"action": "results_csv", "_selected_action": [quiz.pk, other.pk]}
    )

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert sorted((r["quiz"], r["nickname"], r["question_number"]) for r in rows) == sorted(
        [(quiz.code, "ada", "1"), (quiz.code, "ada", "2"), (other.code, "bob", "1")]
    )
    answered = next(r for r in rows if r["question_number"] == "1" and r["nickname"] == "ada")
    assert answered["correct"] == "true"
    assert int(answered["response_ms"]) >= 0


def test_admin_mode_is_read_only_once_open(admin_client):
    draft = hosted_quiz()
    draft.status = "draft"
    draft.save()
    live = hosted_quiz()

    draft_html = admin_client.get(f"/admin/quizzes/quiz/{draft.pk}/change/").content.decode()
    live_html = admin_client.get(f"/admin/quizzes/quiz/{live.pk}/change/").content.decode()

    assert 'name="mode"' in draft_html
    assert 'name="mode"' not in live_html
    assert 'name="auto_reveal"' in live_html  # the settings may still change
