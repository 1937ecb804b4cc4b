"""Per-process fan-out: one subscriber per quiz, coalesced broadcasts, encode once.

Each daphne process keeps a `QuizHub` per quiz that has local sockets. The hub is the only
channel-layer subscriber for that quiz in the process (sockets have no channel of their own), so
an answer costs one Redis publish and one message per process, whatever the number of watchers.

Coalescing: the first "dirty" signal schedules a flush at most FLUSH_INTERVAL after the previous
one (immediately when idle); later signals ride along. The flush reads the *current* board from
Redis once, JSON-encodes it once and writes that text to every local socket. A signal arriving
while a flush is reading schedules another flush, so the latest state always goes out, and a
quiz never gets more than 1 / FLUSH_INTERVAL leaderboard messages a second.

Hosted games (quizzes/game.py) add three things, all in quizzes/gamehub.py: the hub keeps the
latest public state (a reconnecting socket gets it at once), relays each new state encoded once,
then sends each identified player their own result; and it arms a timer at the open question's
deadline, a backstop for the Celery task.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import weakref
from collections.abc import Container, Coroutine, Iterable
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from quizzes import events, gamehub, leaderboard, metrics, selectors, wire

logger = logging.getLogger(__name__)

FLUSH_INTERVAL = settings.QUIZ_BROADCAST_INTERVAL
BOARD_SIZE = settings.QUIZ_LIVE_BOARD_SIZE


class Socket(Protocol):
    async def send(self, text_data: str | None = None) -> None: ...

    async def base_send(self, message: dict) -> None: ...  # the raw ASGI send


async def _board(code: str) -> dict:
    """The current board: straight from Redis on the loop; a lost board is rebuilt from
    Postgres in a thread (rare)."""
    data = await leaderboard.aread(code=code, limit=BOARD_SIZE)
    if data is None:
        return await database_sync_to_async(selectors.leaderboard_read)(code=code, limit=BOARD_SIZE)
    return {"quiz": code, "participants": data["participants"], "entries": data["entries"]}


class QuizHub:
    def __init__(self, code: str) -> None:
        self.code = code
        self.sockets: set[Socket] = set()
        self.ready = asyncio.Event()
        self.lock = asyncio.Lock()  # one board read+send at a time: never older after newer
        self.channel: str | None = None
        self.last_flush = float("-inf")
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task] = set()
        self._awaiting_snapshot: set[Socket] = set()
        self._snapshot_round: asyncio.Future | None = None
        self.game = gamehub.GameRelay(self)

    async def start(self) -> None:
        layer = get_channel_layer()
        self.channel = await layer.new_channel("quizhub.")
        await layer.group_add(events.quiz_group(self.code), self.channel)
        self.spawn(self._listen())
        await self.game.load()  # after subscribing: no state change falls in between
        self.ready.set()

    async def stop(self) -> None:
        self.game.stop()
        if self._timer:
            self._timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self.channel:
            # Cancelling the receive above unsubscribed the channel; this drops the group.
            await get_channel_layer().group_discard(events.quiz_group(self.code), self.channel)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Future:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _listen(self) -> None:
        layer = get_channel_layer()
        while True:
            message = await layer.receive(self.channel)
            try:
                await self._handle(message)
            except Exception:  # one bad message must not stop the quiz's broadcasts
                logger.exception("quiz hub %s failed on %s", self.code, message.get("type"))

    async def _handle(self, message: dict) -> None:
        kind = message.get("type")
        if kind == events.DIRTY:
            self.mark_dirty()
        elif kind == events.JOINED:
            text = json.dumps({"type": "participant_joined", "quiz": self.code,
                               "nickname": message.get("nickname", "")})  # fmt: skip
            await self.send_all(text, kind="participant_joined")
            if self.game.hosted:
                self.game.joined()  # no leaderboard during a hosted game: it would leak scores
            else:
                self.mark_dirty()
        elif kind == events.CLOSED:
            if self._timer:
                self._timer.cancel()
                self._timer = None
            await self.flush(kind="quiz_closed")
        elif kind == events.GAME:
            await self.game.state(message["state"])
        elif kind == events.ANSWERED:
            self.game.answered(message)

    def mark_dirty(self) -> None:
        if self._timer is not None:
            return  # a flush is already scheduled and will read the newest state
        loop = asyncio.get_running_loop()
        delay = max(0.0, self.last_flush + FLUSH_INTERVAL - loop.time())
        self._timer = loop.call_later(delay, self._flush_now)

    def _flush_now(self) -> None:
        self._timer = None
        self.last_flush = asyncio.get_running_loop().time()
        self.spawn(self.flush(kind="leaderboard"))

    async def flush(self, *, kind: str) -> None:
        async with self.lock:
            board = await _board(self.code)
            await self.send_all(json.dumps({"type": kind, **board}), kind=kind)

    async def snapshot(self, socket: Socket) -> None:
        """A fresh board, or a hosted game's current state, for one (re)connecting socket.

        A classroom connects at once: the sockets waiting for a board share one read and one
        encoding per round, instead of queueing one each in front of the next broadcast.
        """
        if self.game.hosted:
            await self.game.snapshot(socket)
            return
        self._awaiting_snapshot.add(socket)
        if self._snapshot_round is None:
            self._snapshot_round = self.spawn(self._snapshots_send())

    async def _snapshots_send(self) -> None:
        try:
            async with self.lock:  # after a broadcast, never before it: never older after newer
                while self._awaiting_snapshot:
                    sockets = self._awaiting_snapshot & self.sockets
                    self._awaiting_snapshot = set()
                    board = await _board(self.code)
                    text = json.dumps({"type": "leaderboard", **board})
                    await self.send_all(text, kind="snapshot", only=sockets)
        finally:
            self._snapshot_round = None

    async def send_all(
        self,
        text: str,
        *,
        kind: str,
        skip: Container[Socket] = (),
        only: Iterable[Socket] | None = None,
    ) -> None:
        """`text` to every local socket (or `only` these) except `skip`."""
        message = {"type": "websocket.send", "text": text}  # one dict, one string, all sockets
        frame = wire.text_frame(text)  # framed once for every daphne socket
        for socket in [s for s in (self.sockets if only is None else only) if s not in skip]:
            await send_text(socket, message, frame)
        metrics.leaderboard_broadcasts.labels(kind=kind).inc()


async def send_text(socket: Socket, message: dict, frame: bytes) -> None:
    """`message` (a websocket.send) to one socket: under daphne its ready `frame` is written
    straight to the connection (quizzes/wire.py); anything else goes through the ASGI send."""
    with contextlib.suppress(Exception):  # a socket closing mid-send is not our problem
        protocol = _daphne_protocol(socket)
        if protocol is None or not wire.write_frame(protocol, frame):
            await socket.base_send(message)


def _daphne_protocol(socket: Socket) -> Any:
    """The daphne (autobahn) connection behind a consumer, or None under another server.

    A broadcast is the same text for every socket: through the ASGI send, daphne would encode
    and frame it once per socket (plus a coroutine hop each), and Twisted would buffer each
    write for a later loop turn. We frame it once and write it ourselves. daphne hands each
    consumer `send = partial(server.handle_reply, protocol)`; anything else (tests, other servers)
    goes through the ASGI send as usual.
    """
    send = getattr(socket, "base_send", None)
    if not isinstance(send, functools.partial) or not send.args:
        return None
    protocol = send.args[0]
    return protocol if hasattr(protocol, "sendData") and hasattr(protocol, "transport") else None


# loop -> code -> hub. Keyed by loop because the channel layer is per loop (tests run one loop
# per test; daphne runs one for the process).
_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, QuizHub]] = (
    weakref.WeakKeyDictionary()
)


async def attach(code: str, socket: Socket) -> QuizHub:
    hubs = _hubs.setdefault(asyncio.get_running_loop(), {})
    hub = hubs.get(code)
    if hub is None:
        hub = hubs[code] = QuizHub(code)
        hub.sockets.add(socket)  # before any await: a concurrent detach must not stop it
        try:
            await hub.start()
        except BaseException:
            del hubs[code]  # Redis down: the next socket tries again
            raise
    else:
        hub.sockets.add(socket)
        await hub.ready.wait()
    metrics.websocket_connections.inc()
    return hub


async def detach(code: str, socket: Socket) -> None:
    hubs = _hubs.get(asyncio.get_running_loop(), {})
    hub = hubs.get(code)
    if hub is None or socket not in hub.sockets:
        return
    hub.sockets.discard(socket)
    hub.game.players.pop(socket, None)
    metrics.websocket_connections.dec()
    if not hub.sockets:
        del hubs[code]  # before any await: a new socket now starts a fresh hub
        await hub.stop()


def has_hub(code: str) -> bool:
    """This process already serves the quiz, so it existed when its first socket came."""
    return code in _hubs.get(asyncio.get_running_loop(), {})


def local_sockets(code: str) -> int:
    hub = _hubs.get(asyncio.get_running_loop(), {}).get(code)
    return len(hub.sockets) if hub else 0
