"""Reads for hosted games: the public state every screen shows, and each player's own view.

The public state is the whole truth a screen needs for the current phase (plain JSON types), so
one message replaces whatever a client held. It never carries another player's choice: per-choice
counts and the correct choice appear only from the reveal on. A player's own answer, points and
rank travel separately (`personal_states`), to that player only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from django.conf import settings
from django.db import connection
from django.utils import timezone

from quizzes import leaderboard, selectors
from quizzes.models import Answer, Choice, Participant, Question, Quiz

Phase = Quiz.Phase
REVEALED = {Phase.REVEAL, Phase.LEADERBOARD, Phase.FINISHED}
PODIUM = 3


def current_question_id(quiz: Quiz) -> int | None:
    if quiz.question_index is None:
        return None
    ids = (
        Question.objects.filter(quiz_id=quiz.pk)
        .order_by("order", "id")
        .values_list("pk", flat=True)
    )
    return ids[quiz.question_index]


def open_question_id(quiz: Quiz) -> int:
    """The current question of a game past the lobby: its first move set the index."""
    return cast(int, current_question_id(quiz))


def answer_counts(*, quiz_id: int, question_id: int) -> tuple[int, int]:
    """(answers to the question, players in the quiz), in one round trip."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM quizzes_answer WHERE question_id = %s),"
            " (SELECT count(*) FROM quizzes_participant WHERE quiz_id = %s)",
            [question_id, quiz_id],
        )
        answered, players = cursor.fetchone()
    return answered, players


def _question(question_id: int) -> dict:
    question = Question.objects.get(pk=question_id)
    choices = Choice.objects.filter(question_id=question_id).order_by("id")
    return {
        "id": question.pk,
        "text": question.text,
        "time_limit": question.time_limit,
        "choices": [{"id": c.pk, "text": c.text} for c in choices],
    }


def _reveal(question_id: int) -> dict:
    choices = Choice.objects.filter(question_id=question_id).order_by("id")
    counts = dict.fromkeys(choices.values_list("pk", flat=True), 0)
    for choice_id, n in _choice_counts(question_id):
        counts[choice_id] = n
    correct = choices.filter(correct=True).values_list("pk", flat=True).first()
    return {
        "correct_choice_id": correct,
        "counts": [{"choice_id": c, "count": n} for c, n in counts.items()],
    }


def _choice_counts(question_id: int) -> list[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT choice_id, count(*) FROM quizzes_answer WHERE question_id = %s GROUP BY 1",
            [question_id],
        )
        return cursor.fetchall()


def public_state(quiz: Quiz) -> dict:
    """What every screen of a hosted quiz shows now. `remaining` is by the server's clock at
    the time of the call: clients count down from their own receive time."""
    total = Question.objects.filter(quiz_id=quiz.pk).count()
    question_id = current_question_id(quiz)
    state: dict = {
        "quiz": quiz.code, "version": quiz.game_version, "phase": quiz.phase,
        "status": quiz.status,
        "number": None if quiz.question_index is None else quiz.question_index + 1,
        "total": total, "players": Participant.objects.filter(quiz_id=quiz.pk).count(),
        "late_join": quiz.late_join, "auto_reveal": quiz.auto_reveal, "question": None,
        "answered": None, "deadline": None, "remaining": None, "accepting": False,
        "reveal": None, "leaderboard": None, "podium": None,
    }  # fmt: skip
    if quiz.phase in (Phase.QUESTION, Phase.REVEAL):
        current = cast(int, question_id)  # a question phase has a current question
        state["question"] = _question(current)
        state["answered"], _ = answer_counts(quiz_id=quiz.pk, question_id=current)
    if quiz.phase == Phase.QUESTION:
        deadline = cast(datetime, quiz.question_deadline)  # set with the question's opening
        remaining = max(0.0, (deadline - timezone.now()).total_seconds())
        state.update(
            deadline=deadline.isoformat(),
            remaining=round(remaining, 3),
            accepting=remaining > 0,
        )
    if quiz.phase == Phase.REVEAL:
        state["reveal"] = _reveal(cast(int, question_id))
    if quiz.phase in (Phase.LEADERBOARD, Phase.FINISHED):
        board = selectors.leaderboard_read(
            code=quiz.code, limit=settings.QUIZ_LIVE_BOARD_SIZE, quiz=quiz
        )
        state["leaderboard"] = board["entries"]
        if quiz.phase == Phase.FINISHED:
            state["podium"] = board["entries"][:PODIUM]
    return state


def board_rows(quiz: Quiz) -> list[leaderboard.Row]:
    values = Participant.objects.filter(quiz_id=quiz.pk).values_list(
        "pk", "nickname", "score", "answered", "reached_score_at"
    )
    return [leaderboard.Row(*v) for v in values]


def personal_states(*, quiz: Quiz, participant_ids: list[int]) -> dict[int, dict]:
    """participant id -> {"type": "you", ...}: score and rank, and their answer to the current
    question (its result only once revealed). Two queries and one Redis round trip for all."""
    if not participant_ids:
        return {}
    question_id = current_question_id(quiz)
    rows = list(
        Participant.objects.filter(quiz_id=quiz.pk, pk__in=participant_ids).values_list(
            "pk", "nickname", "score", "reached_score_at"
        )
    )
    answers = {}
    if question_id is not None:
        answers = {
            a[0]: a
            for a in Answer.objects.filter(
                question_id=question_id, participant_id__in=participant_ids
            ).values_list("participant_id", "choice_id", "correct", "points")
        }
    encoded = [leaderboard.encode(score=r[2], reached_at=r[3], epoch=quiz.created_at) for r in rows]
    ranks: Sequence[int | None] | None = leaderboard.ranks(code=quiz.code, encoded=encoded)
    if ranks is None:  # a lost board: rebuild it from Postgres once, then rank
        selectors.leaderboard_rebuild(code=quiz.code, quiz=quiz)
        ranks = leaderboard.ranks(code=quiz.code, encoded=encoded) or [None] * len(rows)
    states = {}
    for (pk, nickname, score, _), rank in zip(rows, ranks, strict=True):
        answer = None
        if pk in answers:
            _, choice_id, correct, points = answers[pk]
            answer = {"question_id": question_id, "choice_id": choice_id}
            if quiz.phase in REVEALED:
                answer.update(correct=correct, points=points)
        states[pk] = {
            "type": "you", "version": quiz.game_version, "participant_id": pk,
            "nickname": nickname, "score": score, "rank": rank, "answer": answer,
        }  # fmt: skip
    return states
