"""Shared by the quizzes tests: the error-shape assertion, waiting for websocket messages.

(Polling for a condition in sync code: `config.tests.servers.wait_until`.)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from channels.testing import WebsocketCommunicator


def assert_error(response, status: int, code: str, attr: str | None = None) -> None:
    assert response.status_code == status, response.content
    errors = response.json()["errors"]
    assert any(e["code"] == code and (attr is None or e["attr"] == attr) for e in errors), errors


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
