"""What a hosted player's socket says: `{"type": "hello", "token": "<participant token>"}`.

Sent on every (re)connection. The hub then answers this socket with its own `you` message (or an
`unknown_token` error) and sends it one after every reveal. Watchers (the host screen, boards)
never say hello.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from quizzes.gamehub import UNKNOWN_TOKEN

if TYPE_CHECKING:
    from quizzes.fanout import QuizHub, Socket

MAX_TOKEN_LENGTH = 200


async def receive(consumer: Socket, hub: QuizHub, text: str) -> bool:
    """Handles a hello to the consumer's hub; False for any other text (the consumer decides)."""
    try:
        message = json.loads(text)
    except ValueError:
        return False
    if not isinstance(message, dict) or message.get("type") != "hello":
        return False
    token = message.get("token")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
        await consumer.send(text_data=UNKNOWN_TOKEN)
        return True
    hub.game.hello(consumer, token)
    return True
