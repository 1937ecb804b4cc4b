import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.utils import timezone
from prometheus_client import REGISTRY

from config import redis as app_redis
from quizzes import events, fanout, leaderboard, routing, services
from quizzes.models import QuestionServe
from quizzes.tests.factories import correct_choice, participant_make, quiz_with_questions
from quizzes.tests.helpers import receive_until

pytestmark = pytest.mark.django_db(transaction=True)

application = URLRouter(routing.websocket_urlpatterns)


@pytest.fixture(autouse=True)
async def _close_db_connections():
    yield
    # The communicator's database_sync_to_async thread keeps its connection open.
    await sync_to_async(connections.close_all)()


async def connected(code: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/quizzes/{code}/")
    ok, _ = await communicator.connect()
    assert ok
    return communicator


@sync_to_async
def make_quiz(**kwargs):
    return quiz_with_questions(**kwargs)


@sync_to_async
def make_player(quiz, nickname: str, score: int = 0):
    participant, _ = participant_make(quiz=quiz, nickname=nickname)
    participant.score = score
    participant.save(update_fields=["score"])
    return participant


@sync_to_async
def serve_and_answer(quiz, participant, seconds_ago: float = 10) -> services.AnswerOutcome:
    question = quiz.questions.first()
    QuestionServe.objects.create(
        participant=participant,
        question=question,
        served_at=timezone.now() - timedelta(seconds=seconds_ago),
    )
    return services.answer_submit(
        participant=participant, question_id=question.pk, choice_id=correct_choice(question).pk
    )


def board_write(quiz, *, score: int, answered: int) -> None:
    """What an answer's on-commit does, without Postgres: board write + one dirty publish."""
    pipe = app_redis.data_client().pipeline()
    row = leaderboard.Row(1, "ada", score, answered, quiz.created_at)
    leaderboard.store(pipe, code=quiz.code, epoch=quiz.created_at, rows=[row])
    events.dirty(pipe, code=quiz.code)
    pipe.execute()


async def test_consumer_sends_leaderboard_snapshot_on_connect():
    quiz = await make_quiz()
    await make_player(quiz, "ada", 500)
    await make_player(quiz, "bob", 900)

    communicator = await connected(quiz.code)
    snapshot = await communicator.receive_json_from()

    assert snapshot["type"] == "leaderboard"
    assert snapshot["participants"] == 2
    assert [(e["rank"], e["nickname"], e["score"]) for e in snapshot["entries"]] == [
        (1, "bob", 900),
        (2, "ada", 500),
    ]
    await communicator.disconnect()


async def test_sockets_connecting_at_once_share_board_reads_and_each_get_one_snapshot(
    monkeypatch,
):
    quiz = await make_quiz()
    await make_player(quiz, "ada", 500)
    reads = []
    real_board = fanout._board

    async def counted_board(code: str) -> dict:
        reads.append(code)
        return await real_board(code)

    monkeypatch.setattr(fanout, "_board", counted_board)

    sockets = await asyncio.gather(*(connected(quiz.code) for _ in range(30)))
    snapshots = [await s.receive_json_from() for s in sockets]

    assert all(s["type"] == "leaderboard" and s["participants"] == 1 for s in snapshots)
    assert len(reads) < len(sockets) / 3  # one read per round, not one per socket
    assert [await s.receive_nothing(timeout=0.2) for s in sockets] == [True] * len(sockets)
    for s in sockets:
        await s.disconnect()


async def test_a_snapshot_is_never_older_than_a_broadcast_before_it():
    quiz = await make_quiz()
    first = await connected(quiz.code)
    await first.receive_json_from()

    await sync_to_async(board_write)(quiz, score=100, answered=1)
    late = await connected(quiz.code)  # its snapshot round queues behind the broadcast's lock
    messages = [await late.receive_json_from(), *await _drain(late)]

    answered = [m["entries"][0]["answered"] if m["entries"] else 0 for m in messages]
    assert answered == sorted(answered)
    assert answered[-1] == 1
    await first.disconnect()
    await late.disconnect()


async def _drain(communicator: WebsocketCommunicator) -> list[dict]:
    found = []
    while not await communicator.receive_nothing(timeout=0.3):
        found.append(await communicator.receive_json_from())
    return found


async def test_consumer_closes_4404_for_unknown_quiz():
    communicator = WebsocketCommunicator(application, "/ws/quizzes/ZZZZZZ/")
    await communicator.connect()

    output = await communicator.receive_output()

    assert output == {"type": "websocket.close", "code": 4404}


@pytest.mark.parametrize("code", ["ZZ0ZZZ", "ZZ%00ZZ", "toolongcode"])
async def test_consumer_closes_4404_for_a_code_that_cannot_be_a_quiz(code):
    communicator = WebsocketCommunicator(application, f"/ws/quizzes/{code}/")
    await communicator.connect()

    output = await communicator.receive_output()

    assert output == {"type": "websocket.close", "code": 4404}


async def test_consumer_accepts_a_lower_case_code():
    quiz = await make_quiz()

    communicator = await connected(quiz.code.lower())
    snapshot = await communicator.receive_json_from()

    assert (snapshot["type"], snapshot["quiz"]) == ("leaderboard", quiz.code)
    await communicator.disconnect()


async def test_answer_reaches_watchers_as_a_new_leaderboard():
    quiz = await make_quiz()
    ada = await make_player(quiz, "ada")
    communicator = await connected(quiz.code)
    await communicator.receive_json_from()  # snapshot

    outcome = await serve_and_answer(quiz, ada, seconds_ago=10)
    update = await communicator.receive_json_from(timeout=2)

    assert update["type"] == "leaderboard"
    assert update["entries"][0] == {
        "rank": 1,
        "nickname": "ada",
        "score": outcome.points,
        "answered": 1,
    }
    await communicator.disconnect()


async def test_join_sends_participant_joined_then_leaderboard():
    quiz = await make_quiz()
    communicator = await connected(quiz.code)
    await communicator.receive_json_from()

    await sync_to_async(services.participant_join)(code=quiz.code, nickname="Zoe")
    messages = await receive_until(
        communicator, lambda m: m["type"] == "leaderboard" and m["participants"] == 1
    )

    assert messages[0] == {"type": "participant_joined", "quiz": quiz.code, "nickname": "Zoe"}
    assert messages[-1]["type"] == "leaderboard"
    assert messages[-1]["participants"] == 1
    await communicator.disconnect()


async def test_close_sends_quiz_closed_with_final_leaderboard():
    quiz = await make_quiz()
    await make_player(quiz, "ada", 700)
    communicator = await connected(quiz.code)
    await communicator.receive_json_from()

    await sync_to_async(services.quiz_status_set)(code=quiz.code, status="closed")
    message = await communicator.receive_json_from(timeout=2)

    assert message["type"] == "quiz_closed"
    assert message["entries"][0]["nickname"] == "ada"
    assert message["entries"][0]["score"] == 700
    await communicator.disconnect()


def _shows_score(score: int):
    return lambda m: m["type"] == "leaderboard" and m["entries"][0]["score"] == score


async def test_many_updates_are_coalesced_and_the_latest_state_always_goes_out():
    quiz = await make_quiz()
    sockets = [await connected(quiz.code) for _ in range(2)]
    for socket in sockets:
        await socket.receive_json_from()

    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(1, 31):  # 30 score changes in ~150 ms (longer on a loaded machine)
        await sync_to_async(board_write)(quiz, score=n * 10, answered=n)
        await asyncio.sleep(0.005)
    received = [await receive_until(socket, _shows_score(300)) for socket in sockets]
    windows = (loop.time() - started) / settings.QUIZ_BROADCAST_INTERVAL

    first = received[0]
    # At most about one per broadcast interval (the interval is measured, not assumed: a loaded
    # machine stretches the 150 ms), never one per change.
    assert 1 <= len(first) <= min(windows + 3, 29)
    assert first[-1]["entries"][0]["score"] == 300  # the last change was not lost
    assert received[1] == first  # every socket got the same (once-encoded) messages
    assert fanout.local_sockets(quiz.code) == 2  # one hub for both sockets
    for socket in sockets:
        await socket.disconnect()


async def test_reconnect_gets_a_fresh_snapshot():
    quiz = await make_quiz()
    ada = await make_player(quiz, "ada")
    first = await connected(quiz.code)
    await first.receive_json_from()
    await first.disconnect()

    outcome = await serve_and_answer(quiz, ada)
    again = await connected(quiz.code)
    snapshot = await again.receive_json_from()

    assert snapshot["type"] == "leaderboard"
    assert snapshot["entries"][0]["score"] == outcome.points
    await again.disconnect()


async def test_snapshot_rebuilds_a_board_redis_lost():
    quiz = await make_quiz()
    await make_player(quiz, "ada", 321)
    await sync_to_async(app_redis.data_client().flushdb)()

    communicator = await connected(quiz.code)
    snapshot = await communicator.receive_json_from()

    assert snapshot["entries"][0]["score"] == 321
    await communicator.disconnect()


async def test_open_connections_gauge_follows_sockets():
    quiz = await make_quiz()

    def gauge() -> float:
        return REGISTRY.get_sample_value("quizzes_websocket_connections") or 0

    before = gauge()
    communicator = await connected(quiz.code)
    await communicator.receive_json_from()
    during = gauge()
    await communicator.disconnect()

    assert during == before + 1
    assert gauge() == before
    assert fanout.local_sockets(quiz.code) == 0
