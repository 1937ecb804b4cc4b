"""The hosted-game part of a process's quiz hub (quizzes/fanout.py).

- Keeps the latest public state: a (re)connecting socket gets it at once, with `remaining`
  counted down by this process's clock, so a websocket server restart or a refresh lands in the
  current phase.
- A new state is encoded once and written to every local socket; then each identified player
  (who sent their token in a `hello`) gets their own `you` message: their answer, and from the
  reveal on its points, their score and rank. Public messages never carry anyone's choice.
- "answered N of M" signals are coalesced like leaderboard updates (at most one message per
  FLUSH_INTERVAL, the latest count always sent), and go to the screens, not to the players.
- A timer at the open question's deadline (+ grace) asks the service to close it: a backstop for
  the Celery task, never a sleep in a consumer. Every process may ask; the service is idempotent.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, cast

from channels.db import database_sync_to_async
from django.conf import settings

from quizzes import fanout, game, gamestate, services, wire
from quizzes.models import Participant, Quiz

if TYPE_CHECKING:
    from quizzes.fanout import QuizHub, Socket

DEADLINE_GRACE = 0.5  # seconds after the deadline: the Celery task normally acts first
HELLO_BATCH = 500
UNKNOWN_TOKEN = json.dumps(
    {"type": "error", "code": "unknown_token",
     "detail": "This participant token is not one of this quiz's."}
)  # fmt: skip


def _current_state(code: str) -> dict | None:
    """The public state of a hosted quiz (None for self-paced or unknown)."""
    quiz = Quiz.objects.filter(code=code).first()
    if quiz is None or quiz.mode != Quiz.Mode.HOSTED:
        return None
    return gamestate.public_state(game.game_state_current(quiz=quiz))


def _you_states(code: str, participant_ids: list[int]) -> dict[int, dict]:
    quiz = Quiz.objects.filter(code=code).first()
    if quiz is None:
        return {}
    return gamestate.personal_states(quiz=quiz, participant_ids=participant_ids)


def _hellos(code: str, token_hashes: list[str]) -> dict[str, dict]:
    """token hash -> that player's `you` state, for the hashes of this quiz's players."""
    ids = dict(
        Participant.objects.filter(quiz__code=code, token_hash__in=token_hashes).values_list(
            "token_hash", "pk"
        )
    )
    states = _you_states(code, list(ids.values())) if ids else {}
    return {h: states[pk] for h, pk in ids.items() if pk in states}


class GameRelay:
    def __init__(self, hub: QuizHub) -> None:
        self.hub = hub
        self.hosted = False
        self.current: dict | None = None
        self.received_at = 0.0
        self.players: dict[Socket, int] = {}  # identified sockets -> participant id
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._answered_timer: asyncio.TimerHandle | None = None
        self._last_answered = float("-inf")
        self._hellos: list[tuple[Socket, str]] = []
        self._hello_worker: asyncio.Future | None = None

    async def load(self) -> None:
        state = await database_sync_to_async(_current_state)(self.hub.code)
        if state is not None:
            self._keep(state)

    def stop(self) -> None:
        for timer in (self._deadline_timer, self._answered_timer):
            if timer:
                timer.cancel()

    def _keep(self, state: dict) -> bool:
        if self.current is not None and state["version"] <= self.current["version"]:
            return False  # an older (or the same) state arriving late: clients keep the newer
        self.hosted = True
        self.current = state
        self.received_at = asyncio.get_running_loop().time()
        self._arm_deadline(state)
        return True

    async def state(self, state: dict) -> None:
        if not self._keep(state):
            return
        await self.hub.send_all(json.dumps({"type": "game", **state}), kind="game")
        if state["phase"] in gamestate.REVEALED and self.players:
            self.hub.spawn(self._send_personal(list(self.players.items())))

    def now(self) -> dict | None:
        """The current state with `remaining` as of now."""
        if self.current is None or self.current["remaining"] is None:
            return self.current
        elapsed = asyncio.get_running_loop().time() - self.received_at
        remaining = max(0.0, self.current["remaining"] - elapsed)
        return {**self.current, "remaining": round(remaining, 3), "accepting": remaining > 0}

    async def snapshot(self, socket: Socket) -> None:
        state = cast(dict, self.now())  # the hub asks only once `hosted`, i.e. a state is held
        await socket.send(text_data=json.dumps({"type": "game", **state}))

    def hello(self, socket: Socket, token: str) -> None:
        """Queue a player's hello. A classroom (or a restarted server) sends hundreds at once:
        they are answered in batches, one database round trip for all that are waiting."""
        self._hellos.append((socket, services.token_hash(token)))
        if self._hello_worker is None or self._hello_worker.done():
            self._hello_worker = self.hub.spawn(self._answer_hellos())

    async def _answer_hellos(self) -> None:
        while self._hellos:
            batch, self._hellos = self._hellos[:HELLO_BATCH], self._hellos[HELLO_BATCH:]
            hashes = list({h for _, h in batch})
            states = await database_sync_to_async(_hellos)(self.hub.code, hashes)
            for socket, token_hash in batch:
                state = states.get(token_hash)
                if socket not in self.hub.sockets:
                    continue
                if state is None:
                    await socket.send(text_data=UNKNOWN_TOKEN)
                    continue
                self.players[socket] = state["participant_id"]
                await socket.send(text_data=json.dumps(state))

    async def _send_personal(self, items: list[tuple[Socket, int]]) -> None:
        ids = list({pid for _, pid in items})
        states = await database_sync_to_async(_you_states)(self.hub.code, ids)
        for socket, pid in items:
            if pid in states and socket in self.hub.sockets:
                text = json.dumps(states[pid])
                await fanout.send_text(socket, {"type": "websocket.send", "text": text},
                                       wire.text_frame(text))  # fmt: skip

    def joined(self) -> None:
        if self.current is not None:
            self.current["players"] += 1

    def answered(self, message: dict) -> None:
        if self.current is None or message["version"] != self.current["version"]:
            return
        self.current["answered"] = max(self.current["answered"] or 0, message["answered"])
        self.current["players"] = max(self.current["players"], message["players"])
        if self._answered_timer is not None:
            return  # a flush is scheduled and will send the newest count
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last_answered + settings.QUIZ_BROADCAST_INTERVAL - loop.time())
        self._answered_timer = loop.call_later(delay, self._flush_answered)

    def _flush_answered(self) -> None:
        self._answered_timer = None
        self._last_answered = asyncio.get_running_loop().time()
        state = cast(dict, self.current)  # armed by `answered`, which needs a state
        text = json.dumps({"type": "answered", "version": state["version"],
                           "answered": state["answered"], "players": state["players"]})  # fmt: skip
        # To the screens only (host, boards): players don't show it, and in a big class the
        # counts would queue in front of the reveal on every player's socket.
        self.hub.spawn(self.hub.send_all(text, kind="answered", skip=self.players))

    def _arm_deadline(self, state: dict) -> None:
        if self._deadline_timer:
            self._deadline_timer.cancel()
            self._deadline_timer = None
        if state["phase"] != Quiz.Phase.QUESTION or not state["auto_reveal"]:
            return
        version = state["version"]
        self._deadline_timer = asyncio.get_running_loop().call_later(
            state["remaining"] + DEADLINE_GRACE, lambda: self.hub.spawn(self._deadline(version))
        )

    async def _deadline(self, version: int) -> None:
        await database_sync_to_async(game.game_deadline_check)(code=self.hub.code, version=version)
