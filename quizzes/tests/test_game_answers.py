"""Hosted answers: timed on the server from the question's opening; the state players see."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.errors import ApplicationError
from quizzes import game, gamestate, services
from quizzes.models import Answer, Quiz
from quizzes.tests.factories import (
    correct_choice,
    hosted_answer,
    hosted_quiz,
    participant_make,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def started():
    quiz = hosted_quiz(questions=2, time_limit=20)
    game.game_start(code=quiz.code)
    quiz.refresh_from_db()
    return quiz


def _question(quiz):
    return quiz.questions.get(pk=gamestate.current_question_id(quiz))


def _opened_ago(quiz, seconds: float) -> None:
    opened = timezone.now() - timedelta(seconds=seconds)
    Quiz.objects.filter(pk=quiz.pk).update(
        question_opened_at=opened, question_deadline=opened + timedelta(seconds=20)
    )


def test_game_answer_is_timed_from_the_question_opening(started):
    ada, _ = participant_make(quiz=started, nickname="ada")
    question = _question(started)
    _opened_ago(started, 5)

    answer = game.game_answer_submit(
        participant=ada, question_id=question.pk, choice_id=correct_choice(question).pk
    )

    # Same scale as self-paced: round(1000 x (1 - t / 2T)), t = 5 s (+ test time), T = 20 s.
    assert 860 <= answer.points <= 875
    assert answer.result == Answer.Result.CORRECT
    assert 5000 <= answer.response_ms < 6000


def test_game_answer_after_the_deadline_scores_zero(started):
    ada, _ = participant_make(quiz=started, nickname="ada")
    question = _question(started)
    _opened_ago(started, 25)

    answer = game.game_answer_submit(
        participant=ada, question_id=question.pk, choice_id=correct_choice(question).pk
    )

    assert (answer.points, answer.result) == (0, Answer.Result.LATE)


def test_game_answer_refusals(started):
    ada, _ = participant_make(quiz=started, nickname="ada")
    question = _question(started)
    other = started.questions.exclude(pk=question.pk).first()
    hosted_answer(ada, question, right=False)
    bob, _ = participant_make(quiz=started, nickname="bob")

    cases = [
        (ada, question.pk, correct_choice(question).pk),  # second answer
        (bob, other.pk, correct_choice(other).pk),  # not the open question
        (bob, question.pk, correct_choice(other).pk),  # a choice of another question
    ]
    codes = []
    for participant, question_id, choice_id in cases:
        with pytest.raises(ApplicationError) as exc_info:
            game.game_answer_submit(
                participant=participant, question_id=question_id, choice_id=choice_id
            )
        codes.append((exc_info.value.status_code, exc_info.value.code))

    assert codes == [
        (409, "already_answered"),
        (409, "question_not_current"),
        (400, "choice_not_in_question"),
    ]


def test_game_answer_outside_a_question_is_409():
    quiz = hosted_quiz()
    ada, _ = participant_make(quiz=quiz, nickname="ada")
    question = quiz.questions.first()

    with pytest.raises(ApplicationError) as exc_info:
        hosted_answer(ada, question)

    assert (exc_info.value.status_code, exc_info.value.code) == (409, "question_not_open")


def test_self_paced_endpoints_refuse_a_hosted_quiz(started):
    ada, _ = participant_make(quiz=started, nickname="ada")
    question = _question(started)

    with pytest.raises(ApplicationError) as serve:
        services.question_serve(participant=ada)
    with pytest.raises(ApplicationError) as answer:
        services.answer_submit(
            participant=ada, question_id=question.pk, choice_id=correct_choice(question).pk
        )

    assert serve.value.code == answer.value.code == "quiz_is_hosted"


def test_public_state_hides_choices_until_the_reveal(started):
    ada, _ = participant_make(quiz=started, nickname="ada")
    question = _question(started)
    hosted_answer(ada, question)

    open_state = gamestate.public_state(started)
    game.game_reveal(code=started.code)
    started.refresh_from_db()
    revealed = gamestate.public_state(started)

    assert open_state["question"]["text"] == question.text
    assert "correct" not in str(open_state["question"])
    assert (open_state["answered"], open_state["reveal"]) == (1, None)
    assert revealed["reveal"]["correct_choice_id"] == correct_choice(question).pk
    counts = {c["choice_id"]: c["count"] for c in revealed["reveal"]["counts"]}
    assert counts == {c.pk: int(c.correct) for c in question.choices.all()}


def test_personal_state_shows_the_result_only_from_the_reveal(started):
    ada, _ = participant_make(quiz=started, nickname="ada")
    bob, _ = participant_make(quiz=started, nickname="bob")
    question = _question(started)
    answer = hosted_answer(ada, question)

    before = gamestate.personal_states(quiz=started, participant_ids=[ada.pk, bob.pk])
    game.game_reveal(code=started.code)
    game._publish(quiz_id=started.pk, board=True)  # what the reveal's on-commit does
    started.refresh_from_db()
    after = gamestate.personal_states(quiz=started, participant_ids=[ada.pk, bob.pk])

    assert before[ada.pk]["answer"] == {"question_id": question.pk, "choice_id": answer.choice_id}
    assert before[ada.pk]["score"] == 0
    assert after[ada.pk]["answer"]["correct"] is True
    assert after[ada.pk]["answer"]["points"] == answer.points == after[ada.pk]["score"]
    assert (after[ada.pk]["rank"], after[bob.pk]["rank"]) == (1, 2)
    assert after[bob.pk]["answer"] is None


def test_finished_state_has_the_podium(started):
    players = [participant_make(quiz=started, nickname=n)[0] for n in ("ada", "bob", "cy", "dee")]
    question = _question(started)
    for player in players[:3]:
        hosted_answer(player, question)

    game.game_end(code=started.code)
    game._publish(quiz_id=started.pk, board=True)
    started.refresh_from_db()
    state = gamestate.public_state(started)

    assert state["phase"] == "finished"
    assert [e["nickname"] for e in state["podium"]] == ["ada", "bob", "cy"]
    assert len(state["leaderboard"]) == 4
