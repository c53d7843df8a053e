"""A small thread-safe cache whose entries expire, for what providers learn about symbols."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, *, stale_ok: bool = False) -> V | None:
        """The cached value, or None once it expired (``stale_ok`` returns it anyway)."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or (not stale_ok and entry[0] <= self._clock()):
            return None
        return entry[1]

    def put(self, key: str, value: V) -> V:
        with self._lock:
            self._entries[key] = (self._clock() + self._ttl, value)
        return value
