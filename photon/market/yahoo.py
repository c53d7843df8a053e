"""Stock and index data from Yahoo Finance through yfinance's chart API.

Yahoo's chart endpoint serves one symbol per request; there is no batch form of it, so N tickers
cost N chart requests whichever yfinance entry point is used. ``yf.download()`` is a loop of
``Ticker.history()`` (``multi._download_one``), and in yfinance 1.7.0 it keeps each symbol's error
in a private per-call context and only logs it (``yf.shared._ERRORS`` is no longer written), which
leaves "delisted" and "timed out" indistinguishable from outside. So this provider makes that
same loop itself: ``Ticker(symbol).history()`` per symbol, with yfinance told to raise
(``config.debug.hide_exceptions = False``), which yields typed errors per symbol and the chart
``meta`` (currency, exchange, names, ``regularMarketPrice``) at no extra cost.

Calls per symbol: one chart request, plus, the first time yfinance meets a symbol, one more small
chart request (``range=1d``) to learn its timezone, which it then keeps in its tz cache on disk
(``tz_cache_dir``). A 4xx/5xx answer makes yfinance renew its cookie and crumb and repeat the
request once.

Quotes: ``price`` is the chart meta's ``regularMarketPrice`` (the live price, free with the chart),
falling back to the last daily close; ``change`` is against the previous daily close; ``bid`` and
``ask`` are not in the chart API and stay ``None``.

yfinance keeps process-wide state (one ``YfData`` session singleton, global config), so calls
into it are serialised by a module lock.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import yfinance as yf
from yfinance import data as yf_data

from photon.errors import Invalid, ProviderError, ProviderUnavailable, SymbolNotFound
from photon.market.retry import DEFAULT_BASE_DELAY, DEFAULT_BUDGET, DEFAULT_MAX_DELAY, retrying
from photon.market.types import CRYPTO, INDEX, STOCK, YAHOO, Bar, Quote, SymbolInfo
from photon.market.yahoo_errors import NoPrices, to_photon_error
from photon.market.yahoo_session import YahooSession

_YF_LOCK = threading.Lock()

INTERVALS = {"1m": "1m", "5m": "5m", "1h": "1h", "1d": "1d"}
# Yahoo serves intraday bars only this far back (days), and 1m bars 8 days per request at most.
INTRADAY_HISTORY_DAYS = {"1m": 30, "5m": 60, "1h": 730}
ONE_MINUTE_WINDOW = timedelta(days=7)
DESCRIBE_TTL = 3600.0
# Stop asking for the rest of a batch after this many symbols in a row failed to transport.
MAX_CONSECUTIVE_FAILURES = 2
META_KEYS = (
    "currency",
    "symbol",
    "exchangeName",
    "fullExchangeName",
    "instrumentType",
    "regularMarketTime",
    "regularMarketPrice",
    "regularMarketVolume",
    "chartPreviousClose",
    "longName",
    "shortName",
)
ASSET_CLASSES = {"INDEX": INDEX, "CRYPTOCURRENCY": CRYPTO}


class YahooProvider:
    """Quotes, bars and symbol checks for Yahoo tickers (``AAPL``, ``^GSPC``, ``BRK-B``).

    ``base_url`` (``PHOTON_YAHOO_URL``) moves every Yahoo host onto one local server; unset, the
    real hosts are used. ``timeout`` caps each HTTP request and ``budget`` one call with its
    retries. ``tz_cache_dir`` is where yfinance keeps its timezone and cookie caches. A
    ``session`` of your own replaces ``YahooSession`` (and with it the URL rewrite and deadline).
    """

    name = YAHOO

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
        self._describe_ttl = describe_ttl
        self._described: dict[str, tuple[float, SymbolInfo]] = {}
        self._cache_lock = threading.Lock()
        # yfinance logs every failure it also raises; Photon reports them once, as its own errors.
        logging.getLogger("yfinance").setLevel(logging.CRITICAL)
        # yfinance 1.7.0 uses pandas APIs that pandas 3 deprecates (``inplace=``), and re-enables
        # DeprecationWarnings for itself on import; they are yfinance's to fix, not news to us.
        for category in (DeprecationWarning, FutureWarning):
            warnings.filterwarnings("ignore", category=category, module=r"^yfinance")

    # --- Provider API --------------------------------------------------------------------------

    def quotes(self, tickers: Sequence[str]) -> dict[str, Quote | ProviderError]:
        """Latest quotes from a 5-day daily chart per ticker, fetched one after another.

        An unknown ticker maps to ``SymbolNotFound``. A rate limit, or a transport failure before
        any ticker succeeded, fails the whole call; later transport failures are reported per
        ticker, and after ``MAX_CONSECUTIVE_FAILURES`` in a row the rest are not tried.
        """
        out: dict[str, Quote | ProviderError] = {}
        wanted = list(dict.fromkeys(tickers))
        succeeded, failures_in_row = False, 0
        for i, ticker in enumerate(wanted):
            try:
                frame, meta = self._history(ticker, period="5d", interval="1d")
                out[ticker] = self._quote(ticker, frame, meta)
                self._remember(ticker, meta)
                succeeded, failures_in_row = True, 0
            except SymbolNotFound as e:
                out[ticker] = e
            except ProviderUnavailable as e:
                if not succeeded:
                    raise
                out[ticker] = e
                failures_in_row += 1
                if failures_in_row >= MAX_CONSECUTIVE_FAILURES:
                    for rest in wanted[i + 1 :]:
                        out[rest] = ProviderUnavailable(YAHOO, f"not tried after: {e.reason}")
                    break
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
        """Name, currency and exchange from the chart meta; cached for ``describe_ttl`` seconds."""
        with self._cache_lock:
            cached = self._described.get(ticker)
        if cached and cached[0] > self._clock():
            return cached[1]
        _, meta = self._history(ticker, period="5d", interval="1d")
        if not meta.get("symbol") and not meta.get("currency"):
            raise SymbolNotFound(ticker)
        return self._remember(ticker, meta)

    # --- plumbing ------------------------------------------------------------------------------

    def _history(self, ticker: str, **params: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
        """One ``Ticker.history`` call with retries; an empty frame when Yahoo has no prices."""
        deadline = time.monotonic() + self._budget

        def once() -> tuple[pd.DataFrame, dict[str, Any]]:
            with _YF_LOCK, _yfinance_raises(), self._deadline(deadline):
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

        return retrying(once, **self._retry)

    @contextmanager
    def _deadline(self, at: float) -> Iterator[None]:
        if isinstance(self._session, YahooSession):
            with self._session.deadline(at):
                yield
        else:
            yield

    def _quote(self, ticker: str, frame: pd.DataFrame, meta: Mapping[str, Any]) -> Quote:
        closes = frame["Close"].dropna() if "Close" in frame else pd.Series(dtype=float)
        price = _float(meta.get("regularMarketPrice"))
        if price is None and closes.empty:
            raise SymbolNotFound(ticker, f"No recent prices for {ticker!r}")
        if price is None:
            price = float(closes.iloc[-1])
        prev = (
            float(closes.iloc[-2]) if len(closes) >= 2 else _float(meta.get("chartPreviousClose"))
        )
        ts = _utc(meta.get("regularMarketTime")) or (
            _utc(closes.index[-1]) if not closes.empty else datetime.now(UTC)
        )
        volume = _float(meta.get("regularMarketVolume"))
        if volume is None and "Volume" in frame and not frame.empty:
            volume = float(frame["Volume"].iloc[-1])
        change = round(price - prev, 6) if prev else None
        return Quote(
            ticker=ticker,
            price=price,
            ts=ts,
            source=YAHOO,
            change=change,
            change_pct=round(change / prev * 100, 6) if change is not None else None,
            volume=volume,
            bid=None,
            ask=None,
            currency=meta.get("currency") or "USD",
        )

    def _remember(self, ticker: str, meta: Mapping[str, Any]) -> SymbolInfo:
        kind = str(meta.get("instrumentType") or "").upper()
        info = SymbolInfo(
            ticker=ticker,
            asset_class=INDEX if ticker.startswith("^") else ASSET_CLASSES.get(kind, STOCK),
            source=YAHOO,
            name=meta.get("longName") or meta.get("shortName") or ticker,
            currency=meta.get("currency") or "USD",
            exchange=meta.get("fullExchangeName") or meta.get("exchangeName"),
        )
        with self._cache_lock:
            self._described[ticker] = (self._clock() + self._describe_ttl, info)
        return info


@contextmanager
def _yfinance_raises() -> Iterator[None]:
    """Make yfinance raise its errors instead of logging them; the caller holds ``_YF_LOCK``."""
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


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if out != out else out  # NaN is "unknown"
