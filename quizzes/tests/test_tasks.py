"""Hosted-game timers: the deadline task acts on the stored deadline; a starting worker re-arms
every open question (enqueued on the real broker, run here in-process)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from config import redis as app_redis
from quizzes import game, tasks
from quizzes.models import Quiz
from quizzes.tests.factories import hosted_quiz

pytestmark = pytest.mark.django_db

QUEUE = "celery"  # Celery's default queue: a Redis list on the broker


def _started(**settings) -> Quiz:
    quiz = hosted_quiz(**settings)
    game.game_start(code=quiz.code)
    quiz.refresh_from_db()
    return quiz


def test_game_deadline_check_task_reveals_once_the_deadline_passed():
    quiz = _started()
    early = tasks.game_deadline_check(code=quiz.code, version=quiz.game_version)
    Quiz.objects.filter(pk=quiz.pk).update(question_deadline=timezone.now() - timedelta(seconds=1))

    due = tasks.game_deadline_check(code=quiz.code, version=quiz.game_version)

    quiz.refresh_from_db()
    assert (early, due, quiz.phase) == (False, True, Quiz.Phase.REVEAL)


def test_worker_start_rearms_every_open_auto_reveal_question():
    open_question = _started()
    _started(auto_reveal=False)  # waits for the host: no timer
    hosted_quiz()  # lobby: no timer
    broker = app_redis.client()
    broker.delete(QUEUE)

    tasks._rearm_deadlines()

    queued = [json.loads(raw) for raw in broker.lrange(QUEUE, 0, -1)]
    assert [m["headers"]["task"] for m in queued] == ["quizzes.tasks.game_deadline_check"]
    assert queued[0]["headers"]["eta"] == open_question.question_deadline.isoformat()
