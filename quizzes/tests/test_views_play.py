"""Playing: the next question and answers, timed by the server."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from config.testing import assert_error
from quizzes import services
from quizzes.models import Answer, Participant, Question, QuestionServe, Quiz
from quizzes.tests.conftest import bearer_client
from quizzes.tests.factories import (
    correct_choice,
    participant_make,
    quiz_with_questions,
    wrong_choice,
)

pytestmark = pytest.mark.django_db


def served(participant: Participant, question: Question, seconds_ago: float) -> None:
    """Pretend `next` served `question` some seconds ago: time moves without sleeping."""
    QuestionServe.objects.update_or_create(
        participant=participant,
        question=question,
        defaults={"served_at": timezone.now() - timedelta(seconds=seconds_ago)},
    )


# --- Next question -----------------------------------------------------------------------------


def test_next_serves_first_unanswered_question_and_keeps_its_timer(quiz, player):
    participant, client = player

    first = client.get(f"/api/quizzes/{quiz.code}/next")
    again = client.get(f"/api/quizzes/{quiz.code}/next")

    assert first.status_code == 200
    body = first.json()
    assert body["text"] == "Question 1?"
    assert body["number"] == 1
    assert body["total"] == 3
    assert [set(c) for c in body["choices"]] == [{"id", "text"}] * 3
    assert 19 < body["remaining"] <= 20
    assert again.json()["served_at"] == body["served_at"]  # a refresh never resets the clock
    assert QuestionServe.objects.filter(participant=participant).count() == 1


def test_next_moves_on_after_answers_and_is_204_when_done(quiz, player):
    participant, client = player
    for question in quiz.questions.all()[:2]:
        served(participant, question, 1)
        client.post(
            f"/api/quizzes/{quiz.code}/answers",
            {"question_id": question.pk, "choice_id": correct_choice(question).pk},
        )

    third = client.get(f"/api/quizzes/{quiz.code}/next")
    question = quiz.questions.get(order=3)
    client.post(
        f"/api/quizzes/{quiz.code}/answers",
        {"question_id": question.pk, "choice_id": wrong_choice(question).pk},
    )
    done = client.get(f"/api/quizzes/{quiz.code}/next")

    assert third.json()["id"] == question.pk
    assert third.json()["number"] == 3
    assert done.status_code == 204


def test_next_needs_a_participant_of_this_quiz(anon_client, quiz, player):
    other = quiz_with_questions()

    missing = anon_client.get(f"/api/quizzes/{quiz.code}/next")
    foreign = player[1].get(f"/api/quizzes/{other.code}/next")

    assert_error(missing, status=401, code="not_authenticated")
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert_error(foreign, status=403, code="participant_of_other_quiz")


def test_next_on_closed_quiz_is_409(quiz, player):
    Quiz.objects.filter(pk=quiz.pk).update(status="closed")

    assert_error(player[1].get(f"/api/quizzes/{quiz.code}/next"), status=409, code="quiz_closed")


# --- Answers -----------------------------------------------------------------------------------


def answer(client, quiz, question, choice):
    return client.post(
        f"/api/quizzes/{quiz.code}/answers", {"question_id": question.pk, "choice_id": choice.pk}
    )


def test_answer_correct_scores_by_server_time(quiz, player, django_capture_on_commit_callbacks):
    participant, client = player
    question = quiz.questions.first()
    served(participant, question, 10)  # t = 10 s of T = 20 s -> 1000 x (1 - 10/40) = 750

    with django_capture_on_commit_callbacks(execute=True):
        response = answer(client, quiz, question, correct_choice(question))

    assert response.status_code == 201
    body = response.json()
    assert body == {**body, "correct": True, "late": False, "answered": 1, "rank": 1}
    assert 740 <= body["points"] <= 750  # 750 minus the request's own time
    assert body["score"] == body["points"]
    stored = Answer.objects.get(participant=participant)
    serve = QuestionServe.objects.get(participant=participant)
    elapsed = (stored.answered_at - serve.served_at).total_seconds()
    assert stored.points == services.answer_points(correct=True, elapsed=elapsed, time_limit=20)
    assert (stored.points, stored.result) == (body["points"], "correct")


def test_answer_wrong_earns_nothing(quiz, player):
    participant, client = player
    question = quiz.questions.first()
    served(participant, question, 1)

    body = answer(client, quiz, question, wrong_choice(question)).json()

    assert (body["correct"], body["points"], body["score"], body["answered"]) == (False, 0, 0, 1)


def test_answer_after_time_limit_is_late_and_earns_nothing(quiz, player):
    participant, client = player
    question = quiz.questions.first()
    served(participant, question, 20.5)

    body = answer(client, quiz, question, correct_choice(question)).json()

    assert (body["correct"], body["late"], body["points"]) == (True, True, 0)
    assert Answer.objects.get().result == "late"


def test_answer_twice_is_409(quiz, player):
    participant, client = player
    question = quiz.questions.first()
    served(participant, question, 1)
    answer(client, quiz, question, wrong_choice(question))

    response = answer(client, quiz, question, correct_choice(question))

    assert_error(response, status=409, code="already_answered", attr="question_id")
    participant.refresh_from_db()
    assert (participant.score, participant.answered) == (0, 1)


def test_answer_with_choice_of_another_question_is_400(quiz, player):
    participant, client = player
    first, second = quiz.questions.all()[:2]
    served(participant, first, 1)

    response = answer(client, quiz, first, correct_choice(second))

    assert_error(response, status=400, code="choice_not_in_question", attr="choice_id")


def test_answer_to_question_of_another_quiz_is_404(quiz, player):
    other_question = quiz_with_questions().questions.first()

    response = answer(player[1], quiz, other_question, correct_choice(other_question))

    assert_error(response, status=404, code="question_not_found", attr="question_id")


def test_answer_to_unserved_question_is_409(quiz, player):
    question = quiz.questions.first()

    response = answer(player[1], quiz, question, correct_choice(question))

    assert_error(response, status=409, code="question_not_served", attr="question_id")


def test_answer_on_closed_quiz_is_409(quiz, player):
    participant, client = player
    question = quiz.questions.first()
    served(participant, question, 1)
    Quiz.objects.filter(pk=quiz.pk).update(status="closed")

    response = answer(client, quiz, question, correct_choice(question))

    assert_error(response, status=409, code="quiz_closed")
    assert not Answer.objects.exists()


def test_answer_needs_token_of_this_quiz(anon_client, quiz, player):
    question = quiz.questions.first()
    other = quiz_with_questions()

    missing = answer(anon_client, quiz, question, correct_choice(question))
    unknown = answer(bearer_client("forged"), quiz, question, correct_choice(question))
    foreign = answer(player[1], other, question, correct_choice(question))

    assert_error(missing, status=401, code="not_authenticated")
    assert_error(unknown, status=401, code="authentication_failed")
    assert_error(foreign, status=403, code="participant_of_other_quiz")


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"choice_id": 1}, "question_id"),
        ({"question_id": "x", "choice_id": 1}, "question_id"),
        ({"question_id": 1, "choice_id": 2**70}, "choice_id"),
    ],
)
def test_answer_bad_body_is_400_naming_the_field(quiz, player, body, attr):
    response = player[1].post(f"/api/quizzes/{quiz.code}/answers", body)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr


def test_answer_ranks_ties_by_who_reached_the_score_first(quiz, django_capture_on_commit_callbacks):
    question = quiz.questions.first()
    players = [participant_make(quiz=quiz, nickname=n) for n in ("early", "late", "zero")]
    for participant, _ in players:
        served(participant, question, 10)

    ranks = []
    for _participant, token in players[:2]:
        with django_capture_on_commit_callbacks(execute=True):
            response = answer(bearer_client(token), quiz, question, correct_choice(question))
        ranks.append(response.json()["rank"])
    board = bearer_client(players[2][1]).get(f"/api/quizzes/{quiz.code}/leaderboard").json()

    assert ranks == [1, 2]  # same 750 points: "early" got there first
    assert [e["nickname"] for e in board["entries"]] == ["early", "late", "zero"]
    assert [e["rank"] for e in board["entries"]] == [1, 2, 3]
    assert board["me"]["rank"] == 3


def test_answer_metrics_count_by_result(quiz, player, django_capture_on_commit_callbacks):
    participant, client = player
    question = quiz.questions.first()
    served(participant, question, 1)
    before = REGISTRY.get_sample_value("quizzes_answers_total", {"result": "wrong"}) or 0

    with django_capture_on_commit_callbacks(execute=True):
        answer(client, quiz, question, wrong_choice(question))

    assert REGISTRY.get_sample_value("quizzes_answers_total", {"result": "wrong"}) == before + 1
