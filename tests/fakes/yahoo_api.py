"""Yahoo Finance's v8 chart and v7 quote APIs (and the session endpoints yfinance visits).

The chart ``meta`` is the recorded AAPL meta with its values replaced, bars follow the regular
session of America/New_York (09:30 to 16:00 on weekdays; holidays are ignored), and an unknown
symbol gets the recorded HTTP 404 body. AAPL's and GOOG's recorded daily bars are served verbatim
for the dates they cover, with their dividend and split events.

v7 quote rows carry the fields of a real AAPL row, priced like the chart meta; unknown symbols are
left out, as Yahoo does. The crumb is checked (``expire_crumb`` makes the current one stale), a
``fields`` list trims rows to those plus the fields Yahoo always sends, and more than
``QUOTE_MAX_SYMBOLS`` symbols get the "internal-error" Yahoo has answered since March 2025.
"""

from __future__ import annotations

import copy
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from .http import Reply, json_reply, load_bytes, load_json, text_reply

DATA = Path(__file__).parent / "data" / "yahoo"
NY = ZoneInfo("America/New_York")
CRUMB = "PhotonFakeCrumb1"
QUOTE_MAX_SYMBOLS = 100
QUOTE_TOO_MANY = "Connection is deallocated and cannot be used anymore."
# Sent whatever ``fields`` asks for (as listed by quantmod's getQuote.yahoo).
QUOTE_ALWAYS = {
    "language", "region", "quoteType", "marketState", "exchangeDataDelayedBy", "exchange",
    "fullExchangeName", "market", "sourceInterval", "exchangeTimezoneName",
    "exchangeTimezoneShortName", "gmtOffSetMilliseconds", "tradeable", "symbol",
}  # fmt: skip

INTERVAL_S = {
    "1m": 60, "2m": 120, "5m": 300, "15m": 900, "30m": 1800,
    "60m": 3600, "90m": 5400, "1h": 3600, "1d": 86400,
}  # fmt: skip
# How far back Yahoo serves intraday bars, in days.
INTRADAY_HISTORY_DAYS = {"1m": 30, "60m": 730, "1h": 730}
DEFAULT_INTRADAY_HISTORY_DAYS = 60
ONE_MINUTE_SPAN_DAYS = 8
RANGE_DAYS = {
    "1mo": 31, "3mo": 92, "6mo": 183, "1y": 366, "2y": 731, "5y": 1827, "10y": 3653, "max": 40000,
}  # fmt: skip
# Recorded daily charts, with the period1/period2 they were requested for: inside that window
# the recording is the whole truth (no bar on a holiday), outside it bars are generated.
RECORDINGS = {
    "AAPL": ("chart_AAPL_1d_2020-08-31_to_2020-11-07.json", 1598832000, 1604707200),
    "GOOG": ("chart_GOOG_1d_2020-01-01_to_2020-01-03.json", 1577836800, 1578009600),
}


@dataclass(frozen=True)
class Stock:
    symbol: str
    long_name: str
    price: float
    first_trade: int = 345479400
    exchange: str = "NMS"
    full_exchange: str = "NasdaqGS"
    currency: str = "USD"
    instrument_type: str = "EQUITY"


DEFAULT_STOCKS = (
    Stock("AAPL", "Apple Inc.", 230.0, 345479400),
    Stock("MSFT", "Microsoft Corporation", 420.0, 511108200),
    Stock("GOOG", "Alphabet Inc.", 175.0, 1092922200),
)


def price_at(stock: Stock, ts: int) -> float:
    days = ts / 86400
    seed = (zlib.crc32(stock.symbol.encode()) % 1000) / 1000 * 2 * math.pi
    swing = 0.04 * math.sin(days * 2 * math.pi / 30 + seed) + 0.01 * math.sin(days * 9 + seed)
    return round(stock.price * (1 + swing), 4)


def _epoch(day: date, at: time) -> int:
    return int(datetime.combine(day, at, NY).timestamp())


def _period(day: date, start: time, end: time) -> dict:
    offset = int(datetime.combine(day, start, NY).utcoffset().total_seconds())
    tzname = datetime.combine(day, start, NY).tzname()
    return {
        "timezone": tzname,
        "start": _epoch(day, start),
        "end": _epoch(day, end),
        "gmtoffset": offset,
    }


PRE, OPEN, CLOSE, POST = time(4), time(9, 30), time(16), time(20)


class YahooMarket:
    def __init__(self, clock_s: Callable[[], float]) -> None:
        self.clock_s = clock_s
        self.stocks: dict[str, Stock] = {s.symbol: s for s in DEFAULT_STOCKS}
        aapl = load_json(DATA / RECORDINGS["AAPL"][0])
        self._meta_template = aapl["chart"]["result"][0]["meta"]
        self._recorded = {sym: self._load_recording(*rec) for sym, rec in RECORDINGS.items()}
        self.crumb = CRUMB

    def expire_crumb(self) -> str:
        """Make the crumb handed out so far stale (v7 quote answers 401); returns the new one."""
        self.crumb = f"{CRUMB}x{zlib.crc32(self.crumb.encode()) % 10_000}"
        return self.crumb

    @staticmethod
    def _load_recording(name: str, period1: int, period2: int) -> dict:
        result = load_json(DATA / name)["chart"]["result"][0]
        q = result["indicators"]["quote"][0]
        adj = result["indicators"]["adjclose"][0]["adjclose"]
        bars = {
            ts: (q["open"][i], q["high"][i], q["low"][i], q["close"][i], adj[i], q["volume"][i])
            for i, ts in enumerate(result["timestamp"])
        }
        return {
            "period1": period1,
            "period2": period2,
            "bars": bars,
            "events": result.get("events", {}),
        }

    def add_stock(self, stock: Stock) -> None:
        self.stocks[stock.symbol] = stock

    def add_synthetic_stocks(self, n: int) -> list[str]:
        symbols = [f"SYMS{i:04d}" for i in range(1, n + 1)]
        for i, sym in enumerate(symbols, start=1):
            self.stocks[sym] = Stock(sym, f"Synthetic Stock {i}", 10.0 + i * 0.5)
        return symbols

    # --- routing -------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str]) -> Reply:
        if path.startswith("/v8/finance/chart/"):
            return self.chart(path.rsplit("/", 1)[1], query)
        if path.startswith("/v10/finance/quoteSummary/"):
            return self.quote_summary(path.rsplit("/", 1)[1])
        if path == "/v7/finance/quote":
            return self.quote(query)
        if path == "/v1/test/getcrumb":
            return text_reply(200, self.crumb, "text/plain;charset=utf-8")
        if path == "/":
            # fc.yahoo.com: the A3 cookie is the point, not the page.
            reply = text_reply(404, "<html><body>Not Found</body></html>")
            reply.cookies.append("A3=d=AQABBPhotonFake; Max-Age=31557600; Path=/; SameSite=None")
            return reply
        if path in ("/consent", "/copyConsent", "/v2/collectConsent"):
            # No consent form: this client is not in a consent region.
            return text_reply(200, "<html><body>OK</body></html>")
        return json_reply(404, {"finance": {"result": None, "error": {"code": "Not Found"}}})

    @staticmethod
    def not_found() -> Reply:
        return Reply(404, load_bytes(DATA / "chart_SI_404_not_found_delisted.json"))

    def unknown_symbol(self, method: str, path: str, query: dict[str, str]) -> Reply:
        """What symbol endpoints say for a symbol Yahoo lacks; other paths answer as usual."""
        if path.startswith("/v8/finance/chart/"):
            return self.not_found()
        if path.startswith("/v10/finance/quoteSummary/"):
            return self.quote_summary("")
        if path == "/v7/finance/quote":
            return self.quote({**query, "symbols": ""})
        return self.handle(method, path, query)

    # --- chart ---------------------------------------------------------------------------------

    def chart(self, symbol: str, query: dict[str, str]) -> Reply:
        stock = self.stocks.get(symbol.upper())
        if stock is None:
            return self.not_found()
        interval = query.get("interval", "1d")
        step = INTERVAL_S.get(interval)
        if step is None:
            return self._chart_error(400, "Bad Request", f"Invalid input - interval={interval}")
        now = int(self.clock_s())
        if "period1" in query:
            p1 = int(float(query["period1"]))
            p2 = int(float(query.get("period2", now)))
        else:
            p1, p2 = self._range_start(query.get("range", "1mo"), now), now + 1
        p1 = max(p1, stock.first_trade)
        if step < 86400:
            problem = self._intraday_problem(interval, p1, p2, now)
            if problem:
                return self._chart_error(422, "Unprocessable Entity", problem)
        daily = step == 86400
        bars = self._bars(stock, p1, p2, step, daily, now)
        result: dict = {"meta": self._meta(stock, interval, query.get("range", ""), p1, p2, now)}
        if not daily:
            prepost = query.get("includePrePost", "false").lower() == "true"
            result["meta"]["tradingPeriods"] = self._trading_periods(p1, p2, now, prepost)
        if not bars:
            result["indicators"] = {"quote": [{}]}
            return json_reply(200, {"chart": {"result": [result], "error": None}})
        stamps = sorted(bars)
        result["timestamp"] = stamps
        events = self._events(stock.symbol, p1, p2) if query.get("events") else None
        if events:
            result["events"] = events
        cols = list(zip(*(bars[t] for t in stamps), strict=True))
        quote = {"close": cols[3], "open": cols[0], "volume": cols[5], "high": cols[1]}
        quote["low"] = cols[2]
        result["indicators"] = {"quote": [quote]}
        if daily:
            result["indicators"]["adjclose"] = [{"adjclose": cols[4]}]
        return json_reply(200, {"chart": {"result": [result], "error": None}})

    @staticmethod
    def _chart_error(status: int, code: str, description: str) -> Reply:
        body = {"chart": {"result": None, "error": {"code": code, "description": description}}}
        return json_reply(status, body)

    @staticmethod
    def _intraday_problem(interval: str, p1: int, p2: int, now: int) -> str | None:
        days = INTRADAY_HISTORY_DAYS.get(interval, DEFAULT_INTRADAY_HISTORY_DAYS)
        if interval == "1m" and p2 - p1 > ONE_MINUTE_SPAN_DAYS * 86400:
            return (
                f"1m data not available for startTime={p1} and endTime={p2}. Only 8 days worth "
                "of 1m granularity data are allowed to be fetched per request."
            )
        if p1 < now - days * 86400:
            return (
                f"{interval} data not available for startTime={p1} and endTime={p2}. "
                f"The requested range must be within the last {days} days."
            )
        return None

    def _range_start(self, rng: str, now: int) -> int:
        if rng.endswith("d") and rng[:-1].isdigit():
            day = datetime.fromtimestamp(now, NY).date()
            if _epoch(day, OPEN) > now:
                day -= timedelta(days=1)
            sessions = 0
            while True:
                if day.weekday() < 5:
                    sessions += 1
                    if sessions >= int(rng[:-1]):
                        return _epoch(day, time(0))
                day -= timedelta(days=1)
        if rng == "ytd":
            return _epoch(date(datetime.fromtimestamp(now, NY).year, 1, 1), time(0))
        return now - RANGE_DAYS.get(rng, 31) * 86400

    def _bars(self, stock: Stock, p1: int, p2: int, step: int, daily: bool, now: int) -> dict:
        recorded = self._recorded.get(stock.symbol) if daily else None
        bars: dict[int, tuple] = {}
        day = datetime.fromtimestamp(p1, NY).date()
        last_day = datetime.fromtimestamp(min(p2, now + 1), NY).date()
        while day <= last_day:
            start, close = _epoch(day, OPEN), _epoch(day, CLOSE)
            in_recording = recorded and recorded["period1"] <= start < recorded["period2"]
            if day.weekday() < 5 and not in_recording:
                stamps = [start] if daily else range(start, close, step)
                span = close - start if daily else step
                for t in stamps:
                    if p1 <= t < p2 and t <= now:
                        bars[t] = self._bar(stock, t, min(t + span, now))
            day += timedelta(days=1)
        if recorded:
            bars.update({t: b for t, b in recorded["bars"].items() if p1 <= t < p2})
        return bars

    @staticmethod
    def _bar(stock: Stock, start: int, end: int) -> tuple:
        o, c = price_at(stock, start), price_at(stock, end)
        h, low = round(max(o, c) * 1.002, 4), round(min(o, c) * 0.998, 4)
        volume = 10_000 + zlib.crc32(f"{stock.symbol}{start}".encode()) % 90_000
        return (o, h, low, c, c, volume)

    def _events(self, symbol: str, p1: int, p2: int) -> dict | None:
        recorded = self._recorded.get(symbol)
        if not recorded:
            return None
        events = {}
        for kind, items in recorded["events"].items():
            kept = {k: v for k, v in items.items() if p1 <= int(k) < p2}
            if kept:
                events[kind] = kept
        return events or None

    def _last_trade(self, now: int) -> int:
        day = datetime.fromtimestamp(now, NY).date()
        while True:
            if day.weekday() < 5 and _epoch(day, OPEN) <= now:
                return min(now, _epoch(day, CLOSE))
            day -= timedelta(days=1)

    def _meta(self, stock: Stock, interval: str, rng: str, p1: int, p2: int, now: int) -> dict:
        meta = copy.deepcopy(self._meta_template)
        last_trade = self._last_trade(now)
        price = round(price_at(stock, last_trade), 2)
        today = datetime.fromtimestamp(last_trade, NY).date()
        before = datetime.fromtimestamp(p1, NY).date() - timedelta(days=1)
        while before.weekday() >= 5:
            before -= timedelta(days=1)
        session = _period(today, OPEN, CLOSE)
        meta.update(
            currency=stock.currency,
            symbol=stock.symbol,
            exchangeName=stock.exchange,
            fullExchangeName=stock.full_exchange,
            instrumentType=stock.instrument_type,
            firstTradeDate=stock.first_trade,
            regularMarketTime=last_trade,
            gmtoffset=session["gmtoffset"],
            timezone=session["timezone"],
            exchangeTimezoneName="America/New_York",
            regularMarketPrice=price,
            fiftyTwoWeekHigh=round(stock.price * 1.06, 2),
            fiftyTwoWeekLow=round(stock.price * 0.94, 2),
            regularMarketDayHigh=round(price * 1.01, 2),
            regularMarketDayLow=round(price * 0.99, 2),
            regularMarketVolume=1_000_000 + zlib.crc32(stock.symbol.encode()) % 9_000_000,
            longName=stock.long_name,
            shortName=stock.long_name,
            chartPreviousClose=round(price_at(stock, _epoch(before, CLOSE)), 3),
            currentTradingPeriod={
                "pre": _period(today, PRE, OPEN),
                "regular": session,
                "post": _period(today, CLOSE, POST),
            },
            dataGranularity=interval,
            range=rng,
        )
        return meta

    @staticmethod
    def _trading_periods(p1: int, p2: int, now: int, prepost: bool) -> list | dict:
        days = []
        day = datetime.fromtimestamp(p1, NY).date()
        while _epoch(day, time(0)) < min(p2, now + 1):
            if day.weekday() < 5:
                days.append(day)
            day += timedelta(days=1)
        regular = [[_period(d, OPEN, CLOSE)] for d in days]
        if not prepost:
            return regular
        pre = [[_period(d, PRE, OPEN)] for d in days]
        return {"pre": pre, "regular": regular, "post": [[_period(d, CLOSE, POST)] for d in days]}

    # --- quote endpoints -----------------------------------------------------------------------

    def quote_summary(self, symbol: str) -> Reply:
        stock = self.stocks.get(symbol.upper()) if symbol else None
        if stock is None:
            error = {"code": "Not Found", "description": f"Quote not found for symbol: {symbol}"}
            return json_reply(404, {"quoteSummary": {"result": None, "error": error}})
        quote_type = {
            "exchange": stock.exchange,
            "quoteType": stock.instrument_type,
            "symbol": stock.symbol,
            "shortName": stock.long_name,
            "longName": stock.long_name,
            "timeZoneFullName": "America/New_York",
            "timeZoneShortName": "EST",
        }
        return json_reply(
            200, {"quoteSummary": {"result": [{"quoteType": quote_type}], "error": None}}
        )

    def quote(self, query: dict[str, str]) -> Reply:
        if query.get("crumb") != self.crumb:
            error = {"code": "Unauthorized", "description": "Invalid Crumb"}
            return json_reply(401, {"finance": {"result": None, "error": error}})
        symbols = list(dict.fromkeys(s.upper() for s in query.get("symbols", "").split(",") if s))
        if len(symbols) > QUOTE_MAX_SYMBOLS:
            error = {"code": "internal-error", "description": QUOTE_TOO_MANY}
            return json_reply(200, {"quoteResponse": {"result": [], "error": error}})
        now = int(self.clock_s())
        fields = set(filter(None, query.get("fields", "").split(","))) | QUOTE_ALWAYS
        known = [self.stocks[sym] for sym in symbols if sym in self.stocks]
        rows = [self.quote_row(stock, now, query) for stock in known]
        if "fields" in query:
            rows = [{k: v for k, v in row.items() if k in fields} for row in rows]
        return json_reply(200, {"quoteResponse": {"result": rows, "error": None}})

    def quote_row(self, stock: Stock, now: int, query: dict[str, str] | None = None) -> dict:
        """The whole v7 quote row Yahoo would send for ``stock`` at ``now``."""
        last = self._last_trade(now)
        price = round(price_at(stock, last), 2)
        day = datetime.fromtimestamp(last, NY).date()
        before = day - timedelta(days=1)
        while before.weekday() >= 5:
            before -= timedelta(days=1)
        prev = round(price_at(stock, _epoch(before, CLOSE)), 2)
        change, opened = round(price - prev, 4), round(price_at(stock, _epoch(day, OPEN)), 2)
        high, low = round(max(price, opened) * 1.004, 2), round(min(price, opened) * 0.996, 2)
        state = _market_state(now)
        quoted = state != "CLOSED"  # Yahoo sends bid and ask 0 while nothing trades
        local = datetime.fromtimestamp(now, NY)
        query = query or {}
        return {
            "language": query.get("lang", "en-US"), "region": query.get("region", "US"),
            "quoteType": stock.instrument_type, "typeDisp": stock.instrument_type.title(),
            "quoteSourceName": "Nasdaq Real Time Price", "triggerable": True,
            "currency": stock.currency, "exchange": stock.exchange,
            "fullExchangeName": stock.full_exchange, "financialCurrency": stock.currency,
            "shortName": stock.long_name, "longName": stock.long_name,
            "exchangeTimezoneName": "America/New_York",
            "exchangeTimezoneShortName": local.tzname(),
            "gmtOffSetMilliseconds": int(local.utcoffset().total_seconds() * 1000),
            "market": "us_market", "esgPopulated": False, "marketState": state,
            "tradeable": False, "priceHint": 2, "sourceInterval": 15, "exchangeDataDelayedBy": 0,
            "firstTradeDateMilliseconds": stock.first_trade * 1000,
            "regularMarketPrice": price, "regularMarketChange": change,
            "regularMarketChangePercent": round(change / prev * 100, 6),
            "regularMarketTime": last, "regularMarketPreviousClose": prev,
            "regularMarketOpen": opened, "regularMarketDayHigh": high, "regularMarketDayLow": low,
            "regularMarketDayRange": f"{low} - {high}",
            "regularMarketVolume": 1_000_000 + zlib.crc32(stock.symbol.encode()) % 9_000_000,
            "bid": round(price - 0.01, 2) if quoted else 0.0, "bidSize": 3 if quoted else 0,
            "ask": round(price + 0.01, 2) if quoted else 0.0, "askSize": 2 if quoted else 0,
            "fiftyTwoWeekLow": round(stock.price * 0.94, 2),
            "fiftyTwoWeekHigh": round(stock.price * 1.06, 2),
            "symbol": stock.symbol,
        }  # fmt: skip


def _market_state(now: int) -> str:
    at = datetime.fromtimestamp(now, NY)
    for state, start, end in (("PRE", PRE, OPEN), ("REGULAR", OPEN, CLOSE), ("POST", CLOSE, POST)):
        if at.weekday() < 5 and start <= at.time() < end:
            return state
    return "CLOSED"
