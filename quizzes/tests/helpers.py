"""Shared by the quizzes tests: the error-shape assertion and waiting for a condition."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from channels.testing import WebsocketCommunicator


def assert_error(response, status: int, code: str, attr: str | None = None) -> None:
    assert response.status_code == status, response.content
    errors = response.json()["errors"]
    assert any(e["code"] == code and (attr is None or e["attr"] == attr) for e in errors), errors


def wait_for(condition: Callable[[], object], *, timeout: float = 10.0, what: str = "") -> None:
    """Poll `condition` until it is true; fail after `timeout` seconds (a hang, not a speed)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(0.01)


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
