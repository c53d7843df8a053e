"""Venue streams under test are the real pybit and yfinance clients, pointed at local servers
that speak each venue's protocol (``tests/fakes/bybit_ws.py``, ``tests/fakes/yahoo_ws.py``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from photon.market.streams.base import Backoff
from tests.fakes.bybit_ws import FakeBybitStream
from tests.fakes.yahoo_ws import FakeYahooStreamer


class Sink:
    """Records what a stream pushes, and lets a test wait for it."""

    def __init__(self) -> None:
        self.quotes: list = []
        self.bars: list = []
        self._changed = threading.Condition()

    def quote(self, quote) -> None:
        with self._changed:
            self.quotes.append(quote)
            self._changed.notify_all()

    def bar(self, bar, closed: bool) -> None:
        with self._changed:
            self.bars.append((bar, closed))
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[Sink], object], timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (result := predicate(self)):
                left = deadline - time.monotonic()
                assert left > 0, f"timed out: quotes={self.quotes} bars={self.bars}"
                self._changed.wait(left)
            return result


@pytest.fixture
def sink() -> Sink:
    return Sink()


def fast_backoff() -> Backoff:
    return Backoff(base=0.05, cap=0.2)


@pytest.fixture
def bybit_ws() -> Iterator[FakeBybitStream]:
    with FakeBybitStream() as server:
        yield server


@pytest.fixture
def yahoo_ws() -> Iterator[FakeYahooStreamer]:
    with FakeYahooStreamer() as server:
        yield server


@pytest.fixture
def started() -> Iterator[Callable]:
    """Start a stream with a sink; every stream is stopped at teardown, pass or fail."""
    streams = []

    def start(stream, sink, symbols):
        stream.set_symbols(symbols)
        stream.start(sink)
        streams.append(stream)
        return stream

    yield start
    for stream in streams:
        stream.stop()
