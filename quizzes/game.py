"""Hosted games: the state machine. Every move happens here, under a row lock on the quiz.

    lobby --start--> question 1 --reveal--> reveal 1 --next--> leaderboard 1 --next--> question 2
    ... leaderboard n --next--> finished;  end: any phase but finished --> finished

A question also closes by itself: at its deadline (a Celery task with `eta`, plus the websocket
hub's timer and a check on every read, so a lost task only delays it) or once every player has
answered (`close_when_all_answered`). Closing reveals at once when `auto_reveal` is set; otherwise
the question stays in its phase, closed to answers, until the host reveals it.

Each move bumps `game_version` and, on commit, publishes the full new public state (gamestate.py)
as one event: a client that reconnects needs only the latest state, never a replay.

Points are timed from the question's opening on the server and applied to participants' scores
at the reveal, in one statement, so no score (and so no leaderboard) moves before the reveal.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import cast

from django.db import connection, transaction
from django.utils import timezone

from config.errors import ApplicationError
from quizzes import events, gamestate, leaderboard, metrics, services
from quizzes.models import Answer, Choice, Participant, Question, Quiz

logger = logging.getLogger(__name__)

Phase = Quiz.Phase
GAME_FIELDS = [
    "phase", "question_index", "question_opened_at", "question_deadline", "game_version",
    "status", "closed_at",
]  # fmt: skip


def _hosted_locked(code: str) -> Quiz:
    quiz = Quiz.objects.select_for_update().filter(code=code).first()
    if quiz is None:
        raise ApplicationError("quiz_not_found", f"No quiz with code {code}.", status=404)
    if quiz.mode != Quiz.Mode.HOSTED:
        raise ApplicationError(
            "quiz_not_hosted", "This quiz is self-paced: it has no host controls.", status=409
        )
    return quiz


def _illegal(quiz: Quiz, action: str, hint: str) -> ApplicationError:
    return ApplicationError(
        "invalid_game_transition",
        f"Cannot {action} while the game is in phase {quiz.phase}: {hint}",
        status=409,
    )


@transaction.atomic
def game_start(*, code: str) -> Quiz:
    """lobby -> question 1. The quiz must be open (players join while it is)."""
    quiz = _hosted_locked(code)
    if quiz.status != Quiz.Status.OPEN:
        raise ApplicationError(
            "quiz_not_open", f"This quiz is {quiz.status}: open it first.", status=409
        )
    if quiz.phase != Phase.LOBBY:
        raise _illegal(quiz, "start", "the game has already started.")
    _question_open(quiz, index=0)
    return quiz


@transaction.atomic
def game_reveal(*, code: str) -> Quiz:
    """question k -> reveal k, open or already closed by its deadline."""
    quiz = _hosted_locked(code)
    if quiz.phase != Phase.QUESTION:
        raise _illegal(quiz, "reveal", "only an open question can be revealed.")
    _reveal(quiz)
    return quiz


@transaction.atomic
def game_next(*, code: str) -> Quiz:
    """reveal k -> leaderboard k -> question k+1 (or finished after the last question)."""
    quiz = _hosted_locked(code)
    if quiz.phase == Phase.REVEAL:
        quiz.phase = Phase.LEADERBOARD
        _changed(quiz)
    elif quiz.phase == Phase.LEADERBOARD:
        index = cast(int, quiz.question_index)  # set by the start
        if index + 1 < Question.objects.filter(quiz_id=quiz.pk).count():
            _question_open(quiz, index=index + 1)
        else:
            _finish(quiz)
    else:
        hints: dict[str, str] = {
            Phase.LOBBY: "start the game first.",
            Phase.QUESTION: "reveal the open question first.",
            Phase.FINISHED: "the game is over.",
        }
        raise _illegal(quiz, "go next", hints[quiz.phase])
    return quiz


@transaction.atomic
def game_end(*, code: str) -> Quiz:
    """Any phase but finished -> finished; the quiz closes. Answers already given still count."""
    quiz = _hosted_locked(code)
    if quiz.phase == Phase.FINISHED:
        raise _illegal(quiz, "end", "the game is already over.")
    _finish(quiz)
    return quiz


def game_finish_locked(quiz: Quiz) -> None:
    """A hosted quiz closed by other means (admin, status PATCH). The caller holds the lock."""
    if quiz.phase != Phase.FINISHED:
        _finish(quiz)


@transaction.atomic
def game_deadline_check(*, code: str, version: int) -> bool:
    """Idempotent: reveals the question of `version` if its deadline passed and auto_reveal is on.
    Every timer (Celery task, websocket hub, reads) may call it; only the first one moves."""
    quiz = Quiz.objects.select_for_update().filter(code=code).first()
    if quiz is None or not _deadline_due(quiz) or quiz.game_version != version:
        return False
    _reveal(quiz)
    return True


def game_state_current(*, quiz: Quiz) -> Quiz:
    """The quiz as of now: a question whose deadline passed unnoticed (no worker, no socket) is
    revealed before anyone reads it."""
    if _deadline_due(quiz) and game_deadline_check(code=quiz.code, version=quiz.game_version):
        quiz.refresh_from_db()
    return quiz


def _deadline_due(quiz: Quiz) -> bool:
    return (
        quiz.mode == Quiz.Mode.HOSTED
        and quiz.phase == Phase.QUESTION
        and quiz.auto_reveal
        and quiz.question_deadline is not None
        and timezone.now() >= quiz.question_deadline
    )


# --- Moves (caller holds the quiz row lock) -----------------------------------------------------


def _question_open(quiz: Quiz, *, index: int) -> None:
    question = Question.objects.filter(quiz_id=quiz.pk).order_by("order", "id")[index]
    now = timezone.now()
    quiz.phase = Phase.QUESTION
    quiz.question_index = index
    quiz.question_opened_at = now
    quiz.question_deadline = now + timedelta(seconds=question.time_limit)
    _changed(quiz)


def _apply_points(quiz: Quiz) -> None:
    """The round's answers join the scores, once: only ever called when leaving `question`."""
    question_id = gamestate.current_question_id(quiz)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE quizzes_participant p
               SET score = p.score + a.points,
                   answered = p.answered + 1,
                   reached_score_at = CASE WHEN a.points > 0 THEN a.answered_at
                                           ELSE p.reached_score_at END
              FROM quizzes_answer a
             WHERE a.participant_id = p.id AND a.question_id = %s
            """,
            [question_id],
        )


def _reveal(quiz: Quiz) -> None:
    _apply_points(quiz)
    quiz.phase = Phase.REVEAL
    deadline = cast(datetime, quiz.question_deadline)  # set while a question is open
    quiz.question_deadline = min(deadline, timezone.now())
    _changed(quiz, board=True)


def _finish(quiz: Quiz) -> None:
    if quiz.phase == Phase.QUESTION:
        _apply_points(quiz)
    quiz.phase = Phase.FINISHED
    quiz.status = Quiz.Status.CLOSED
    quiz.closed_at = quiz.closed_at or timezone.now()
    _changed(quiz, board=True)


def _changed(quiz: Quiz, *, board: bool = False) -> None:
    quiz.game_version += 1
    quiz.save(update_fields=GAME_FIELDS)
    transaction.on_commit(partial(_publish, quiz_id=quiz.pk, board=board))
    if quiz.phase == Phase.QUESTION:
        deadline = cast(datetime, quiz.question_deadline)  # set with the question's opening
        arm = partial(_arm_deadline, code=quiz.code, version=quiz.game_version, eta=deadline)
        transaction.on_commit(arm)


def _publish(*, quiz_id: int, board: bool) -> None:
    """After commit: the state as it is now (a later move may already be in it: clients keep
    the highest version), after the leaderboard has taken this round's points."""
    quiz = Quiz.objects.filter(pk=quiz_id).first()
    if quiz is None:
        return
    if board:  # first, so that the state's leaderboard and every rank include this round
        leaderboard.rebuild(code=quiz.code, epoch=quiz.created_at, rows=gamestate.board_rows(quiz))
    events.game(None, code=quiz.code, state=gamestate.public_state(quiz))


def _arm_deadline(*, code: str, version: int, eta: datetime) -> None:
    from quizzes import tasks  # tasks import this module

    try:
        tasks.game_deadline_check.apply_async(kwargs={"code": code, "version": version}, eta=eta)
    except Exception:  # the broker is down: the hub's timer and every read still close it
        logger.warning("could not schedule the deadline of %s v%s", code, version, exc_info=True)


# --- Answers ------------------------------------------------------------------------------------


def game_answer_submit(*, participant: Participant, question_id: int, choice_id: int) -> Answer:
    """Locks in one answer to the open question. Points are fixed now (server time since the
    question opened; 0 after its deadline) but join the score only at the reveal."""
    with services.one_answer_per_question():
        return _answer_record(participant=participant, question_id=question_id, choice_id=choice_id)


@transaction.atomic
def _answer_record(*, participant: Participant, question_id: int, choice_id: int) -> Answer:
    # FOR SHARE: answers don't block each other, but a reveal (FOR UPDATE) waits for them, so
    # its counts and points include every answer accepted before it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM quizzes_quiz WHERE id = %s FOR SHARE", [participant.quiz_id])
    quiz = Quiz.objects.get(pk=participant.quiz_id)
    if quiz.mode != Quiz.Mode.HOSTED:
        raise ApplicationError(
            "quiz_not_hosted", "This quiz is self-paced: answer with POST /answers.", status=409
        )
    if quiz.phase != Phase.QUESTION:
        raise ApplicationError(
            "question_not_open", f"No question is open (the game is in {quiz.phase}).", status=409
        )
    question = Question.objects.get(pk=gamestate.open_question_id(quiz))
    if question.pk != question_id:
        raise ApplicationError(
            "question_not_current", "This is not the open question.", status=409, attr="question_id"
        )
    choice = Choice.objects.filter(pk=choice_id, question_id=question_id).first()
    if choice is None:
        raise ApplicationError(
            "choice_not_in_question", "This choice is not one of the question's.", attr="choice_id"
        )
    now = timezone.now()
    # Both set when the question opened (the phase is `question`).
    elapsed = (now - cast(datetime, quiz.question_opened_at)).total_seconds()
    late = now > cast(datetime, quiz.question_deadline)
    points = 0
    if not late:
        points = services.answer_points(
            correct=choice.correct, elapsed=elapsed, time_limit=question.time_limit
        )
    result = Answer.Result.CORRECT if choice.correct else Answer.Result.WRONG
    if late:
        result = Answer.Result.LATE
    answer = Answer.objects.create(
        participant=participant, question=question, choice=choice, correct=choice.correct,
        result=result, points=points, answered_at=now, response_ms=max(0, round(elapsed * 1000)),
    )  # fmt: skip
    transaction.on_commit(
        partial(_answered, quiz=quiz, question_id=question_id, version=quiz.game_version)
    )
    transaction.on_commit(partial(metrics.answers.labels(result=result).inc))
    return answer


def _answered(*, quiz: Quiz, question_id: int, version: int) -> None:
    """After commit, so the count includes every committed answer: the last of two concurrent
    answers always sees both, and closes the question if it was the last one missing."""
    answered, players = gamestate.answer_counts(quiz_id=quiz.pk, question_id=question_id)
    events.answered(None, code=quiz.code, version=version, answered=answered, players=players)
    if quiz.close_when_all_answered and answered >= players:
        game_all_answered(code=quiz.code, version=version)


@transaction.atomic
def game_all_answered(*, code: str, version: int) -> None:
    """Closes the question of `version` if everyone answered it (idempotent)."""
    quiz = Quiz.objects.select_for_update().filter(code=code).first()
    if quiz is None or quiz.game_version != version or quiz.phase != Phase.QUESTION:
        return
    answered, players = gamestate.answer_counts(
        quiz_id=quiz.pk, question_id=gamestate.open_question_id(quiz)
    )
    if answered < players:
        return
    if quiz.auto_reveal:
        _reveal(quiz)
    elif cast(datetime, quiz.question_deadline) > timezone.now():  # the question is open
        quiz.question_deadline = timezone.now()
        _changed(quiz)
