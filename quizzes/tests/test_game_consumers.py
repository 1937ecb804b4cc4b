"""Hosted games over the websocket: every move reaches every socket as one full state; players
get their own result; reconnecting lands in the current state with the answer remembered."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import connections

from config.errors import ApplicationError
from quizzes import game, gamestate, routing
from quizzes.tests.factories import hosted_answer, hosted_quiz, participant_make
from quizzes.tests.helpers import receive_until

pytestmark = pytest.mark.django_db(transaction=True)

application = URLRouter(routing.websocket_urlpatterns)


@pytest.fixture(autouse=True)
async def _close_db_connections():
    yield
    await sync_to_async(connections.close_all)()


async def connected(code: str, token: str | None = None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/quizzes/{code}/")
    ok, _ = await communicator.connect()
    assert ok
    snapshot = await communicator.receive_json_from()
    assert snapshot["type"] == "game"
    communicator.snapshot = snapshot
    if token:
        await communicator.send_to(text_data=json.dumps({"type": "hello", "token": token}))
        communicator.you = await communicator.receive_json_from()
    return communicator


async def next_of(communicator: WebsocketCommunicator, kind: str, timeout: float = 3) -> dict:
    """The next message of `kind`, skipping others (participant_joined, answered...)."""
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == kind:
            return message


@sync_to_async
def setup(**settings):
    quiz = hosted_quiz(questions=2, **settings)
    ada, ada_token = participant_make(quiz=quiz, nickname="ada")
    bob, bob_token = participant_make(quiz=quiz, nickname="bob")
    return quiz, (ada, ada_token), (bob, bob_token)


@sync_to_async
def answer(quiz, participant, right: bool = True):
    quiz.refresh_from_db()
    question = quiz.questions.get(pk=gamestate.current_question_id(quiz))
    return hosted_answer(participant, question, right=right)


def move(name: str):
    return sync_to_async(getattr(game, f"game_{name}"))


async def test_every_move_reaches_the_socket_as_a_full_state():
    quiz, _, _ = await setup()
    socket = await connected(quiz.code)
    phases = []

    for name in ["start", "reveal", "next", "next", "reveal", "next", "next"]:
        await move(name)(code=quiz.code)
        state = await next_of(socket, "game")
        phases.append((state["phase"], state["number"]))

    assert socket.snapshot["phase"] == "lobby"
    assert phases == [
        ("question", 1), ("reveal", 1), ("leaderboard", 1), ("question", 2),
        ("reveal", 2), ("leaderboard", 2), ("finished", 2),
    ]  # fmt: skip
    await socket.disconnect()


async def test_illegal_move_sends_nothing():
    quiz, _, _ = await setup()
    socket = await connected(quiz.code)

    with pytest.raises(ApplicationError):
        await move("reveal")(code=quiz.code)

    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_screens_see_counts_players_their_own_result_nobody_a_choice():
    quiz, (ada, ada_token), (_, bob_token) = await setup()
    screen = await connected(quiz.code)  # the host's: no hello
    ada_socket = await connected(quiz.code, ada_token)
    bob_socket = await connected(quiz.code, bob_token)
    await move("start")(code=quiz.code)
    question = await next_of(bob_socket, "game")

    given = await answer(quiz, ada, right=True)
    count = await next_of(screen, "answered")
    await move("reveal")(code=quiz.code)
    bob_until_reveal = await receive_until(bob_socket, lambda m: m["type"] == "game")
    ada_you = await next_of(ada_socket, "you")
    bob_you = await next_of(bob_socket, "you")
    reveal = bob_until_reveal[-1]

    assert question["question"]["text"] == "Question 1?"
    assert question["reveal"] is None
    assert (count["answered"], count["players"]) == (1, 2)
    assert "choice_id" not in count
    assert [m["type"] for m in bob_until_reveal] == ["game"]  # no counts, no choices
    assert reveal["reveal"]["correct_choice_id"] == given.choice_id
    assert ada_you["answer"] == {"question_id": given.question_id, "choice_id": given.choice_id,
                                 "correct": True, "points": given.points}  # fmt: skip
    assert (ada_you["score"], ada_you["rank"]) == (given.points, 1)
    assert (bob_you["answer"], bob_you["rank"]) == (None, 2)
    for socket in (screen, ada_socket, bob_socket):
        await socket.disconnect()


async def test_everyone_answered_reveals_without_the_host():
    quiz, (ada, _), (bob, _) = await setup()
    socket = await connected(quiz.code)
    await move("start")(code=quiz.code)
    await next_of(socket, "game")

    await answer(quiz, ada)
    await answer(quiz, bob, right=False)
    state = await next_of(socket, "game")

    assert state["phase"] == "reveal"
    assert sorted(c["count"] for c in state["reveal"]["counts"]) == [0, 1, 1]
    await socket.disconnect()


async def test_the_hub_timer_reveals_at_the_deadline_without_a_worker():
    quiz, _, _ = await setup(time_limit=1)
    socket = await connected(quiz.code)
    await move("start")(code=quiz.code)
    opened = await next_of(socket, "game")

    revealed = await next_of(socket, "game", timeout=5)

    assert opened["phase"] == "question"
    assert opened["remaining"] <= 1
    assert revealed["phase"] == "reveal"
    assert revealed["version"] == opened["version"] + 1
    await socket.disconnect()


async def test_reconnect_mid_question_keeps_the_clock_and_the_answer():
    quiz, (ada, ada_token), _ = await setup()
    first = await connected(quiz.code, ada_token)
    await move("start")(code=quiz.code)
    opened = await next_of(first, "game")
    given = await answer(quiz, ada)
    await first.disconnect()  # the last socket: this process's hub goes away, as in a restart

    await asyncio.sleep(0.2)
    again = await connected(quiz.code, ada_token)

    assert again.snapshot["phase"] == "question"
    assert again.snapshot["version"] == opened["version"]
    assert again.snapshot["remaining"] < opened["remaining"]
    assert again.you["answer"] == {"question_id": given.question_id, "choice_id": given.choice_id}
    await again.disconnect()


async def test_hello_with_a_foreign_token_is_an_error_message():
    quiz, _, _ = await setup()
    other, _, _ = await setup()
    _, stranger_token = await sync_to_async(participant_make)(quiz=other, nickname="zed")
    socket = await connected(quiz.code)

    await socket.send_to(text_data=json.dumps({"type": "hello", "token": stranger_token}))
    reply = await socket.receive_json_from()

    assert (reply["type"], reply["code"]) == ("error", "unknown_token")
    await socket.disconnect()
