"""The one place provider calls are retried, with backoff and a hard time budget.

Only ``ProviderUnavailable`` and ``RateLimited`` are retried: they are the temporary errors. A
``SymbolNotFound`` will not fix itself, and anything else is a bug. Vendor clients (pybit,
yfinance) have their own retry loops; the providers turn those down so that backoff is decided
here and nowhere else.

A retry only starts if it can still finish inside ``budget``, so a wrapped call ends in bounded
time even when every attempt hangs until its HTTP timeout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from photon.errors import ProviderUnavailable, RateLimited

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE = (ProviderUnavailable, RateLimited)

DEFAULT_ATTEMPTS = 3
DEFAULT_BASE_DELAY = 0.25
DEFAULT_MAX_DELAY = 2.0
DEFAULT_BUDGET = 9.0


def backoff_delay(attempt: int, base_delay: float, max_delay: float) -> float:
    """Exponential backoff after failed attempt number ``attempt`` (1-based), capped."""
    return min(max_delay, base_delay * (2 ** (attempt - 1)))


def retrying(
    fn: Callable[[], T],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    base_delay: float = DEFAULT_BASE_DELAY,
    max_delay: float = DEFAULT_MAX_DELAY,
    budget: float = DEFAULT_BUDGET,
    attempt_time: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call ``fn()``, retrying temporary provider errors; re-raise the last one when out of tries.

    ``attempt_time`` is how long one attempt may take at worst (the caller's HTTP timeout): a
    retry starts only if waiting plus that much still fits in ``budget`` seconds. A server's
    ``retry_after`` is honoured but capped at ``max_delay``; when it asks for more time than the
    budget has left, the error is raised at once, so the caller's own scheduler can wait instead.
    """
    started = clock()
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except RETRYABLE as exc:
            if attempt >= attempts:
                raise
            elapsed = clock() - started
            wanted = exc.retry_after if isinstance(exc, RateLimited) else None
            if wanted is not None and wanted > budget - elapsed:
                raise
            delay = (
                min(max(wanted, 0.0), max_delay)
                if wanted is not None
                else backoff_delay(attempt, base_delay, max_delay)
            )
            if elapsed + delay + attempt_time > budget:
                raise
            log.info(
                "provider call failed (%s); retry %d/%d in %.2fs",
                exc.message,
                attempt,
                attempts - 1,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")


class Deadline:
    """A point in monotonic time after which no new HTTP request should start."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.at = clock() + seconds

    def remaining(self) -> float:
        return self.at - self._clock()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0
