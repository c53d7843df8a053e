"""Stock and index data from Yahoo Finance through yfinance.

Quotes come from Yahoo's v7 quote endpoint, many symbols per request (``yahoo_quotes``): once
yfinance holds a cookie and crumb, one HTTP request per ``QUOTE_CHUNK_SIZE`` (100) tickers, so a
monitoring cycle of 3 tickers costs 1 request and one of 1,000 tickers 10. The first call on a
session first fetches the cookie (fc.yahoo.com) and the crumb: 2 more requests, or 3 when
yfinance's disk cookie cache cannot hold the cookie (it then visits fc.yahoo.com twice), as with
a ``base_url``. After that yfinance keeps the crumb in memory and ``keep_cookie`` spares it the
cookie visit it would otherwise make before every request.

Bars come from the chart API, which serves one symbol per request: ``Ticker(symbol).history()``
with yfinance told to raise (``config.debug.hide_exceptions = False``), which yields typed errors.
The first time yfinance meets a symbol it asks one more small chart (``range=1d``) for its timezone,
then keeps that in its tz cache on disk (``tz_cache_dir``).

``describe`` reads the same v7 row as the quotes (name, currency, exchange, quote type), and falls
back to the chart meta when the v7 endpoint refuses cookie and crumb (the chart needs no crumb).
Quotes fill the describe cache too, so describing a watched ticker costs nothing.

A 4xx/5xx answer makes yfinance renew cookie and crumb and repeat the request once, on either path.
yfinance keeps process-wide state (one ``YfData`` session singleton, global config), so calls into
it are serialised by ``YF_LOCK``.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import yfinance as yf
from yfinance import data as yf_data

from photon.errors import Invalid, ProviderError, ProviderUnavailable, RateLimited, SymbolNotFound
from photon.market.cache import TTLCache
from photon.market.retry import DEFAULT_BASE_DELAY, DEFAULT_BUDGET, DEFAULT_MAX_DELAY, retrying
from photon.market.yahoo.errors import NoPrices, QuoteAuthRefused, to_photon_error
from photon.market.yahoo.quotes import QUOTE_CHUNK_SIZE, chunks, fetch_rows, to_info, to_quote
from photon.market.yahoo.session import YF_LOCK, YahooSession, yfinance_data
from photon.types import Bar, Quote, Source, SymbolInfo

INTERVALS = {"1m": "1m", "5m": "5m", "1h": "1h", "1d": "1d"}
# Yahoo serves intraday bars only this far back (days), and 1m bars 8 days per request at most.
INTRADAY_HISTORY_DAYS = {"1m": 30, "5m": 60, "1h": 730}
ONE_MINUTE_WINDOW = timedelta(days=7)
DESCRIBE_TTL = 3600.0
# Stop asking for the rest of a batch after this many quote requests in a row failed.
MAX_CONSECUTIVE_FAILURES = 2
# What ``describe`` reads from a chart meta when it falls back to the chart.
META_KEYS = (
    "currency",
    "symbol",
    "exchangeName",
    "fullExchangeName",
    "instrumentType",
    "longName",
    "shortName",
)


class YahooProvider:
    """Quotes, bars and symbol checks for Yahoo tickers (``AAPL``, ``^GSPC``, ``BRK-B``).

    ``base_url`` (``PHOTON_YAHOO_URL``) moves every Yahoo host onto one local server; unset, the
    real hosts are used. ``timeout`` caps each HTTP request and ``budget`` one call with its
    retries. ``tz_cache_dir`` is where yfinance keeps its timezone and cookie caches. A
    ``session`` of your own replaces ``YahooSession`` (and with it the URL rewrite and deadline).
    ``quote_chunk`` is how many tickers go in one quote request.
    """

    name = Source.YAHOO

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 5.0,
        tz_cache_dir: str | None = None,
        session: Any = None,
        *,
        retries: int = 2,
        budget: float = DEFAULT_BUDGET,
        base_delay: float = DEFAULT_BASE_DELAY,
        max_delay: float = DEFAULT_MAX_DELAY,
        describe_ttl: float = DESCRIBE_TTL,
        quote_chunk: int = QUOTE_CHUNK_SIZE,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if tz_cache_dir:
            # Global to yfinance, and only effective before its caches are first opened.
            yf.set_tz_cache_location(str(tz_cache_dir))
        self._session = session if session is not None else YahooSession(base_url, timeout)
        self._timeout = timeout
        self._budget = budget
        self._retry = {
            "attempts": max(1, retries),
            "base_delay": base_delay,
            "max_delay": max_delay,
            "budget": budget,
            "sleep": sleep,
        }
        self._clock = clock
        self._quote_chunk = max(1, quote_chunk)
        self._described: TTLCache[SymbolInfo] = TTLCache(describe_ttl, clock)
        # yfinance logs every failure it also raises; Photon reports them once, as its own errors.
        logging.getLogger("yfinance").setLevel(logging.CRITICAL)
        # yfinance 1.7.0 uses pandas APIs that pandas 3 deprecates (``inplace=``), and re-enables
        # DeprecationWarnings for itself on import; they are yfinance's to fix, not news to us.
        for category in (DeprecationWarning, FutureWarning):
            warnings.filterwarnings("ignore", category=category, module=r"^yfinance")

    # --- Provider API --------------------------------------------------------------------------

    def quotes(self, tickers: Sequence[str]) -> dict[str, Quote | ProviderError]:
        """Latest quotes, ``quote_chunk`` tickers per v7 quote request, all within one budget.

        A ticker Yahoo does not return maps to ``SymbolNotFound``. A failure of the first request
        fails the whole call. After a request succeeded, a failing one's tickers get its error;
        after a rate limit, or ``MAX_CONSECUTIVE_FAILURES`` failed requests in a row, the rest
        are not tried.
        """
        out: dict[str, Quote | ProviderError] = {}
        batches = chunks(list(dict.fromkeys(tickers)), self._quote_chunk)
        deadline = time.monotonic() + self._budget
        succeeded, failures_in_row = False, 0
        for i, batch in enumerate(batches):
            try:
                rows = self._quote_rows(batch, deadline)
            except (ProviderUnavailable, RateLimited) as e:
                if not succeeded:
                    raise
                out.update(dict.fromkeys(batch, e))
                failures_in_row += 1
                if isinstance(e, RateLimited) or failures_in_row >= MAX_CONSECUTIVE_FAILURES:
                    rest = [t for later in batches[i + 1 :] for t in later]
                    out.update(dict.fromkeys(rest, _not_tried(e)))
                    break
                continue
            succeeded, failures_in_row = True, 0
            for ticker in batch:
                row = rows.get(ticker.upper())
                out[ticker] = SymbolNotFound(ticker) if row is None else to_quote(ticker, row)
                if row is not None:
                    self._remember(ticker, row)
        return out

    def bars(self, ticker: str, interval: str, start: datetime, end: datetime) -> list[Bar]:
        """Bars with ``start <= open_time < end``, oldest first.

        Daily bars open at midnight exchange time (as yfinance labels them), in UTC. Intraday
        windows older than Yahoo keeps are clipped; 1m ranges are fetched a week at a time.
        """
        yf_interval = INTERVALS.get(interval)
        if yf_interval is None:
            raise Invalid(f"Unsupported interval {interval!r}", errors={"interval": [interval]})
        if start.tzinfo is None or end.tzinfo is None:
            raise Invalid("Datetimes must be timezone-aware", errors={"start": ["Naive datetime."]})
        if interval in INTRADAY_HISTORY_DAYS:
            oldest = datetime.now(UTC) - timedelta(days=INTRADAY_HISTORY_DAYS[interval] - 1)
            start = max(start, oldest)
        bars: dict[datetime, Bar] = {}
        for w_start, w_end in _windows(start, end, interval):
            frame, _ = self._history(ticker, start=w_start, end=w_end, interval=yf_interval)
            for bar in _frame_bars(ticker, interval, frame):
                if start <= bar.open_time < end:
                    bars.setdefault(bar.open_time, bar)
        return [bars[t] for t in sorted(bars)]

    def describe(self, ticker: str) -> SymbolInfo:
        """Name, currency and exchange from the v7 quote row; cached for ``describe_ttl`` seconds.

        When the quote endpoint refuses cookie and crumb, the chart meta answers instead.
        """
        cached = self._described.get(ticker)
        if cached is not None:
            return cached
        deadline = time.monotonic() + self._budget
        try:
            row = self._quote_rows([ticker], deadline).get(ticker.upper())
        except QuoteAuthRefused:
            _, meta = self._history(ticker, deadline, period="5d", interval="1d")
            if not meta.get("symbol") and not meta.get("currency"):
                raise SymbolNotFound(ticker) from None
            row = {**meta, "quoteType": meta.get("instrumentType")}
            row.setdefault("exchange", meta.get("exchangeName"))
        if row is None:
            raise SymbolNotFound(ticker)
        return self._remember(ticker, row)

    # --- plumbing ------------------------------------------------------------------------------

    def _quote_rows(self, batch: list[str], deadline: float) -> dict[str, dict[str, Any]]:
        """One v7 quote request for ``batch``, retried while ``deadline`` allows."""

        def once() -> dict[str, dict[str, Any]]:
            with YF_LOCK, self._deadline(deadline):
                return fetch_rows(self._session, batch, self._timeout)

        return retrying(once, **{**self._retry, "budget": max(0.0, deadline - time.monotonic())})

    def _history(
        self, ticker: str, deadline: float | None = None, **params: Any
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """One ``Ticker.history`` call with retries; an empty frame when Yahoo has no prices."""
        deadline = deadline if deadline is not None else time.monotonic() + self._budget

        def once() -> tuple[pd.DataFrame, dict[str, Any]]:
            with YF_LOCK, _yfinance_raises(), self._deadline(deadline):
                yfinance_data(self._session)
                yf_ticker = yf.Ticker(ticker, session=self._session)
                try:
                    frame = yf_ticker.history(
                        auto_adjust=False, actions=False, timeout=self._timeout, **params
                    )
                except Exception as e:  # every vendor error is translated here
                    error = to_photon_error(ticker, e, getattr(self._session, "last_status", None))
                    if not isinstance(error, NoPrices):
                        _forget_cached_responses()
                        raise error from e
                    frame = pd.DataFrame()
                return frame, _meta(yf_ticker)

        return retrying(once, **{**self._retry, "budget": max(0.0, deadline - time.monotonic())})

    @contextmanager
    def _deadline(self, at: float) -> Iterator[None]:
        if isinstance(self._session, YahooSession):
            with self._session.deadline(at):
                yield
        else:
            yield

    def _remember(self, ticker: str, row: Mapping[str, Any]) -> SymbolInfo:
        return self._described.put(ticker, to_info(ticker, dict(row)))


def _not_tried(error: ProviderError) -> ProviderError:
    """What the tickers of the requests not made after ``error`` get: a rate limit stays one."""
    if isinstance(error, RateLimited):
        return error
    return ProviderUnavailable(Source.YAHOO, f"not tried after: {getattr(error, 'reason', error)}")


@contextmanager
def _yfinance_raises() -> Iterator[None]:
    """Make yfinance raise its errors instead of logging them; the caller holds ``YF_LOCK``."""
    previous = yf.config.debug.hide_exceptions
    yf.config.debug.hide_exceptions = False
    try:
        yield
    finally:
        yf.config.debug.hide_exceptions = previous


def _forget_cached_responses() -> None:
    """Drop yfinance's memoised responses after a failure.

    ``YfData.cache_get`` (an lru_cache used for the timezone probe and for past-range charts)
    keeps failed responses too: a 502, or one of Yahoo's spurious 404s, met once would be served
    back on every retry for the life of the process.
    """
    clear = getattr(getattr(yf_data.YfData, "cache_get", None), "cache_clear", None)
    if clear is not None:
        clear()


def _meta(yf_ticker: yf.Ticker) -> dict[str, Any]:
    # Only plain keys: reading the lazy "tradingPeriods" would cost another request.
    try:
        meta = yf_ticker.get_history_metadata()
        return {key: meta.get(key) for key in META_KEYS}
    except Exception:  # meta is a nicety; the prices are already in hand
        return {}


def _windows(start: datetime, end: datetime, interval: str) -> list[tuple[datetime, datetime]]:
    if start >= end:
        return []
    if interval != "1m":
        return [(start, end)]
    out, cursor = [], start
    while cursor < end:
        out.append((cursor, min(end, cursor + ONE_MINUTE_WINDOW)))
        cursor += ONE_MINUTE_WINDOW
    return out


def _frame_bars(ticker: str, interval: str, frame: pd.DataFrame) -> Iterator[Bar]:
    if frame.empty:
        return
    rows = frame.dropna(subset=["Open", "High", "Low", "Close"])
    for ts, row in zip(rows.index, rows.itertuples(index=False), strict=True):
        yield Bar(
            ticker=ticker,
            interval=interval,
            open_time=_utc(ts),
            open=float(row.Open),
            high=float(row.High),
            low=float(row.Low),
            close=float(row.Close),
            volume=float(row.Volume),
        )


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()
