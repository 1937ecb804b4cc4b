"""Every quiz state change. Leaderboard writes and websocket signals go out on commit."""

from __future__ import annotations

import contextlib
import hashlib
import math
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config import redis as app_redis
from config import rows
from config.errors import ApplicationError
from quizzes import events, joining, leaderboard, metrics, selectors
from quizzes.models import (
    Answer,
    Choice,
    Participant,
    Question,
    Quiz,
    quiz_code_generate,
)

Status = Quiz.Status
# The only moves a quiz makes; anything else is a 409 naming `status`.
TRANSITIONS: dict[str, str] = {Status.DRAFT: Status.OPEN, Status.OPEN: Status.CLOSED}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def answer_points(*, correct: bool, elapsed: float, time_limit: int) -> int:
    """round(1000 x (1 - t / 2T)) for a correct answer within T, rounding halves up; else 0."""
    if not correct or elapsed > time_limit:
        return 0
    return math.floor(1000 * (1 - max(elapsed, 0.0) / (2 * time_limit)) + 0.5)


# --- Authoring ---------------------------------------------------------------------------------


def _questions_create(*, quiz: Quiz, questions: list[dict]) -> None:
    created = Question.objects.bulk_create(
        Question(quiz=quiz, order=i, text=q["text"], time_limit=q.get("time_limit", 20))
        for i, q in enumerate(questions, start=1)
    )
    Choice.objects.bulk_create(
        Choice(question=question, text=c["text"], correct=c.get("correct", False))
        for question, q in zip(created, questions, strict=True)
        for c in q["choices"]
    )


@transaction.atomic
def quiz_create(
    *,
    author: User,
    title: str,
    description: str,
    questions: list[dict],
    mode: str = Quiz.Mode.SELF_PACED,
    **hosted_settings: bool,
) -> Quiz:
    """Creates a draft quiz with its questions and choices (already validated by the caller).
    `hosted_settings`: close_when_all_answered, auto_reveal, late_join (model defaults)."""
    for attempt in range(5):
        try:
            with transaction.atomic():  # a code collision (1 in ~10^9) only retries the code
                quiz = Quiz.objects.create(
                    title=title, description=description, author=author, mode=mode,
                    code=quiz_code_generate(), **hosted_settings,
                )  # fmt: skip
            break
        except IntegrityError:
            if attempt == 4:
                raise
    _questions_create(quiz=quiz, questions=questions)
    return quiz


def _quiz_locked(code: str) -> Quiz:
    return selectors.quiz_found(
        Quiz.objects.select_for_update().filter(code=code).first(), code=code
    )


ANY_TIME_FIELDS = ("title", "description", "close_when_all_answered", "auto_reveal", "late_join")


def _draft_only(quiz: Quiz, field: str) -> None:
    if quiz.status != Status.DRAFT:
        raise ApplicationError(
            "quiz_not_draft",
            f"`{field}` can only change while the quiz is draft (it is {quiz.status}).",
            status=409,
            attr=field,
        )


@transaction.atomic
def quiz_update(*, code: str, data: dict) -> Quiz:
    """PATCH: title, description and hosted settings any time; questions and mode only while
    draft; status via transitions."""
    quiz = _quiz_locked(code)
    if "questions" in data:
        _draft_only(quiz, "questions")
        quiz.questions.all().delete()
        _questions_create(quiz=quiz, questions=data["questions"])
    if "mode" in data and data["mode"] != quiz.mode:
        _draft_only(quiz, "mode")
        quiz.mode = data["mode"]
    for field in ANY_TIME_FIELDS:
        if field in data:
            setattr(quiz, field, data[field])
    quiz.save(update_fields=[*ANY_TIME_FIELDS, "mode"])
    if "status" in data:
        quiz = quiz_status_set(code=code, status=data["status"])
    return quiz


@transaction.atomic
def quiz_status_set(*, code: str, status: str) -> Quiz:
    """draft -> open -> closed; setting the current status again is a no-op (idempotent).

    Closing takes the quiz row FOR UPDATE, which waits for in-flight answers (they hold it FOR
    SHARE): the final leaderboard includes every answer accepted before the close.
    """
    quiz = _quiz_locked(code)
    if quiz.status == status:
        return quiz
    if TRANSITIONS.get(quiz.status) != status:
        raise ApplicationError(
            "invalid_status_transition",
            f"A {quiz.status} quiz cannot become {status} (draft -> open -> closed).",
            status=409,
            attr="status",
        )
    now = timezone.now()
    if status == Status.OPEN:
        if not quiz.questions.exists():
            raise ApplicationError(
                "quiz_has_no_questions", "Add questions before opening.", status=409, attr="status"
            )
        quiz.opened_at = now
    elif quiz.mode == Quiz.Mode.HOSTED:
        from quizzes import game  # game builds on this module

        game.game_finish_locked(quiz)  # closes it, and the players' screens show the podium
        return quiz
    else:
        quiz.closed_at = now
        transaction.on_commit(partial(events.closed, None, code=quiz.code))
    quiz.status = status
    quiz.save(update_fields=["status", "opened_at", "closed_at"])
    return quiz


@transaction.atomic
def quiz_delete(*, code: str) -> None:
    quiz = _quiz_locked(code)
    quiz.delete()

    def _after() -> None:
        leaderboard.drop(code=code)
        events.closed(None, code=code)  # connected boards stop waiting

    transaction.on_commit(_after)


# --- Playing -----------------------------------------------------------------------------------


def _row(participant: Participant) -> leaderboard.Row:
    return leaderboard.Row(
        participant_id=participant.pk,
        nickname=participant.nickname,
        score=participant.score,
        answered=participant.answered,
        reached_score_at=participant.reached_score_at,
    )


def _board_store_and_signal(*, quiz: Quiz, row: leaderboard.Row, joined: bool) -> None:
    """On commit: one Redis round trip writes the board and publishes the quiz's signal."""
    pipe = app_redis.data_client().pipeline()
    leaderboard.store(pipe, code=quiz.code, epoch=quiz.created_at, rows=[row])
    if joined:
        events.joined(pipe, code=quiz.code, nickname=row.nickname)
    else:
        events.dirty(pipe, code=quiz.code)
    app_redis.pipeline_execute(pipe)


def participant_join(*, code: str, nickname: str) -> tuple[Participant, str]:
    """Returns the new participant and its bearer token, which is never stored or shown again."""
    quiz = selectors.quiz_get(code=code)
    if quiz.status != Status.OPEN:
        raise ApplicationError(
            "quiz_not_open", f"This quiz is {quiz.status}, not open.", status=409
        )
    fields = joining.nickname_fields(nickname)  # 400 for invisible or control characters
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            joining.join_admit(quiz=quiz)  # late join (hosted) and the per-quiz cap
            participant = Participant.objects.create(
                quiz=quiz,
                **fields,
                token_hash=token_hash(token),
                reached_score_at=timezone.now(),
            )
            transaction.on_commit(
                partial(_board_store_and_signal, quiz=quiz, row=_row(participant), joined=True)
            )
    except IntegrityError as exc:
        conflict = joining.nickname_conflict(exc)
        if conflict is None:
            raise
        raise conflict from exc
    metrics.participants_joined.inc()
    return participant, token


@dataclass(frozen=True)
class Entry:
    participant: Participant
    token: str
    created: bool


def participant_enter(
    *, code: str, nickname: str | None, resuming: Participant | None, token: str | None
) -> Entry:
    """Join with a nickname, or resume as `resuming` (the holder of `token`).

    Resuming keeps the participant and score and ignores the nickname; a token of another quiz
    is a 403, so a player never silently joins a second quiz under an old identity.
    """
    if resuming is not None and token is not None:
        if resuming.quiz.code != code:
            raise ApplicationError(
                "participant_of_other_quiz",
                "This participant token belongs to another quiz.",
                status=403,
            )
        return Entry(participant=resuming, token=token, created=False)
    nickname = (nickname or "").strip()
    if not nickname:
        raise ApplicationError("required", "Choose a nickname.", attr="nickname")
    participant, token = participant_join(code=code, nickname=nickname)
    return Entry(participant=participant, token=token, created=True)


@dataclass(frozen=True)
class Served:
    question: Question
    choices: list[Choice]
    served_at: datetime
    number: int
    total: int

    @property
    def remaining(self) -> float:
        """Seconds left to answer, by the server's clock (never negative)."""
        elapsed = (timezone.now() - self.served_at).total_seconds()
        return max(0.0, self.question.time_limit - elapsed)


# All of `next` in one round trip: the first unanswered question in the quiz's order, its timer
# started or kept (insert or keep: a refresh or two tabs racing never reset it), the number of
# questions, and the question's choices, one row each.
_SERVE_SQL = f"""
WITH nq AS (
  SELECT * FROM quizzes_question q
  WHERE q.quiz_id = %(quiz)s AND NOT EXISTS (
    SELECT 1 FROM quizzes_answer a WHERE a.participant_id = %(participant)s AND a.question_id = q.id
  )
  ORDER BY q."order", q.id LIMIT 1
), serve AS (
  INSERT INTO quizzes_questionserve (participant_id, question_id, served_at)
  SELECT %(participant)s, id, %(now)s FROM nq
  ON CONFLICT (participant_id, question_id)
  DO UPDATE SET served_at = quizzes_questionserve.served_at
  RETURNING served_at
)
SELECT (SELECT served_at FROM serve),
       (SELECT count(*) FROM quizzes_question WHERE quiz_id = %(quiz)s),
       {rows.columns(Question, "nq")}, {rows.columns(Choice, "c")}
FROM nq LEFT JOIN quizzes_choice c ON c.question_id = nq.id
ORDER BY c.id
"""


def question_serve(*, participant: Participant) -> Served | None:
    """The participant's next unanswered question, starting its timer. None when done.

    Idempotent: serving the same unanswered question again keeps the first served_at, so a
    refresh never resets the clock.
    """
    _quiz_must_be_self_paced(participant.quiz)
    _quiz_must_be_open(participant.quiz.status)
    params: dict[str, int | datetime] = {
        "quiz": participant.quiz_id,
        "participant": participant.pk,
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(_SERVE_SQL, params)
        found = cursor.fetchall()
    if not found:
        return None
    served_at, total = found[0][:2]
    loaded = [rows.instances(row[2:], Question, Choice) for row in found]
    question = loaded[0][0]
    choices = [choice for _, choice in loaded if choice is not None]
    return Served(question, choices, served_at, participant.answered + 1, total)


def _quiz_must_be_self_paced(quiz: Quiz) -> None:
    if quiz.mode == Quiz.Mode.HOSTED:
        raise ApplicationError(
            "quiz_is_hosted",
            "This quiz is hosted: questions come with the game state (GET /game, websocket) "
            "and answers go to POST /game/answers.",
            status=409,
        )


def _quiz_must_be_open(status: str) -> None:
    if status != Status.OPEN:
        code = "quiz_closed" if status == Status.CLOSED else "quiz_not_open"
        raise ApplicationError(code, f"This quiz is {status}: no answers now.", status=409)


@dataclass(frozen=True)
class AnswerOutcome:
    correct: bool
    late: bool
    points: int
    participant: Participant


def answer_submit(*, participant: Participant, question_id: int, choice_id: int) -> AnswerOutcome:
    """Records one answer, timed from when `next` served it. A second answer is a 409."""
    _quiz_must_be_self_paced(participant.quiz)
    with one_answer_per_question():
        return _answer_record(participant=participant, question_id=question_id, choice_id=choice_id)


@contextlib.contextmanager
def one_answer_per_question() -> Iterator[None]:
    """The database's one-answer-per-question constraint, as the API's 409 (both modes)."""
    try:
        yield
    except IntegrityError as exc:
        if "quizzes_answer_once_per_question" not in str(exc):
            raise
        raise ApplicationError(
            "already_answered", "This question is already answered.", status=409, attr="question_id"
        ) from exc


@dataclass(frozen=True)
class _AnswerContext:
    status: str
    time_limit: int | None  # None: no such question in this quiz
    correct: bool | None  # None: not one of the question's choices
    served_at: datetime | None  # None: `next` never served it
    score: int
    answered: int
    reached_score_at: datetime


# One round trip for everything an answer is judged by. The participant row is locked FOR NO KEY
# UPDATE: it serializes a participant's answers (no lost or doubled points) without blocking the
# inserts that reference it. The quiz row FOR SHARE: concurrent answers don't block each other,
# but a close waits for them.
_ANSWER_CONTEXT_SQL = """
SELECT quiz.status, question.time_limit, choice.correct, serve.served_at,
       participant.score, participant.answered, participant.reached_score_at
FROM quizzes_participant participant
JOIN quizzes_quiz quiz ON quiz.id = participant.quiz_id
LEFT JOIN quizzes_question question ON question.id = %(question)s AND question.quiz_id = quiz.id
LEFT JOIN quizzes_choice choice ON choice.id = %(choice)s AND choice.question_id = question.id
LEFT JOIN quizzes_questionserve serve
       ON serve.participant_id = participant.id AND serve.question_id = question.id
WHERE participant.id = %(participant)s
FOR NO KEY UPDATE OF participant FOR SHARE OF quiz
"""


def _answer_context(
    *, participant: Participant, question_id: int, choice_id: int
) -> _AnswerContext:
    with connection.cursor() as cursor:
        cursor.execute(
            _ANSWER_CONTEXT_SQL,
            {"participant": participant.pk, "question": question_id, "choice": choice_id},
        )
        row = cursor.fetchone()
    if row is None:  # the quiz (and with it the participant) was deleted meanwhile
        raise ApplicationError("quiz_closed", "This quiz is gone: no answers now.", status=409)
    return _AnswerContext(*row)


def _answer_judge(context: _AnswerContext) -> tuple[int, bool, datetime]:
    """(time limit, correct, served at), or the error the first failed check names."""
    _quiz_must_be_open(context.status)
    if context.time_limit is None:
        raise ApplicationError(
            "question_not_found", "No such question in this quiz.", status=404, attr="question_id"
        )
    if context.correct is None:
        raise ApplicationError(
            "choice_not_in_question", "This choice is not one of the question's.", attr="choice_id"
        )
    if context.served_at is None:
        raise ApplicationError(
            "question_not_served",
            "Fetch this question with GET /next first: its timer starts there.",
            status=409,
            attr="question_id",
        )
    return context.time_limit, context.correct, context.served_at


def _result(*, correct: bool, late: bool) -> str:
    if late:
        return Answer.Result.LATE
    return Answer.Result.CORRECT if correct else Answer.Result.WRONG


@transaction.atomic
def _answer_record(*, participant: Participant, question_id: int, choice_id: int) -> AnswerOutcome:
    quiz = participant.quiz
    context = _answer_context(participant=participant, question_id=question_id, choice_id=choice_id)
    time_limit, correct, served_at = _answer_judge(context)
    # The locked row's counters, not the ones authentication read before the lock.
    participant.score, participant.answered = context.score, context.answered
    participant.reached_score_at = context.reached_score_at
    now = timezone.now()
    elapsed = (now - served_at).total_seconds()
    points = answer_points(correct=correct, elapsed=elapsed, time_limit=time_limit)
    late = elapsed > time_limit
    result = _result(correct=correct, late=late)
    _score_add(participant, points=points, at=now)
    _answer_and_score_store(
        participant,
        question=question_id,
        choice=choice_id,
        correct=correct,
        result=result,
        points=points,
        answered_at=now,
        response_ms=max(0, round(elapsed * 1000)),
    )
    transaction.on_commit(
        partial(_board_store_and_signal, quiz=quiz, row=_row(participant), joined=False)
    )
    transaction.on_commit(partial(metrics.answers.labels(result=result).inc))
    return AnswerOutcome(correct=correct, late=late, points=points, participant=participant)


def _score_add(participant: Participant, *, points: int, at: datetime) -> None:
    """In memory; `_answer_and_score_store` writes it."""
    participant.score += points
    participant.answered += 1
    if points:  # ties rank by who reached the score first, so only a gain moves the time
        participant.reached_score_at = at


# The answer and its participant's new score in one round trip. A second answer to the question
# fails the whole statement on quizzes_answer_once_per_question (see one_answer_per_question).
_ANSWER_AND_SCORE_SQL = """
WITH answer AS (
  INSERT INTO quizzes_answer
    (participant_id, question_id, choice_id, correct, result, points, answered_at, response_ms)
  VALUES (%(participant)s, %(question)s, %(choice)s, %(correct)s, %(result)s, %(points)s,
          %(answered_at)s, %(response_ms)s)
  RETURNING participant_id
)
UPDATE quizzes_participant
SET score = %(score)s, answered = %(answered)s, reached_score_at = %(reached_score_at)s
WHERE id = (SELECT participant_id FROM answer)
"""


def _answer_and_score_store(
    participant: Participant,
    *,
    question: int,
    choice: int,
    correct: bool,
    result: str,
    points: int,
    answered_at: datetime,
    response_ms: int,
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            _ANSWER_AND_SCORE_SQL,
            {
                "participant": participant.pk,
                "question": question,
                "choice": choice,
                "correct": correct,
                "result": result,
                "points": points,
                "answered_at": answered_at,
                "response_ms": response_ms,
                "score": participant.score,
                "answered": participant.answered,
                "reached_score_at": participant.reached_score_at,
            },
        )
