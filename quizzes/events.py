"""What services tell the websocket processes, after commit: one publish per event per quiz.

Messages carry no leaderboard: they only say "this quiz changed". Each daphne process has one
subscriber per quiz (quizzes/fanout.py) that coalesces these signals and reads the current board
from Redis itself, so a burst of 50 answers costs 50 small publishes, not 50 x N socket sends.
"""

from __future__ import annotations

from typing import Any, cast

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from redis.client import Pipeline

from config import redis as app_redis

DIRTY = "quiz.dirty"
JOINED = "quiz.joined"
CLOSED = "quiz.closed"


def quiz_group(code: str) -> str:
    return f"quiz.{code}"


def _pubsub_channel(group: str) -> str:
    # RedisPubSubChannelLayer's own naming for a group's pub/sub channel (channels_redis 4.x,
    # `_get_group_channel_name`); test_consumers checks that a real consumer receives these.
    layer_settings = cast(dict[str, Any], settings.CHANNEL_LAYERS["default"])
    prefix = layer_settings.get("CONFIG", {}).get("prefix", "asgi")
    return f"{prefix}__group__{group}"


def publish(pipe: Pipeline | None, *, code: str, message: dict) -> None:
    """Queue one group message on `pipe` (same round trip as the leaderboard write), or send it.

    With the pub/sub layer a group_send is exactly one PUBLISH, so we issue it on our own sync
    Redis client: from gunicorn's sync workers, async_to_sync(group_send) would build an event
    loop and a Redis connection per call. Other layers go through their own group_send.
    """
    layer = get_channel_layer()
    if isinstance(layer, RedisPubSubChannelLayer):
        target = pipe if pipe is not None else app_redis.client()
        target.publish(_pubsub_channel(quiz_group(code)), layer.serialize(message))
        return
    if pipe is not None:
        pipe.execute()
    async_to_sync(layer.group_send)(quiz_group(code), message)


def dirty(pipe: Pipeline | None, *, code: str) -> None:
    publish(pipe, code=code, message={"type": DIRTY})


def joined(pipe: Pipeline | None, *, code: str, nickname: str) -> None:
    publish(pipe, code=code, message={"type": JOINED, "nickname": nickname})


def closed(pipe: Pipeline | None, *, code: str) -> None:
    publish(pipe, code=code, message={"type": CLOSED})


GAME = "quiz.game"
ANSWERED = "quiz.answered"


def game(pipe: Pipeline | None, *, code: str, state: dict) -> None:
    """A hosted game moved: the full new public state (quizzes/gamestate.py)."""
    publish(pipe, code=code, message={"type": GAME, "state": state})


def answered(
    pipe: Pipeline | None, *, code: str, version: int, answered: int, players: int
) -> None:
    """One more answer to the open question: only the counts, never the choice."""
    message = {"type": ANSWERED, "version": version, "answered": answered, "players": players}
    publish(pipe, code=code, message=message)
