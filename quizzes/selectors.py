"""Reads: quizzes for staff and players, participants by token, the leaderboard."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, Prefetch, QuerySet

from config import rows
from config.errors import ApplicationError
from quizzes import leaderboard
from quizzes.models import Choice, Participant, Question, Quiz


def quiz_exists(*, code: str) -> bool:
    return Quiz.objects.filter(code=code).exists()


def quiz_found(quiz: Quiz | None, *, code: str) -> Quiz:
    """`quiz`, or the 404 `quiz_not_found` (not 403): codes are the only way in."""
    if quiz is None:
        raise ApplicationError("quiz_not_found", f"No quiz with code {code}.", status=404)
    return quiz


def quiz_get(*, code: str) -> Quiz:
    return quiz_found(Quiz.objects.filter(code=code).first(), code=code)


def quiz_for_page(*, code: str) -> Quiz | None:
    """What the player, board and host pages show; None renders their not-found page."""
    fields = ("code", "title", "description", "status", "mode")
    return Quiz.objects.filter(code=code).only(*fields).first()


def quiz_for_join(*, code: str) -> Quiz:
    """The quiz as a join response shows it: no questions, only how many there are."""
    return quiz_found(
        Quiz.objects.annotate(question_count=Count("questions")).filter(code=code).first(),
        code=code,
    )


def quizzes_list() -> QuerySet[Quiz]:
    return (
        Quiz.objects.select_related("author")
        .annotate(
            question_count=Count("questions", distinct=True),
            participant_count=Count("participants", distinct=True),
        )
        .order_by("-created_at", "-id")
    )


def quiz_with_questions(*, code: str) -> Quiz:
    questions = Question.objects.order_by("order", "id").prefetch_related(
        Prefetch("choices", queryset=Choice.objects.order_by("id"))
    )
    quiz = (
        Quiz.objects.select_related("author")
        .prefetch_related(Prefetch("questions", queryset=questions))
        .filter(code=code)
        .first()
    )
    return quiz_found(quiz, code=code)


# Every participant request authenticates with this: one statement, no ORM compilation.
_PARTICIPANT_BY_TOKEN_SQL = (
    f"SELECT {rows.columns(Participant, 'p')}, {rows.columns(Quiz, 'q')} "
    "FROM quizzes_participant p JOIN quizzes_quiz q ON q.id = p.quiz_id WHERE p.token_hash = %s"
)


def participant_by_token_hash(*, token_hash: str) -> Participant | None:
    """The participant, with its quiz loaded."""
    with connection.cursor() as cursor:
        cursor.execute(_PARTICIPANT_BY_TOKEN_SQL, [token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    participant, quiz = rows.instances(row, Participant, Quiz)
    participant.quiz = quiz
    return participant


def _rows(quiz: Quiz) -> list[leaderboard.Row]:
    values = Participant.objects.filter(quiz=quiz).values_list(
        "pk", "nickname", "score", "answered", "reached_score_at"
    )
    return [leaderboard.Row(*v) for v in values]


def leaderboard_rebuild(*, code: str, quiz: Quiz | None = None) -> None:
    """Refill a lost board from Postgres. A short lock keeps a reconnect storm to one rebuild:
    the others wait for it and find the board built. The rebuild is a max-merge, so running it
    twice (lock expired, a waiter gave up) is harmless."""
    quiz = quiz or Quiz.objects.filter(code=code).first()
    if quiz is None:
        return
    lock = leaderboard.rebuild_lock(code=code)
    acquired = lock.acquire()
    try:
        if not (acquired and leaderboard.is_built(code=code)):
            leaderboard.rebuild(code=code, epoch=quiz.created_at, rows=_rows(quiz))
    finally:
        if acquired:
            leaderboard.rebuild_unlock(lock)


def leaderboard_read(
    *, code: str, limit: int, quiz: Quiz | None = None, participant: Participant | None = None
) -> dict:
    """{"quiz", "participants", "entries"} (+ "me" for a participant). Rebuilds a lost board."""
    me_encoded = None
    if participant is not None:
        me_encoded = leaderboard.encode(
            score=participant.score,
            reached_at=participant.reached_score_at,
            epoch=participant.quiz.created_at,
        )
    data = leaderboard.read(code=code, limit=limit, me_encoded=me_encoded)
    if data is None:
        leaderboard_rebuild(code=code, quiz=quiz)
        data = leaderboard.read(code=code, limit=limit, me_encoded=me_encoded)
    data = data or {"participants": 0, "entries": [], "me_rank": None}  # quiz deleted
    body = {"quiz": code, "participants": data["participants"], "entries": data["entries"]}
    if participant is not None:
        body["me"] = {
            "participant_id": participant.pk,
            "nickname": participant.nickname,
            "score": participant.score,
            "answered": participant.answered,
            "rank": data["me_rank"],
        }
    return body


def participant_rank(*, participant: Participant) -> int:
    return leaderboard_read(
        code=participant.quiz.code, limit=0, quiz=participant.quiz, participant=participant
    )["me"]["rank"]
