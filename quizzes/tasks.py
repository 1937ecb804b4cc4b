"""Hosted-game timers. A question's deadline is in Postgres; these tasks only act on it."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from celery import shared_task, signals
from django.db import OperationalError

from quizzes import game
from quizzes.models import Quiz


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def game_deadline_check(*, code: str, version: int) -> bool:
    """Scheduled with `eta` = the question's deadline. Idempotent (see the service): a task of an
    older version, or one that arrives after a reveal, does nothing."""
    return game.game_deadline_check(code=code, version=version)


@signals.worker_ready.connect
def _rearm_deadlines(**kwargs: object) -> None:
    """A task held by a worker that died is redelivered only after the broker's visibility
    timeout: re-arm every open question from its stored deadline when a worker starts."""
    open_questions = Quiz.objects.filter(
        mode=Quiz.Mode.HOSTED, phase=Quiz.Phase.QUESTION, auto_reveal=True
    ).values_list("code", "game_version", "question_deadline")
    for code, version, deadline in open_questions:
        eta = cast(datetime, deadline)  # an open question has one
        game_deadline_check.apply_async(kwargs={"code": code, "version": version}, eta=eta)
