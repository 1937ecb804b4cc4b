"""In-process caches with a lifetime, on cachetools: the one helper behind every such cache here.

A cache is per process: a change made elsewhere (a revoked token, an edited taxonomy) shows up
here within the entry's lifetime, which each caller reads from its setting at insertion time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import TLRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    """Thread-safe key -> value cache, least recently used out first when full.

    `seconds` is called on each insertion, so a setting changed at run time (tests) applies to
    the next entry. `load` runs outside the lock: two threads may load the same key at once,
    which costs a duplicate read and is cheaper than serialising every miss.
    """

    def __init__(self, *, maxsize: int, seconds: Callable[[], float]) -> None:
        self._entries: TLRUCache[K, V] = TLRUCache(
            maxsize=maxsize, ttu=lambda _key, _value, now: now + seconds()
        )
        self._lock = threading.Lock()

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        with self._lock:
            found = self._entries.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        value = load()
        with self._lock:
            self._entries[key] = value
        return value

    def forget(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_MISSING = object()
