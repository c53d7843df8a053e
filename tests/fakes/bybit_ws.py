"""Bybit v5's public spot stream (``/v5/public/spot``), answered as Bybit does.

- ``{"op": "subscribe", "req_id": ..., "args": [...]}`` gets
  ``{"success": true, "ret_msg": "subscribe", "conn_id": ..., "req_id": ..., "op": "subscribe"}``
  (``success: false`` and a ``ret_msg`` for a topic Bybit has no handler for); unsubscribe alike.
  pybit matches the answer to its request by ``req_id``.
- ``{"op": "ping"}`` gets the spot pong, ``{"success": true, "ret_msg": "pong", ...,
  "op": "ping"}``: pybit drops it by its ``ret_msg``.
- Pushes have the recorded shapes (``data/streams/bybit_ws_*.json``, from Bybit's docs): a
  ``tickers`` snapshot (spot has no bid/ask), and ``kline`` rows with ``confirm: false`` while the
  candle is open and ``true`` once it closed.
"""

from __future__ import annotations

import asyncio
import copy
import re
import time
from pathlib import Path
from typing import Any

from .http import load_json
from .ws import Connection, FakeWebSocketServer

DATA = Path(__file__).parent / "data" / "streams"
KLINE_CODES = "1|3|5|15|30|60|120|240|360|720|D|W|M"
TOPIC = re.compile(rf"^(tickers\.[A-Z0-9]+|kline\.({KLINE_CODES})\.[A-Z0-9]+)$")
INTERVAL_MS = {"1": 60_000, "5": 300_000, "60": 3_600_000, "D": 86_400_000}


def now_ms() -> int:
    return int(time.time() * 1000)


class FakeBybitStream(FakeWebSocketServer):
    path = "/v5/public/spot"

    def __init__(self) -> None:
        super().__init__()
        self._ticker = load_json(DATA / "bybit_ws_tickers_spot_BTCUSDT.json")
        self._kline = load_json(DATA / "bybit_ws_kline_5_BTCUSDT.json")
        self._cs = 0
        self._ticking = None
        self.pings = 0
        self.ticks_sent = 0
        self.tick_times: list[int] = []  # each steady-feed push's ts (ms), whoever got it

    # --- what the server answers ---------------------------------------------------------------

    async def on_message(self, conn: Connection, message: Any) -> None:
        if not isinstance(message, dict):
            return
        op = message.get("op")
        answer: dict[str, Any] = {"success": True, "ret_msg": "", "conn_id": conn.id}
        if "req_id" in message:
            answer["req_id"] = message["req_id"]
        if op == "ping":
            self.pings += 1
            await self._send_json(conn, {**answer, "ret_msg": "pong", "op": "ping"})
        elif op in ("subscribe", "unsubscribe"):
            args = message.get("args") or []
            bad = [a for a in args if not TOPIC.match(a)]
            if bad:
                answer.update(success=False, ret_msg=f"error:handler not found,topic:{bad[0]}")
            elif op == "subscribe":
                conn.topics.update(args)
                answer["ret_msg"] = "subscribe"
            else:
                conn.topics.difference_update(args)
            await self._send_json(conn, {**answer, "op": op})

    # --- pushes --------------------------------------------------------------------------------

    @staticmethod
    def recorded(name: str) -> dict:
        """A recorded push (``tickers_spot_BTCUSDT``, ``kline_5_BTCUSDT`` ...)."""
        return load_json(DATA / f"bybit_ws_{name}.json")

    def subscribed(self, topic: str) -> list[Connection]:
        return [c for c in self.live if topic in c.topics]

    def ticker_message(self, symbol: str, price: float, ts: int | None = None, **fields) -> dict:
        message = copy.deepcopy(self._ticker)
        self._cs += 1
        message.update(topic=f"tickers.{symbol}", ts=ts or now_ms(), cs=self._cs)
        message["data"].update(symbol=symbol, lastPrice=f"{price}", **fields)
        return message

    def push_ticker(self, symbol: str, price: float, ts: int | None = None, **fields) -> int:
        """A tickers snapshot to every connection subscribed to it; returns how many got it."""
        message = self.ticker_message(symbol, price, ts, **fields)
        return self.push(message)

    def push_kline(
        self,
        symbol: str,
        interval: str,
        start: int,
        ohlcv: tuple[float, float, float, float, float],
        confirm: bool,
        ts: int | None = None,
    ) -> int:
        """One ``kline.{interval}.{symbol}`` row (``interval`` in Bybit's spelling: 1, 60, D)."""
        message = copy.deepcopy(self._kline)
        o, h, lo, c, v = ohlcv
        ts = ts or now_ms()
        message.update(topic=f"kline.{interval}.{symbol}", ts=ts)
        message["data"] = [
            {
                **message["data"][0],
                "start": start,
                "end": start + INTERVAL_MS[interval] - 1,
                "interval": interval,
                "open": f"{o}",
                "high": f"{h}",
                "low": f"{lo}",
                "close": f"{c}",
                "volume": f"{v}",
                "turnover": f"{round(v * c, 4)}",
                "confirm": confirm,
                "timestamp": ts,
            }
        ]
        return self.push(message)

    def push(self, message: dict) -> int:
        """``message`` as it is, to every connection subscribed to its topic."""
        sent = 0
        for conn in self.subscribed(message["topic"]):
            sent += self._run(self._send_json(conn, message))
        return sent

    # --- a steady feed, for the latency bench --------------------------------------------------

    def start_ticking(self, symbols: list[str], rate: float, price: float = 100.0) -> None:
        """Push a ticker for every symbol ``rate`` times a second, spread evenly, each carrying
        its send time (ms) in ``ts``, until ``stop_ticking``."""
        self._ticking = asyncio.run_coroutine_threadsafe(
            self._tick(symbols, rate, price), self._loop
        )

    def stop_ticking(self) -> int:
        """Stop the feed; returns how many pushes (symbol x connection) went out."""
        if self._ticking is None:
            return 0
        self._ticking.cancel()
        try:
            return self._ticking.result(5)
        except BaseException:
            return self.ticks_sent
        finally:
            self._ticking = None

    async def _tick(self, symbols: list[str], rate: float, price: float) -> int:
        interval = 1.0 / (rate * len(symbols))
        start, i = time.perf_counter(), 0
        try:
            while True:
                symbol = symbols[i % len(symbols)]
                pause = start + i * interval - time.perf_counter()
                if pause > 0:
                    await asyncio.sleep(pause)
                message = self.ticker_message(symbol, round(price + (i % 1000) / 100, 2))
                self.tick_times.append(message["ts"])
                for conn in self.subscribed(message["topic"]):
                    self.ticks_sent += await self._send_json(conn, message)
                i += 1
        except asyncio.CancelledError:
            return self.ticks_sent
