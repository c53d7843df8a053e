"""The stream service run in this process against the test database and Redis, its venues the
real pybit and yfinance clients pointed at local fake venues, and a tap on the Socket.IO channel
that records what the web process would relay to clients."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from photon.market.streams.base import Backoff
from photon.market.streams.bybit import BybitStream
from photon.market.streams.yahoo import YahooStream
from photon.realtime.events import channel
from photon.tasks.stream.service import StreamService
from tests.fakes.bybit_ws import FakeBybitStream
from tests.fakes.yahoo_ws import FakeYahooStreamer

SILENCE = 0.6
LEASE = 1.0


@pytest.fixture
def bybit_ws() -> Iterator[FakeBybitStream]:
    with FakeBybitStream() as server:
        yield server


@pytest.fixture
def yahoo_ws() -> Iterator[FakeYahooStreamer]:
    with FakeYahooStreamer() as server:
        yield server


class Tap:
    """Every Socket.IO emit published on the app's Redis channel: (event, room, payload)."""

    def __init__(self, redis_url: str) -> None:
        self.events: list[tuple[str, str, dict]] = []
        self._changed = threading.Condition()
        self._pubsub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(channel(redis_url))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            message = self._pubsub.get_message(timeout=0.1)
            if message is None:
                continue
            body = json.loads(message["data"])
            if body.get("method") != "emit":
                continue
            data = body["data"]  # the emit's arguments: the payload alone here
            with self._changed:
                self.events.append((body["event"], body["room"], data[0]))
                self._changed.notify_all()

    def of(self, event: str, room: str | None = None) -> list[dict]:
        with self._changed:
            return [d for e, r, d in self.events if e == event and room in (None, r)]

    def wait_for(self, predicate: Callable[[Tap], object], timeout: float = 10.0, what=""):
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (result := predicate(self)):
                left = deadline - time.monotonic()
                assert left > 0, f"timed out waiting for {what}: {self.events[-20:]}"
                self._changed.wait(left)
            return result

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._pubsub.close()


@pytest.fixture
def tap(redis_url, redis_client) -> Iterator[Tap]:
    tap = Tap(redis_url)
    yield tap
    tap.close()


def venues(bybit_ws, yahoo_ws) -> list:
    fast = {"silence": SILENCE, "backoff": Backoff(base=0.05, cap=0.2)}
    return [BybitStream(bybit_ws.url, **fast), YahooStream(yahoo_ws.url, **fast)]


@pytest.fixture
def run_service(app) -> Iterator[Callable[..., StreamService]]:
    """Run a ``StreamService`` in a thread; every one is stopped at teardown."""
    running: list[tuple[StreamService, threading.Thread]] = []

    def run(service: StreamService) -> StreamService:
        thread = threading.Thread(target=service.run, daemon=True, name="stream-service")
        thread.start()
        running.append((service, thread))
        return service

    yield run
    for service, thread in running:
        service.stop()
        thread.join(timeout=15)


@pytest.fixture
def service(app, bybit_ws, yahoo_ws, run_service) -> StreamService:
    return run_service(StreamService(app, venues(bybit_ws, yahoo_ws), lease_ttl=LEASE))
