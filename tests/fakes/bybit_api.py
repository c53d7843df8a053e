"""Bybit v5 public market endpoints, answered in the exact format of the recorded responses.

Every number is a string, kline rows are ``[startTime, open, high, low, close, volume, turnover]``
newest first, and errors reuse the recorded bodies in ``data/bybit/errors``. BTCUSDT's ticker and
instrument rows, and its three recorded daily candles, are served verbatim; everything else is
generated from a deterministic price path so repeated requests agree with each other.
"""

from __future__ import annotations

import copy
import json
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .http import Reply, json_reply, load_json

DATA = Path(__file__).parent / "data" / "bybit"

INTERVAL_MS = {
    "1": 60_000,
    "3": 180_000,
    "5": 300_000,
    "15": 900_000,
    "30": 1_800_000,
    "60": 3_600_000,
    "120": 7_200_000,
    "240": 14_400_000,
    "360": 21_600_000,
    "720": 43_200_000,
    "D": 86_400_000,
}
LISTED_MS = 1_577_836_800_000  # 2020-01-01: no candles before this
MAX_LIMIT = 1000
DEFAULT_LIMIT = 200


@dataclass(frozen=True)
class Pair:
    symbol: str
    base: str
    quote: str
    price: float
    decimals: int = 2


DEFAULT_PAIRS = (
    Pair("BTCUSDT", "BTC", "USDT", 20533.13, 2),
    Pair("ETHUSDT", "ETH", "USDT", 1552.37, 2),
    Pair("BNBUSDT", "BNB", "USDT", 291.8, 1),
)


def _seed(symbol: str) -> float:
    return (zlib.crc32(symbol.encode()) % 10_000) / 10_000 * 2 * math.pi


def price_at(pair: Pair, t_ms: int) -> float:
    """A smooth, deterministic price path: a weekly swing plus a faster wiggle."""
    hours = t_ms / 3_600_000
    seed = _seed(pair.symbol)
    swing = 0.03 * math.sin(hours * 2 * math.pi / 168 + seed)
    wiggle = 0.008 * math.sin(hours * 2 * math.pi / 5.3 + 1.7 * seed)
    return pair.price * (1 + swing + wiggle)


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


class BybitMarket:
    """The state behind the Bybit endpoints: which pairs exist, and the clock."""

    def __init__(self, clock_ms: Callable[[], int]) -> None:
        self.clock_ms = clock_ms
        self.pairs: dict[str, Pair] = {p.symbol: p for p in DEFAULT_PAIRS}
        self._ticker_btc = load_json(DATA / "docs_tickers_spot_BTCUSDT.json")["result"]["list"][0]
        self._instrument_btc = load_json(DATA / "docs_instruments_info_spot_BTCUSDT.json")[
            "result"
        ]["list"][0]
        recorded = load_json(DATA / "nautilus_kline_spot_BTCUSDT_D.json")["result"]["list"]
        self._recorded_klines = {("BTCUSDT", "D"): {int(row[0]): row for row in recorded}}

    # --- set-up from tests ---------------------------------------------------------------------

    def add_pair(self, symbol: str, base: str, quote: str, price: float, decimals: int = 4) -> None:
        self.pairs[symbol] = Pair(symbol, base, quote, price, decimals)

    def add_synthetic_pairs(self, n: int) -> list[str]:
        symbols = []
        for i in range(1, n + 1):
            base = f"SYM{i:04d}"
            self.add_pair(f"{base}USDT", base, "USDT", 0.5 + i * 0.37, 4)
            symbols.append(f"{base}USDT")
        return symbols

    # --- routing -------------------------------------------------------------------------------

    def handle(self, path: str, query: dict[str, str]) -> Reply:
        routes = {
            "/v5/market/tickers": self.tickers,
            "/v5/market/kline": self.kline,
            "/v5/market/instruments-info": self.instruments_info,
            "/v5/market/time": self.server_time,
        }
        route = routes.get(path)
        if route is None:
            return json_reply(404, {"retCode": 10001, "retMsg": "path not found"})
        return route(query)

    def ok(self, result: dict) -> Reply:
        now = self.clock_ms()
        body = {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now}
        return json_reply(200, body, headers=self.limit_headers(now))

    def error(self, name: str, *, reset_ms: int = 1000) -> Reply:
        """One of the recorded error bodies, with the current time, and HTTP 200 as Bybit does."""
        body = load_json(DATA / "errors" / f"{name}.json")
        body["time"] = self.clock_ms()
        headers = self.limit_headers(body["time"], reset_ms=reset_ms)
        if body["retCode"] == 10006:
            headers["X-Bapi-Limit-Status"] = "0"
        return Reply(200, json.dumps(body, separators=(",", ":")).encode(), headers)

    def param_error(self, message: str) -> Reply:
        body = {"retCode": 10001, "retMsg": message, "result": {}, "retExtInfo": {}}
        body["time"] = self.clock_ms()
        return json_reply(200, body)

    @staticmethod
    def limit_headers(now_ms: int, *, reset_ms: int = 1000) -> dict[str, str]:
        return {
            "X-Bapi-Limit": "600",
            "X-Bapi-Limit-Status": "599",
            "X-Bapi-Limit-Reset-Timestamp": str(now_ms + reset_ms),
            "Traceid": f"{now_ms:x}",
        }

    # --- endpoints -----------------------------------------------------------------------------

    def server_time(self, query: dict[str, str]) -> Reply:
        now = self.clock_ms()
        return self.ok({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)})

    def tickers(self, query: dict[str, str]) -> Reply:
        symbol = query.get("symbol")
        if symbol is not None and symbol not in self.pairs:
            return self.error("err_10001_not_supported_symbols")
        symbols = [symbol] if symbol else list(self.pairs)
        rows = [self._ticker_row(self.pairs[s]) for s in symbols]
        return self.ok({"category": query.get("category", "spot"), "list": rows})

    def _ticker_row(self, pair: Pair) -> dict[str, str]:
        if pair.symbol == "BTCUSDT":
            return dict(self._ticker_btc)
        now = self.clock_ms()
        last = price_at(pair, now)
        prev = price_at(pair, now - 86_400_000)
        tick = 10**-pair.decimals
        volume = 1000 + (zlib.crc32(pair.symbol.encode()) % 90_000)
        d = pair.decimals
        return {
            "symbol": pair.symbol,
            "bid1Price": _fmt(last - tick, d),
            "bid1Size": "1.5",
            "ask1Price": _fmt(last + tick, d),
            "ask1Size": "2.25",
            "lastPrice": _fmt(last, d),
            "prevPrice24h": _fmt(prev, d),
            "price24hPcnt": f"{round(last, d) / round(prev, d) - 1:.4f}",
            "highPrice24h": _fmt(max(last, prev) * 1.01, d),
            "lowPrice24h": _fmt(min(last, prev) * 0.99, d),
            "turnover24h": _fmt(volume * last, 8),
            "volume24h": _fmt(volume, 5),
            "usdIndexPrice": _fmt(last * 1.0002, 8),
        }

    def kline(self, query: dict[str, str]) -> Reply:
        symbol = query.get("symbol", "")
        pair = self.pairs.get(symbol)
        if pair is None:
            return self.error("err_10001_not_supported_symbols")
        step = INTERVAL_MS.get(query.get("interval", ""))
        if step is None:
            return self.param_error("Invalid period!")
        limit = max(1, min(MAX_LIMIT, int(query.get("limit") or DEFAULT_LIMIT)))
        now = self.clock_ms()
        newest = now // step * step
        hi = newest if "end" not in query else min(newest, int(query["end"]) // step * step)
        lo = (
            LISTED_MS
            if "start" not in query
            else max(LISTED_MS, -(-int(query["start"]) // step) * step)
        )
        recorded = self._recorded_klines.get((symbol, query["interval"]), {})
        rows = []
        t = hi
        while t >= lo and len(rows) < limit:
            rows.append(recorded.get(t) or self._candle(pair, t, step, now))
            t -= step
        return self.ok({"symbol": symbol, "category": query.get("category", "spot"), "list": rows})

    @staticmethod
    def _candle(pair: Pair, t: int, step: int, now: int) -> list[str]:
        # The open candle closes at the current price, so it agrees with the ticker.
        o = price_at(pair, t)
        c = price_at(pair, min(t + step, now))
        h = max(o, c) * 1.0015
        low = min(o, c) * 0.9985
        volume = 5 + (zlib.crc32(f"{pair.symbol}{t}".encode()) % 5000) / 100
        d = pair.decimals
        row = [str(t), _fmt(o, d), _fmt(h, d), _fmt(low, d), _fmt(c, d)]
        return row + [_fmt(volume, 6), _fmt(volume * (o + c) / 2, 8)]

    def instruments_info(self, query: dict[str, str]) -> Reply:
        symbol = query.get("symbol")
        if symbol:
            # Bybit answers an unknown symbol here with an empty list, not an error.
            symbols = [symbol] if symbol in self.pairs else []
        else:
            symbols = list(self.pairs)
        rows = [self._instrument_row(self.pairs[s], i) for i, s in enumerate(symbols)]
        return self.ok({"category": query.get("category", "spot"), "list": rows})

    def _instrument_row(self, pair: Pair, index: int) -> dict:
        if pair.symbol == "BTCUSDT":
            return copy.deepcopy(self._instrument_btc)
        row = copy.deepcopy(self._instrument_btc)
        row.update(symbolId=100 + index, symbol=pair.symbol, baseCoin=pair.base)
        row["quoteCoin"] = pair.quote
        row["priceFilter"] = {"tickSize": _fmt(10**-pair.decimals, pair.decimals)}
        return row
