"""Bybit spot market data through pybit's v5 HTTP client, public endpoints only.

pybit retries on its own (sleeping ``retry_delay`` on retCode 10002/10006 and, with
``force_retry``, on network errors) and raises three kinds of errors: ``InvalidRequestError`` for a
non-zero retCode, ``FailedRequestError`` for a non-200 status or an undecodable body, and raw
``requests`` exceptions for the network. Its retries are switched off here so ``retry.py`` alone
decides backoff, and every one of its errors becomes a Photon ``ProviderError`` at this boundary.

No order endpoint is ever called: API keys are accepted for configuration symmetry and unused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import requests
from pybit.exceptions import FailedRequestError, InvalidRequestError
from pybit.unified_trading import HTTP

from photon.errors import Invalid, ProviderError, ProviderUnavailable, RateLimited, SymbolNotFound
from photon.market.cache import TTLCache
from photon.market.retry import (
    DEFAULT_ATTEMPTS,
    DEFAULT_BASE_DELAY,
    DEFAULT_BUDGET,
    DEFAULT_MAX_DELAY,
    retrying,
)
from photon.types import AssetClass, Bar, Quote, Source, SymbolInfo

log = logging.getLogger(__name__)

CATEGORY = "spot"
INTERVALS = {"1m": "1", "5m": "5", "1h": "60", "1d": "D"}
INTERVAL_MS = {"1m": 60_000, "5m": 300_000, "1h": 3_600_000, "1d": 86_400_000}
KLINE_LIMIT = 1000
# 1m bars for a year are 526 pages; anything longer is a caller bug, not a chart.
MAX_KLINE_PAGES = 600
QUOTE_COINS = ("USDT", "USDC", "USDE", "EUR", "BTC", "ETH")
DESCRIBE_TTL = 3600.0
# Bybit's rate-limit windows are a second or a few; without a reset header, wait about that.
DEFAULT_RATE_LIMIT_WAIT = 1.0
# A 403 "access too frequent" is an IP ban, which lasts minutes, not seconds.
IP_BAN_WAIT = 600.0
GARBAGE = "garbage response"


class BybitProvider:
    """Quotes, bars and symbol checks for Bybit spot pairs (``BTCUSDT``).

    ``endpoint`` (``PHOTON_BYBIT_URL``) replaces ``https://api.bybit.com``. ``timeout`` caps each
    HTTP request, ``retries`` is the number of attempts per request, and ``budget`` the seconds
    one request may take with its retries.
    """

    name = Source.BYBIT

    def __init__(
        self,
        endpoint: str | None = None,
        timeout: float = 5.0,
        retries: int = DEFAULT_ATTEMPTS,
        api_key: str | None = None,
        api_secret: str | None = None,
        *,
        budget: float = DEFAULT_BUDGET,
        base_delay: float = DEFAULT_BASE_DELAY,
        max_delay: float = DEFAULT_MAX_DELAY,
        describe_ttl: float = DESCRIBE_TTL,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # The keys are never handed to pybit: without them it cannot sign, so no order can go out.
        # max_retries=1 is one attempt; no force_retry, so network and JSON errors surface at once.
        self._http = HTTP(
            testnet=False,
            timeout=timeout,
            max_retries=1,
            retry_delay=0,
            force_retry=False,
            log_requests=False,
            logging_level=logging.WARNING,
        )
        # pybit swaps an empty retry_codes for its defaults in __post_init__; clear it afterwards
        # so a 10006 comes back to us instead of sleeping inside pybit.
        self._http.retry_codes = set()
        if endpoint:
            self._http.endpoint = endpoint.rstrip("/")
        self._timeout = timeout
        self._retry = {
            "attempts": max(1, retries),
            "base_delay": base_delay,
            "max_delay": max_delay,
            "budget": budget,
            "attempt_time": timeout,
            "sleep": sleep,
        }
        self._clock = clock
        self._described: TTLCache[SymbolInfo] = TTLCache(describe_ttl, clock)

    @property
    def endpoint(self) -> str:
        return self._http.endpoint

    # --- Provider API --------------------------------------------------------------------------

    def quotes(self, tickers: Sequence[str]) -> dict[str, Quote | ProviderError]:
        """One ``get_tickers`` call for the whole spot market, however many tickers are asked."""
        wanted = list(dict.fromkeys(tickers))
        if not wanted:
            return {}
        body = self._call("get_tickers", category=CATEGORY)
        try:
            rows = {row["symbol"]: row for row in body["result"]["list"]}
            ts = datetime.fromtimestamp(int(body["time"]) / 1000, tz=UTC)
        except (KeyError, TypeError, ValueError) as e:
            raise ProviderUnavailable(Source.BYBIT, GARBAGE) from e
        out: dict[str, Quote | ProviderError] = {}
        for ticker in wanted:
            row = rows.get(ticker)
            if row is None:
                out[ticker] = SymbolNotFound(ticker)
                continue
            try:
                out[ticker] = self._quote(ticker, row, ts)
            except (KeyError, TypeError, ValueError):
                out[ticker] = ProviderUnavailable(Source.BYBIT, GARBAGE)
        return out

    def bars(self, ticker: str, interval: str, start: datetime, end: datetime) -> list[Bar]:
        """Klines with ``start <= open_time < end``, oldest first, paging backwards from ``end``.

        Bybit returns the newest ``limit`` candles of the asked window, newest first, so each
        next page ends just before the oldest candle seen so far.
        """
        code = INTERVALS.get(interval)
        if code is None:
            raise Invalid(f"Unsupported interval {interval!r}", errors={"interval": [interval]})
        start_ms, end_ms = _ms(start), _ms(end)
        seen: dict[int, list[str]] = {}
        page_end = end_ms - 1  # Bybit's end is inclusive; Photon's is not
        for _ in range(MAX_KLINE_PAGES):
            if page_end < start_ms:
                break
            body = self._call(
                "get_kline",
                symbol=ticker,
                category=CATEGORY,
                interval=code,
                start=start_ms,
                end=page_end,
                limit=KLINE_LIMIT,
            )
            try:
                page = body["result"]["list"]
                opens = [int(row[0]) for row in page]
            except (KeyError, TypeError, ValueError, IndexError) as e:
                raise ProviderUnavailable(Source.BYBIT, GARBAGE) from e
            for t, row in zip(opens, page, strict=True):
                if start_ms <= t < end_ms:
                    seen.setdefault(t, row)
            if len(page) < KLINE_LIMIT or not opens or min(opens) >= page_end + 1:
                break
            page_end = min(opens) - 1
        else:
            log.warning(
                "bybit bars for %s %s stopped after %d pages", ticker, interval, MAX_KLINE_PAGES
            )
        try:
            return [_bar(ticker, interval, seen[t]) for t in sorted(seen)]
        except (TypeError, ValueError, IndexError) as e:
            raise ProviderUnavailable(Source.BYBIT, GARBAGE) from e

    def describe(self, ticker: str) -> SymbolInfo:
        """Instrument info for one pair, cached in-process for ``describe_ttl`` seconds."""
        cached = self._described.get(ticker)
        if cached is not None:
            return cached
        body = self._call("get_instruments_info", symbol=ticker, category=CATEGORY)
        try:
            rows = body["result"]["list"]
            row = next((r for r in rows if r["symbol"] == ticker), None)
            if row is None:
                raise SymbolNotFound(ticker)
            info = SymbolInfo(
                ticker=ticker,
                asset_class=AssetClass.CRYPTO,
                source=Source.BYBIT,
                name=f"{row['baseCoin']}/{row['quoteCoin']}",
                currency=row["quoteCoin"],
                exchange="Bybit",
            )
        except (KeyError, TypeError) as e:
            raise ProviderUnavailable(Source.BYBIT, GARBAGE) from e
        return self._described.put(ticker, info)

    # --- plumbing ------------------------------------------------------------------------------

    def _quote(self, ticker: str, row: dict[str, Any], ts: datetime) -> Quote:
        price = float(row["lastPrice"])
        prev = _num(row.get("prevPrice24h"))
        pct = _num(row.get("price24hPcnt"))
        # Round away float noise (20533.13 - 20393.48 = 139.65000000000146) to the digits sent.
        places = max(_places(row["lastPrice"]), _places(row.get("prevPrice24h")))
        return Quote(
            ticker=ticker,
            price=price,
            ts=ts,
            source=Source.BYBIT,
            change=round(price - prev, places) if prev is not None else None,
            change_pct=round(pct * 100, _places(row["price24hPcnt"])) if pct is not None else None,
            volume=_num(row.get("volume24h")),
            bid=_num(row.get("bid1Price")),
            ask=_num(row.get("ask1Price")),
            currency=self._quote_coin(ticker),
            source_time=ts,
        )

    def _quote_coin(self, ticker: str) -> str | None:
        cached = self._described.get(ticker, stale_ok=True)
        if cached is not None:
            return cached.currency
        return next((q for q in QUOTE_COINS if ticker.endswith(q) and ticker != q), None)

    def _call(self, method: str, **params: Any) -> dict[str, Any]:
        fn = getattr(self._http, method)
        symbol = params.get("symbol")

        def once() -> dict[str, Any]:
            try:
                body = fn(**params)
            except InvalidRequestError as e:
                raise _from_ret_code(e, symbol) from e
            except FailedRequestError as e:
                raise _from_http_failure(e) from e
            except requests.exceptions.Timeout as e:
                raise ProviderUnavailable(Source.BYBIT, "timeout") from e
            except (
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as e:
                raise ProviderUnavailable(Source.BYBIT, GARBAGE) from e
            except requests.exceptions.RequestException as e:
                raise ProviderUnavailable(
                    Source.BYBIT, f"network error ({type(e).__name__})"
                ) from e
            except (AttributeError, TypeError, ValueError) as e:
                # JSON that is not an object (a list, a string) trips pybit's own parsing.
                raise ProviderUnavailable(Source.BYBIT, GARBAGE) from e
            if not isinstance(body, dict) or not isinstance(body.get("result"), dict):
                raise ProviderUnavailable(Source.BYBIT, GARBAGE)
            return body

        return retrying(once, **self._retry)


def _from_ret_code(e: InvalidRequestError, symbol: str | None) -> ProviderError:
    code, message = e.status_code, str(e.message)
    lowered = message.lower()
    if code == 10001 and symbol and "symbol" in lowered:
        if "not supported" in lowered or "invalid" in lowered:
            return SymbolNotFound(symbol)
    if code == 10006:
        return RateLimited(Source.BYBIT, _reset_wait(e.resp_headers))
    if code == 10016:
        return ProviderUnavailable(Source.BYBIT, "server timeout (retCode 10016)")
    return ProviderUnavailable(Source.BYBIT, f"retCode {code}: {message}")


def _from_http_failure(e: FailedRequestError) -> ProviderError:
    status = e.status_code
    if e.resp_headers is None:
        # Raised by pybit itself, not from a response: 409 means the body was not JSON.
        if status == 409:
            return ProviderUnavailable(Source.BYBIT, GARBAGE)
        return ProviderUnavailable(Source.BYBIT, str(e.message))
    if status == 429:
        return RateLimited(Source.BYBIT, _reset_wait(e.resp_headers))
    if status == 403:
        return RateLimited(Source.BYBIT, IP_BAN_WAIT)
    return ProviderUnavailable(Source.BYBIT, f"HTTP {status}")


def _reset_wait(headers: Any) -> float:
    """Seconds until the X-Bapi-Limit-Reset-Timestamp (ms) in ``headers``, if it is there."""
    try:
        reset_ms = int(headers["X-Bapi-Limit-Reset-Timestamp"])
    except (KeyError, TypeError, ValueError):
        return DEFAULT_RATE_LIMIT_WAIT
    return max(0.0, reset_ms / 1000 - time.time())


def _num(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def _places(text: Any) -> int:
    text = str(text or "")
    return len(text) - text.index(".") - 1 if "." in text else 0


def _ms(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise Invalid("Datetimes must be timezone-aware", errors={"start": ["Naive datetime."]})
    return int(dt.timestamp() * 1000)


def _bar(ticker: str, interval: str, row: list[str]) -> Bar:
    return Bar(
        ticker=ticker,
        interval=interval,
        open_time=datetime.fromtimestamp(int(row[0]) / 1000, tz=UTC),
        open=float(row[1]),
        high=float(row[2]),
        low=float(row[3]),
        close=float(row[4]),
        volume=float(row[5]),
    )
