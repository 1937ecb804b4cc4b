"""Joining rules shared by both modes: who may join, how many, under which name.

Classroom-proof: a whole class joins from one school address, so abuse is bounded per quiz
(QUIZ_MAX_PLAYERS, 409 `quiz_full`), not per address. The cap is exact: joins of one quiz take a
transaction-scoped advisory lock (answers never wait for it), count, then insert.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, connection

from config.errors import ApplicationError
from quizzes import nicknames
from quizzes.models import Participant, Quiz

# pg_advisory_xact_lock(int, int): this namespace + the quiz id (tutor's flush uses the one-key
# form, so the two never meet).
JOIN_LOCK_NAMESPACE = 0x51A1
KEY_CONSTRAINT = "quizzes_participant_nickname_key_unique"
SKELETON_CONSTRAINT = "quizzes_participant_nickname_skeleton_unique"


def nickname_fields(raw: str) -> dict[str, str]:
    """The Participant fields for a requested nickname; 400 naming `nickname` if unusable."""
    nickname = nicknames.clean(raw)
    return {
        "nickname": nickname,
        "nickname_key": nicknames.key(nickname),
        "nickname_skeleton": nicknames.skeleton(nickname),
    }


def join_admit(*, quiz: Quiz) -> None:
    """Call inside the join's transaction, before the insert: locks the quiz's joins, then
    checks the hosted late-join rule and the per-quiz cap."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [JOIN_LOCK_NAMESPACE, quiz.pk % 2**31]
        )
    if quiz.mode == Quiz.Mode.HOSTED and quiz.phase != Quiz.Phase.LOBBY and not quiz.late_join:
        raise ApplicationError(
            "late_join_closed", "This game has started and takes no new players.", status=409
        )
    if Participant.objects.filter(quiz_id=quiz.pk).count() >= settings.QUIZ_MAX_PLAYERS:
        raise ApplicationError(
            "quiz_full", f"This quiz is full ({settings.QUIZ_MAX_PLAYERS} players).", status=409
        )


def nickname_conflict(exc: IntegrityError) -> ApplicationError | None:
    """The 409 for a nickname that is taken or looks like a taken one; None for other errors."""
    if KEY_CONSTRAINT in str(exc):
        return ApplicationError(
            "nickname_taken",
            "This nickname is taken in this quiz (ignoring case and width).",
            status=409,
            attr="nickname",
        )
    if SKELETON_CONSTRAINT in str(exc):
        return ApplicationError(
            "nickname_confusable",
            "This nickname looks like one already taken in this quiz: pick another.",
            status=409,
            attr="nickname",
        )
    return None
