import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from redis.lock import Lock

from config import redis as app_redis
from config.errors import ApplicationError
from quizzes import leaderboard, selectors, services
from quizzes.models import Answer, Participant, QuestionServe
from quizzes.tests.factories import (
    correct_choice,
    participant_make,
    quiz_with_questions,
    wrong_choice,
)


@pytest.mark.parametrize(
    ("correct", "elapsed", "limit", "points"),
    [
        (True, 0.0, 20, 1000),
        (True, 10.0, 20, 750),
        (True, 20.0, 20, 500),  # the last moment still earns half
        (True, 20.001, 20, 0),  # late
        (True, 1.0, 8, 938),  # 937.5 rounds half up
        (False, 1.0, 20, 0),
    ],
)
def test_answer_points_follows_the_formula(correct, elapsed, limit, points):
    assert services.answer_points(correct=correct, elapsed=elapsed, time_limit=limit) == points


@pytest.mark.django_db
def test_question_serve_is_idempotent_and_keeps_first_served_at(quiz):
    participant, _ = participant_make(quiz=quiz, nickname="ada")

    first = services.question_serve(participant=participant)
    QuestionServe.objects.update(served_at=timezone.now() - timedelta(seconds=5))
    second = services.question_serve(participant=participant)

    assert first.question == second.question
    assert (timezone.now() - second.served_at).total_seconds() >= 5


@pytest.mark.django_db
def test_answer_submit_twice_is_409_and_scores_once(quiz):
    participant, _ = participant_make(quiz=quiz, nickname="ada")
    question = services.question_serve(participant=participant).question
    choice = correct_choice(question)
    services.answer_submit(participant=participant, question_id=question.pk, choice_id=choice.pk)

    with pytest.raises(ApplicationError) as caught:
        services.answer_submit(
            participant=participant, question_id=question.pk, choice_id=choice.pk
        )

    assert caught.value.status_code == 409
    participant.refresh_from_db()
    assert participant.answered == 1
    assert participant.score >= 999


def _run_at_once(jobs: list) -> list:
    """Start every job at the same moment (barrier); each thread closes its DB connection."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(i: int, job) -> None:
        try:
            barrier.wait()
            results[i] = job()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _submit(participant, question, choice):
    return lambda: services.answer_submit(
        participant=participant, question_id=question.pk, choice_id=choice.pk
    )


def _answer_jobs(players: list, questions: list) -> list:
    """Every player answers question 1; player 0 also answers questions 2 and 3 at the same
    moment, and submits question 1 a second time: all on the same participant row."""
    first_right = correct_choice(questions[0])
    jobs = [_submit(p, questions[0], first_right) for p in players]
    return [
        *jobs,
        _submit(players[0], questions[1], correct_choice(questions[1])),
        _submit(players[0], questions[2], wrong_choice(questions[2])),
        _submit(players[0], questions[0], first_right),
    ]


def _assert_scores_match_answers_and_the_board(quiz) -> None:
    for participant in Participant.objects.all():
        answers = Answer.objects.filter(participant=participant)
        assert participant.score == sum(a.points for a in answers)
        assert participant.answered == answers.count()
    # The Redis board (written on commit, out of order) agrees with Postgres.
    board = selectors.leaderboard_read(code=quiz.code, limit=100)
    by_name = {e["nickname"]: e for e in board["entries"]}
    for participant in Participant.objects.all():
        assert by_name[participant.nickname]["score"] == participant.score
        assert by_name[participant.nickname]["answered"] == participant.answered


@pytest.mark.django_db(transaction=True)
def test_fifty_participants_answering_at_once_lose_and_double_nothing():
    quiz = quiz_with_questions(questions=3)
    questions = list(quiz.questions.all())
    players = [participant_make(quiz=quiz, nickname=f"p{n}")[0] for n in range(50)]
    now = timezone.now()
    QuestionServe.objects.bulk_create(
        QuestionServe(participant=p, question=q, served_at=now - timedelta(seconds=n % 20))
        for n, p in enumerate(players)
        for q in questions
    )

    results = _run_at_once(_answer_jobs(players, questions))

    conflicts = [r for r in results if isinstance(r, ApplicationError)]
    assert [c.status_code for c in conflicts] == [409]  # only the double submit
    assert not [r for r in results if isinstance(r, Exception) and r not in conflicts]
    _assert_scores_match_answers_and_the_board(quiz)
    assert Participant.objects.get(pk=players[0].pk).answered == 3


@pytest.mark.django_db(transaction=True)
def test_leaderboard_is_rebuilt_from_postgres_when_redis_loses_it():
    quiz = quiz_with_questions(questions=1)
    question = quiz.questions.get()
    alice, _ = participant_make(quiz=quiz, nickname="alice")
    bob, _ = participant_make(quiz=quiz, nickname="bob")
    for participant, seconds in ((alice, 10), (bob, 2)):
        QuestionServe.objects.create(
            participant=participant,
            question=question,
            served_at=timezone.now() - timedelta(seconds=seconds),
        )
        services.answer_submit(
            participant=participant, question_id=question.pk, choice_id=correct_choice(question).pk
        )
    before = selectors.leaderboard_read(code=quiz.code, limit=10)

    app_redis.client().flushdb()  # Redis restarted empty
    after = selectors.leaderboard_read(code=quiz.code, limit=10)

    assert [e["nickname"] for e in before["entries"]] == ["bob", "alice"]
    assert after == before
    assert app_redis.client().hexists(leaderboard.keys(quiz.code)[1], "_built")


def _signal_refusals(monkeypatch) -> threading.Event:
    """Spy on the rebuild lock: the event is set when an acquire attempt finds it taken."""
    refused = threading.Event()
    real = leaderboard.rebuild_lock

    def spied(*, code: str) -> Lock:
        lock = real(code=code)
        attempt = lock.do_acquire

        def do_acquire(token: str) -> bool:
            acquired = attempt(token)
            if not acquired:
                refused.set()
            return acquired

        lock.do_acquire = do_acquire
        return lock

    monkeypatch.setattr(leaderboard, "rebuild_lock", spied)
    return refused


def _read_in_thread(code: str) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def read() -> None:
        try:
            result["board"] = selectors.leaderboard_read(code=code, limit=10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    return thread, result


def _rebuild_as_another_process(rebuild, quiz, participant) -> None:
    row = leaderboard.Row(participant.pk, participant.nickname, 0, 0, participant.reached_score_at)
    rebuild(code=quiz.code, epoch=quiz.created_at, rows=[row])


@pytest.mark.django_db(transaction=True)
def test_leaderboard_rebuild_waits_for_a_rebuild_in_progress(monkeypatch):
    quiz = quiz_with_questions()
    participant, _ = participant_make(quiz=quiz, nickname="ada")
    holder = leaderboard.rebuild_lock(code=quiz.code)
    assert holder.acquire()  # another process is rebuilding...
    monkeypatch.setattr(leaderboard, "REBUILD_WAIT_S", 60.0)  # only the release ends the wait
    refused = _signal_refusals(monkeypatch)
    real_rebuild, rebuilds = leaderboard.rebuild, []
    monkeypatch.setattr(leaderboard, "rebuild", lambda **kw: rebuilds.append(kw))

    reader, result = _read_in_thread(quiz.code)
    assert refused.wait(timeout=10)  # the reader found the lock taken...
    _rebuild_as_another_process(real_rebuild, quiz, participant)  # ...that process finishes
    holder.release()
    reader.join(timeout=10)

    assert not reader.is_alive()
    assert rebuilds == []  # it waited, then used that rebuild instead of making its own
    assert [e["nickname"] for e in result["board"]["entries"]] == ["ada"]


@pytest.mark.django_db
def test_leaderboard_rebuild_gives_up_waiting_without_freeing_the_others_lock(quiz, monkeypatch):
    participant_make(quiz=quiz, nickname="ada")
    holder = leaderboard.rebuild_lock(code=quiz.code)
    assert holder.acquire()  # another process is rebuilding...
    monkeypatch.setattr(leaderboard, "REBUILD_WAIT_S", 0.05)

    board = selectors.leaderboard_read(code=quiz.code, limit=10)  # ...and gives up on it

    assert [e["nickname"] for e in board["entries"]] == ["ada"]
    assert holder.owned()  # the waiter never released a lock it did not hold


def test_leaderboard_store_is_a_max_merge(db):
    quiz = quiz_with_questions(questions=1)
    newer = leaderboard.Row(1, "ada", 900, 2, quiz.created_at + timedelta(seconds=5))
    older = leaderboard.Row(1, "ada", 500, 1, quiz.created_at + timedelta(seconds=2))
    leaderboard.rebuild(code=quiz.code, epoch=quiz.created_at, rows=[])

    for row in (newer, older):  # on-commit writes arriving out of order
        pipe = app_redis.client().pipeline()
        leaderboard.store(pipe, code=quiz.code, epoch=quiz.created_at, rows=[row])
        pipe.execute()

    entry = leaderboard.read(code=quiz.code, limit=5)["entries"][0]
    assert (entry["score"], entry["answered"]) == (900, 2)


def test_leaderboard_encoding_orders_score_then_earliest(db):
    quiz = quiz_with_questions(questions=1)
    epoch = quiz.created_at

    def enc(score: int, seconds: float) -> int:
        return leaderboard.encode(
            score=score, reached_at=epoch + timedelta(seconds=seconds), epoch=epoch
        )

    assert enc(1000, 50) > enc(999, 1) > enc(999, 2)
    assert leaderboard.decode_score(float(enc(100_000, 3600 * 24 * 365))) == 100_000
