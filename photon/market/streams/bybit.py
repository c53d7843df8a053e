"""Bybit's public spot stream through pybit's ``unified_trading.WebSocket``: one connection for
every watched pair, ``tickers.{symbol}`` for quotes and ``kline.{interval}.{symbol}`` for bars.

pybit does the protocol: the subscribe messages (one per topic, each with its ``req_id``), the
``{"op": "ping"}`` every 20 s that keeps Bybit from hanging up, and merging ticker deltas. Four
of its habits do not suit a long-running feed, and ``_PybitSocket`` changes exactly those:

- It connects only to its built-in hosts; here it connects to ``url`` (PHOTON_BYBIT_WS_URL).
- A frame that is not JSON, or has no topic it knows, raises inside its message handler, which
  websocket-client answers by calling ``on_error``, and pybit's ``on_error`` closes the socket.
  Here such a frame is logged and skipped, and the connection carries on.
- Its own reconnect retries without delay and gives up after ``retries``; and ``subscribe``
  waits forever for a connection that a drop has ended. Here a drop ends the socket for good,
  and ``VenueStream`` opens a new one with jittered backoff, resubscribing everything.
- ``unsubscribe(topic)`` finds the subscription by substring; the topic is passed quoted, as it
  appears in the JSON, so ``tickers.BTCUSDT`` never matches ``tickers.BTCUSDTX``.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any

from pybit.unified_trading import WebSocket

from photon.market.bybit import QUOTE_COINS, _num, _places
from photon.market.streams.base import Backoff, VenueStream
from photon.types import Bar, Quote, Source

log = logging.getLogger(__name__)

DEFAULT_URL = "wss://stream.bybit.com/v5/public/spot"
# Photon interval -> Bybit kline interval. 1m and 5m for live charts, 1h for crypto decisions,
# 1d for the daily chart; each is one topic per pair.
KLINES = {"1m": "1", "5m": "5", "1h": "60", "1d": "D"}
INTERVALS = {code: interval for interval, code in KLINES.items()}


class _Dropped(ConnectionError):
    """This socket's connection has ended; a new socket replaces it."""


class _PybitSocket(WebSocket):
    def __init__(self, url: str, ping_interval: float, on_drop: Any) -> None:
        self._url = url
        self._on_drop = on_drop
        self.dropped = threading.Event()
        super().__init__(
            channel_type="spot",
            testnet=False,
            ping_interval=ping_interval,
            ping_timeout=min(10.0, ping_interval / 2),
            # pybit raises after its last attempt even when that one connected; with two, the
            # first attempt is the one that counts and a refusal surfaces as _Dropped.
            retries=2,
            restart_on_error=False,
        )

    def _connect(self, url: str) -> None:
        # WS_URL keeps pybit's public address, which its topic checks read; the socket itself
        # goes to ``self._url``.
        super()._connect(self._url)

    def _on_message(self, message: str) -> None:
        try:
            super()._on_message(message)
        except Exception as exc:
            log.warning(
                "bybit stream: skipped a frame it could not read (%s: %s): %.200r",
                type(exc).__name__,
                exc,
                message,
            )

    def _process_subscription_message(self, message: dict[str, Any]) -> None:
        # pybit looks the answer's req_id up among its requests, which it records only after
        # sending, so a quick answer raises; and on a refusal it pops a wrong key. A refusal is
        # all that matters here.
        if message.get("success") is False:
            log.warning("bybit stream: a subscription was refused: %s", message.get("ret_msg"))

    def _on_error(self, error: Exception) -> None:
        if not self.dropped.is_set():
            log.warning("bybit stream: %s: %s", type(error).__name__, error)
        self._drop()

    def _on_close(self) -> None:
        self._drop()

    def _drop(self) -> None:
        self.dropped.set()
        self._on_drop()

    def is_connected(self) -> bool:
        if self.dropped.is_set():
            raise _Dropped("bybit stream: the connection dropped")
        return super().is_connected()

    def _send_custom_ping(self) -> None:
        if not self.dropped.is_set():
            super()._send_custom_ping()


def topics(ticker: str) -> list[str]:
    return [f"tickers.{ticker}", *(f"kline.{code}.{ticker}" for code in KLINES.values())]


class BybitStream(VenueStream):
    source = Source.BYBIT

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        silence: float = 10.0,
        ping_interval: float = 20.0,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(silence, backoff)
        self.url = url
        self.ping_interval = ping_interval
        self._changed = threading.Event()

    def _wake(self) -> None:
        self._changed.set()

    def _session(self) -> None:
        socket = _PybitSocket(self.url, self.ping_interval, self._wake)
        self._connected_now()
        subscribed: set[str] = set()
        try:
            while not self._stop.is_set() and not socket.dropped.is_set() and self.wanted:
                self._changed.clear()
                wanted = {topic for ticker in self.wanted for topic in topics(ticker)}
                for topic in sorted(wanted - subscribed):
                    if self._subscribe(socket, topic):
                        subscribed.add(topic)
                for topic in sorted(subscribed - wanted):
                    # Passed quoted: pybit looks the subscription up by substring.
                    socket.unsubscribe(json.dumps(topic))
                    subscribed.discard(topic)
                # Subscriptions pybit refused (see _subscribe) are retried on the next pass.
                self._changed.wait(1.0 if wanted - subscribed else 5.0)
        finally:
            socket.exit()

    def _subscribe(self, socket: _PybitSocket, topic: str) -> bool:
        kind, *rest = topic.split(".")
        try:
            if kind == "tickers":
                socket.ticker_stream(rest[0], self._on_ticker)
            else:
                socket.kline_stream(rest[0], rest[1], self._on_kline)
        except _Dropped:
            raise
        except Exception as exc:
            # An unsubscribe of the same topic still awaits Bybit's answer: pybit refuses a
            # second callback until it arrives.
            log.info("bybit stream: %s not subscribed yet: %s", topic, exc)
            return False
        return True

    def _on_ticker(self, message: dict[str, Any]) -> None:
        self._quote(ticker_quote(message, datetime.now(UTC)))

    def _on_kline(self, message: dict[str, Any]) -> None:
        ticker = message["topic"].rsplit(".", 1)[1]
        for row in message["data"]:
            self._bar(kline_bar(ticker, row), bool(row["confirm"]))


def ticker_quote(message: dict[str, Any], now: datetime) -> Quote:
    """A ``tickers`` push as a Quote, with the same fields and rounding as the REST quote;
    ``source_time`` is Bybit's ``ts``, ``ts`` the moment it arrived."""
    row = message["data"]
    ticker = row["symbol"]
    price = float(row["lastPrice"])
    prev = _num(row.get("prevPrice24h"))
    pct = _num(row.get("price24hPcnt"))
    places = max(_places(row["lastPrice"]), _places(row.get("prevPrice24h")))
    return Quote(
        ticker=ticker,
        price=price,
        ts=now,
        source=Source.BYBIT,
        change=round(price - prev, places) if prev is not None else None,
        change_pct=round(pct * 100, _places(row["price24hPcnt"])) if pct is not None else None,
        volume=_num(row.get("volume24h")),
        bid=_num(row.get("bid1Price")),
        ask=_num(row.get("ask1Price")),
        currency=next((q for q in QUOTE_COINS if ticker.endswith(q) and ticker != q), None),
        source_time=datetime.fromtimestamp(int(message["ts"]) / 1000, tz=UTC),
    )


def kline_bar(ticker: str, row: dict[str, Any]) -> Bar:
    return Bar(
        ticker=ticker,
        interval=INTERVALS[str(row["interval"])],
        open_time=datetime.fromtimestamp(int(row["start"]) / 1000, tz=UTC),
        open=float(row["open"]),
        high=float(row["high"]),
        low=float(row["low"]),
        close=float(row["close"]),
        volume=float(row["volume"]),
    )
