"""Shared by the quizzes tests: waiting for websocket messages (errors: `config.testing`).

(Polling for a condition in sync code: `config.tests.servers.wait_until`.)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from channels.testing import WebsocketCommunicator


async def receive_until(
    communicator: WebsocketCommunicator, done: Callable[[dict], bool], *, timeout: float = 10.0
) -> list[dict]:
    """Every message up to and including the first for which `done` is true."""
    deadline = asyncio.get_running_loop().time() + timeout
    messages: list[dict] = []
    while not messages or not done(messages[-1]):
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise AssertionError(f"timed out after {timeout} s; received {messages}")
        messages.append(json.loads(await communicator.receive_from(timeout=left)))
    return messages
