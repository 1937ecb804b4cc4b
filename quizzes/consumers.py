"""Websocket transport for a quiz's live leaderboard. The fan-out logic lives in fanout.py."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from quizzes import fanout, gamesocket, selectors

CLOSE_UNKNOWN_QUIZ = 4404


class QuizSocket(AsyncWebsocketConsumer):
    # No per-socket channel: the quiz's hub is the one channel-layer subscriber per process
    # (an unknown alias makes channels skip creating and subscribing a channel per socket).
    channel_layer_alias = "quizzes-sockets-use-the-hub"

    async def refuse(self) -> None:
        """Close with 4404. Accepted first, so that browsers see the code, not a failed
        handshake."""
        await self.accept()
        await self.close(code=CLOSE_UNKNOWN_QUIZ)


class UnknownQuizConsumer(QuizSocket):
    """The route for a path segment that cannot be a quiz code."""

    async def connect(self) -> None:
        await self.refuse()


class LeaderboardConsumer(QuizSocket):
    """Check the quiz, register with this process's hub for it, send a snapshot.

    Messages (JSON, each with a `type`): `leaderboard` (on connect and after score changes,
    at most 10/s), `participant_joined`, `quiz_closed` (with the final leaderboard).
    """

    hub = None

    async def connect(self) -> None:
        self.code = self.scope["url_route"]["kwargs"]["code"]  # normalised by the converter
        # A classroom connects at once: only the first socket of a quiz asks the database.
        known = fanout.has_hub(self.code)
        if not known and not await database_sync_to_async(selectors.quiz_exists)(code=self.code):
            await self.refuse()
            return
        await self.accept()
        self.hub = await fanout.attach(self.code, self)
        await self.hub.snapshot(self)

    async def disconnect(self, code: int) -> None:
        if self.hub is not None:
            await fanout.detach(self.code, self)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data == "ping":  # keep-alive through proxies that drop idle connections
            await self.send(text_data='{"type":"pong"}')
        elif text_data and self.hub is not None:
            await gamesocket.receive(self, self.hub, text_data)
