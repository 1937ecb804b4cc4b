"""Server-made ids: time-ordered UUIDs, so new rows land at the right edge of their indexes."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last = [0]


def new_id(at_ms: int | None = None) -> uuid.UUID:
    """UUIDv7 (RFC 9562): 48 bits of Unix time in ms, version, variant, 74 random bits.

    Monotonic within a process (RFC 9562, 6.2 method 2): ids made in the same millisecond
    still sort in the order they were made, so rows read back by id keep their request order.
    """
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits; 74 used
    value = (ms & (2**48 - 1)) << 80 | 0x7 << 76 | (rand >> 68) << 64 | 0b10 << 62
    value |= rand & (2**62 - 1)
    if at_ms is None:
        with _lock:
            if value <= _last[0] and _last[0] >> 80 == ms:
                value = _last[0] + 1  # the random part is 62 bits: no realistic overflow
            _last[0] = value
    return uuid.UUID(int=value)


def new_ids(count: int) -> list[uuid.UUID]:
    """`count` consecutive UUIDv7 of this millisecond: one random draw for a whole request."""
    first = new_id().int
    with _lock:
        _last[0] = max(_last[0], first + count - 1)
    return [uuid.UUID(int=first + i) for i in range(count)]


def time_floor(at_ms: int) -> uuid.UUID:
    """The smallest UUIDv7 of that millisecond: `id < time_floor(t)` means "made before t"."""
    return uuid.UUID(int=(at_ms & (2**48 - 1)) << 80 | 0x7 << 76 | 0b10 << 62)
