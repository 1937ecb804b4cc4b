"""The hosted state machine: every transition, and each illegal one, as a 409 with its code."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.errors import ApplicationError
from quizzes import game, gamestate, services
from quizzes.models import Answer, Participant, Quiz
from quizzes.tests.factories import (
    hosted_answer,
    hosted_quiz,
    participant_make,
    quiz_with_questions,
)

Phase = Quiz.Phase
pytestmark = pytest.mark.django_db


def _error(exc_info) -> tuple[int, str]:
    return exc_info.value.status_code, exc_info.value.code


def _at(quiz: Quiz, phase: str) -> Quiz:
    """Drive `quiz` (2 questions) to `phase` through the real moves."""
    steps = {
        Phase.LOBBY: [],
        Phase.QUESTION: [game.game_start],
        Phase.REVEAL: [game.game_start, game.game_reveal],
        Phase.LEADERBOARD: [game.game_start, game.game_reveal, game.game_next],
        Phase.FINISHED: [game.game_end],
    }
    for move in steps[phase]:
        move(code=quiz.code)
    quiz.refresh_from_db()
    return quiz


def _current(quiz: Quiz):
    return quiz.questions.get(pk=gamestate.current_question_id(quiz))


def test_game_start_opens_question_one_with_a_server_deadline(django_capture_on_commit_callbacks):
    quiz = hosted_quiz(time_limit=15)

    with django_capture_on_commit_callbacks() as callbacks:
        game.game_start(code=quiz.code)

    quiz.refresh_from_db()
    assert (quiz.phase, quiz.question_index, quiz.game_version) == (Phase.QUESTION, 0, 1)
    assert quiz.question_deadline - quiz.question_opened_at == timedelta(seconds=15)
    assert [c.func.__name__ for c in callbacks] == ["_publish", "_arm_deadline"]
    assert callbacks[1].keywords == {"code": quiz.code, "version": 1, "eta": quiz.question_deadline}


def test_game_start_needs_an_open_hosted_quiz_in_its_lobby():
    draft = hosted_quiz()
    draft.status = Quiz.Status.DRAFT
    draft.save()
    self_paced = quiz_with_questions()
    started = _at(hosted_quiz(), Phase.QUESTION)

    with pytest.raises(ApplicationError) as not_open:
        game.game_start(code=draft.code)
    with pytest.raises(ApplicationError) as not_hosted:
        game.game_start(code=self_paced.code)
    with pytest.raises(ApplicationError) as twice:
        game.game_start(code=started.code)
    with pytest.raises(ApplicationError) as unknown:
        game.game_start(code="ZZZZZZ")

    assert _error(not_open) == (409, "quiz_not_open")
    assert _error(not_hosted) == (409, "quiz_not_hosted")
    assert _error(twice) == (409, "invalid_game_transition")
    assert _error(unknown) == (404, "quiz_not_found")


@pytest.mark.parametrize("phase", [Phase.LOBBY, Phase.REVEAL, Phase.LEADERBOARD, Phase.FINISHED])
def test_game_reveal_is_illegal_outside_a_question(phase):
    quiz = _at(hosted_quiz(), phase)

    with pytest.raises(ApplicationError) as exc_info:
        game.game_reveal(code=quiz.code)

    assert _error(exc_info) == (409, "invalid_game_transition")
    assert phase in str(exc_info.value.detail)


@pytest.mark.parametrize("phase", [Phase.LOBBY, Phase.QUESTION, Phase.FINISHED])
def test_game_next_is_illegal_in_lobby_question_and_finished(phase):
    quiz = _at(hosted_quiz(), phase)

    with pytest.raises(ApplicationError) as exc_info:
        game.game_next(code=quiz.code)

    assert _error(exc_info) == (409, "invalid_game_transition")


def test_game_end_is_illegal_once_finished():
    quiz = _at(hosted_quiz(), Phase.FINISHED)

    with pytest.raises(ApplicationError) as exc_info:
        game.game_end(code=quiz.code)

    assert _error(exc_info) == (409, "invalid_game_transition")


def test_game_reveal_applies_the_round_points_once(django_capture_on_commit_callbacks):
    quiz = _at(hosted_quiz(), Phase.QUESTION)
    ada, _ = participant_make(quiz=quiz, nickname="ada")
    bob, _ = participant_make(quiz=quiz, nickname="bob")
    question = _current(quiz)
    with django_capture_on_commit_callbacks(execute=True):
        hosted_answer(ada, question)
    ada.refresh_from_db()
    assert ada.score == 0  # nothing moves before the reveal

    game.game_reveal(code=quiz.code)
    game.game_next(code=quiz.code)  # to the leaderboard: no second application

    ada.refresh_from_db()
    bob.refresh_from_db()
    points = Answer.objects.get(participant=ada).points
    assert points > 900
    assert (ada.score, ada.answered) == (points, 1)
    assert (bob.score, bob.answered) == (0, 0)
    quiz.refresh_from_db()
    assert quiz.phase == Phase.LEADERBOARD


def test_game_next_opens_the_next_question_then_finishes_after_the_last():
    quiz = _at(hosted_quiz(questions=2), Phase.LEADERBOARD)

    game.game_next(code=quiz.code)
    quiz.refresh_from_db()
    second = (quiz.phase, quiz.question_index)
    game.game_reveal(code=quiz.code)
    game.game_next(code=quiz.code)
    game.game_next(code=quiz.code)
    quiz.refresh_from_db()

    assert second == (Phase.QUESTION, 1)
    assert (quiz.phase, quiz.status) == (Phase.FINISHED, Quiz.Status.CLOSED)
    assert quiz.closed_at is not None


@pytest.mark.parametrize("phase", [Phase.LOBBY, Phase.QUESTION, Phase.REVEAL, Phase.LEADERBOARD])
def test_game_end_finishes_from_any_phase(phase):
    quiz = _at(hosted_quiz(), phase)
    version = quiz.game_version

    game.game_end(code=quiz.code)

    quiz.refresh_from_db()
    assert (quiz.phase, quiz.status) == (Phase.FINISHED, Quiz.Status.CLOSED)
    assert quiz.game_version == version + 1


def test_game_end_mid_question_keeps_the_answers_given():
    quiz = _at(hosted_quiz(), Phase.QUESTION)
    ada, _ = participant_make(quiz=quiz, nickname="ada")
    question = _current(quiz)
    hosted_answer(ada, question)

    game.game_end(code=quiz.code)

    ada.refresh_from_db()
    assert ada.score > 0


def test_closing_a_hosted_quiz_by_status_finishes_the_game():
    quiz = _at(hosted_quiz(), Phase.QUESTION)

    services.quiz_status_set(code=quiz.code, status="closed")

    quiz.refresh_from_db()
    assert (quiz.phase, quiz.status) == (Phase.FINISHED, Quiz.Status.CLOSED)


def _expire(quiz: Quiz) -> None:
    Quiz.objects.filter(pk=quiz.pk).update(question_deadline=timezone.now() - timedelta(seconds=1))
    quiz.refresh_from_db()


def test_game_deadline_check_reveals_a_due_question_once():
    quiz = _at(hosted_quiz(), Phase.QUESTION)
    _expire(quiz)

    first = game.game_deadline_check(code=quiz.code, version=quiz.game_version)
    again = game.game_deadline_check(code=quiz.code, version=quiz.game_version)

    quiz.refresh_from_db()
    assert (first, again, quiz.phase) == (True, False, Phase.REVEAL)


def test_game_deadline_check_ignores_early_stale_and_manual_reveal_timers():
    early = _at(hosted_quiz(), Phase.QUESTION)
    stale = _at(hosted_quiz(), Phase.QUESTION)
    _expire(stale)
    manual = _at(hosted_quiz(auto_reveal=False), Phase.QUESTION)
    _expire(manual)

    results = [
        game.game_deadline_check(code=early.code, version=early.game_version),
        game.game_deadline_check(code=stale.code, version=stale.game_version - 1),
        game.game_deadline_check(code=manual.code, version=manual.game_version),
    ]

    assert results == [False, False, False]
    manual.refresh_from_db()
    assert manual.phase == Phase.QUESTION
    assert gamestate.public_state(manual)["accepting"] is False  # closed, waiting for the host


def test_game_state_current_reveals_a_question_whose_timer_was_lost():
    quiz = _at(hosted_quiz(), Phase.QUESTION)
    _expire(quiz)

    quiz = game.game_state_current(quiz=quiz)

    assert quiz.phase == Phase.REVEAL


def _answer_all(quiz: Quiz, players: list[Participant], capture) -> None:
    question = _current(quiz)
    for player in players:
        with capture(execute=True):
            hosted_answer(player, question, right=False)


@pytest.mark.parametrize(
    ("settings", "phase", "accepting"),
    [
        ({}, Phase.REVEAL, False),
        ({"auto_reveal": False}, Phase.QUESTION, False),
        ({"close_when_all_answered": False}, Phase.QUESTION, True),
    ],
)
def test_last_answer_closes_the_question_as_configured(
    settings, phase, accepting, django_capture_on_commit_callbacks
):
    quiz = _at(hosted_quiz(**settings), Phase.QUESTION)
    players = [participant_make(quiz=quiz, nickname=n)[0] for n in ("ada", "bob")]

    _answer_all(quiz, players[:1], django_capture_on_commit_callbacks)
    quiz.refresh_from_db()
    after_first = quiz.phase
    _answer_all(quiz, players[1:], django_capture_on_commit_callbacks)

    quiz.refresh_from_db()
    assert after_first == Phase.QUESTION
    assert quiz.phase == phase
    assert gamestate.public_state(quiz)["accepting"] is accepting
