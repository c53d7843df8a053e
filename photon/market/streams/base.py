"""What every venue stream shares: the symbols it should carry, one supervisor thread that
reconnects with jittered backoff, the sink it pushes into, and how healthy it is.

A subclass implements ``_session()``: open one connection, subscribe to ``wanted`` (and follow
its changes without reconnecting), and return or raise when the connection ends, or return once
``wanted`` is empty. The supervisor then waits a jittered, growing delay and opens a new one,
which resubscribes everything. With nothing to carry it holds no connection at all.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from photon.types import Bar, Quote

log = logging.getLogger(__name__)

# A quote this much older than the newest one is a replay wrapping round (or a venue's clock
# reset), not a late duplicate: it starts the series afresh instead of being dropped.
REWIND_MS = 86_400_000


class Sink(Protocol):
    def quote(self, quote: Quote) -> None:
        """A price push, at once."""

    def bar(self, bar: Bar, closed: bool) -> None:
        """The forming bar after a push (``closed`` False), or the bar once it closed."""


def not_newer(source_ms: int | None, mark_ms: int | None) -> bool:
    """Whether a quote stamped ``source_ms`` (venue time) adds nothing after one stamped
    ``mark_ms``: the same moment again, or an earlier one."""
    if source_ms is None or mark_ms is None:
        return False
    return mark_ms - REWIND_MS < source_ms <= mark_ms


def epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else round(moment.timestamp() * 1000)


class Backoff:
    """Exponential backoff with full jitter: a fleet of clients that lost the venue at once
    does not come back at once."""

    def __init__(
        self, base: float = 0.5, cap: float = 30.0, rand: Callable[[], float] = random.random
    ) -> None:
        self.base, self.cap, self._rand = base, cap, rand
        self.attempt = 0

    def next(self) -> float:
        ceiling = min(self.cap, self.base * 2**self.attempt)
        self.attempt += 1
        # At least a tenth of the ceiling: never a busy loop against a refusing server.
        return ceiling * (0.1 + 0.9 * self._rand())

    def reset(self) -> None:
        self.attempt = 0


@dataclass(frozen=True)
class Health:
    """``streaming``: connected and pushing (or idle: nothing to carry); ``silent``: connected
    but quiet for longer than the venue's push interval; ``down``: not connected."""

    state: str
    detail: str | None
    window: float  # seconds a symbol counts as carried after its last push

    @property
    def ok(self) -> bool:
        return self.state in ("streaming", "idle")


class VenueStream:
    """One venue's connection, run by a supervisor thread between ``start`` and ``stop``."""

    source: str = ""  # the venue: names its lease and its log lines

    @property
    def carries(self) -> tuple[str, ...]:
        """The symbol sources (``Symbol.source``) whose symbols this stream carries."""
        return (self.source,)

    # Whether closed bars are the venue's own candles, fit to store; bars built here from ticks
    # are only shown live.
    own_bars = True

    def __init__(self, silence: float = 10.0, backoff: Backoff | None = None) -> None:
        self.silence = silence
        self.backoff = backoff or Backoff()
        self.sink: Sink | None = None
        self.connected = False
        self.connects = 0
        self._wanted: frozenset[str] = frozenset()
        self._wanted_changed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Monotonic times: the last push, and since when the stream had to have pushed.
        self._last_push = 0.0
        self._quiet_since = time.monotonic()

    # --- the service's side --------------------------------------------------------------------

    def start(self, sink: Sink) -> None:
        self.sink = sink
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"{self.source}-ws")
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wanted_changed.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("%s stream: still closing after %.0f s", self.source, timeout)
            self._thread = None

    @property
    def wanted(self) -> frozenset[str]:
        return self._wanted

    def set_symbols(self, tickers: Iterable[str]) -> None:
        """Carry exactly ``tickers`` from now on; the live connection follows without
        reconnecting."""
        wanted = frozenset(tickers)
        if wanted != self._wanted:
            added = wanted - self._wanted
            self._wanted = wanted
            if added:
                self._quiet_since = max(self._quiet_since, time.monotonic())
            self._wanted_changed.set()
            self._wake()

    def expected_silence(self, now: datetime) -> float | None:
        """Seconds of quiet after which the stream is silent at ``now``; None when the venue
        need not push then (a closed market)."""
        return self.silence

    def health(self, now: datetime) -> Health:
        window = self.expected_silence(now)
        carry = window or self.silence
        if not self._wanted:
            return Health("idle", None, carry)
        if not self.connected:
            return Health("down", "not connected; reconnecting", carry)
        quiet = time.monotonic() - max(self._last_push, self._quiet_since)
        if window is not None and quiet > window:
            return Health("silent", f"no push for {quiet:.0f} s", carry)
        return Health("streaming", None, carry)

    # --- the subclass's side -------------------------------------------------------------------

    def _session(self) -> None:
        raise NotImplementedError

    def _wake(self) -> None:
        """Tell the live session that ``wanted`` changed or that it should stop."""

    def _connected_now(self) -> None:
        self.connected = True
        self.connects += 1
        self._quiet_since = time.monotonic()
        log.info("%s stream: connected (%d symbols)", self.source, len(self._wanted))

    def _quote(self, quote: Quote) -> None:
        self._last_push = time.monotonic()
        self.backoff.reset()
        if self.sink is not None:
            self.sink.quote(quote)

    def _bar(self, bar: Bar, closed: bool) -> None:
        self._last_push = time.monotonic()
        if self.sink is not None:
            self.sink.bar(bar, closed)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._wanted:
                self._wanted_changed.wait()
                self._wanted_changed.clear()
                continue
            try:
                self._session()
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                log.warning("%s stream: connection ended: %s", self.source, reason)
            finally:
                self.connected = False
            if self._stop.is_set():
                break
            if not self._wanted:
                continue  # closed because nothing is left to carry, not because it broke
            delay = self.backoff.next()
            log.info("%s stream: reconnecting in %.1f s", self.source, delay)
            self._stop.wait(delay)
