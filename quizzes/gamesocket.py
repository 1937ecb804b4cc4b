"""What a hosted player's socket says: `{"type": "hello", "token": "<participant token>"}`.

Sent on every (re)connection. The hub then answers this socket with its own `you` message and
sends it one after every reveal. Watchers (the host screen, boards) never say hello.
"""

from __future__ import annotations

import json

from channels.db import database_sync_to_async

from quizzes import selectors, services

MAX_TOKEN_LENGTH = 200


def _participant_id(code: str, token: str) -> int | None:
    participant = selectors.participant_by_token_hash(token_hash=services.token_hash(token))
    if participant is None or participant.quiz.code != code:
        return None
    return participant.pk


async def receive(consumer: object, text: str) -> bool:
    """Handles a hello; False for any other text (the consumer decides)."""
    try:
        message = json.loads(text)
    except ValueError:
        return False
    if not isinstance(message, dict) or message.get("type") != "hello":
        return False
    token = message.get("token")
    participant_id = None
    if isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_LENGTH:
        participant_id = await database_sync_to_async(_participant_id)(consumer.code, token)
    if participant_id is None:
        error = {"type": "error", "code": "unknown_token",
                 "detail": "This participant token is not one of this quiz's."}  # fmt: skip
        await consumer.send(text_data=json.dumps(error))
        return True
    await consumer.hub.game.identify(consumer, participant_id)
    return True
