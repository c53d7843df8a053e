"""Many quotes per request: Yahoo's v7 quote endpoint, called through yfinance's data layer.

``GET https://query1.finance.yahoo.com/v7/finance/quote?symbols=AAPL,MSFT&crumb=...`` answers
``{"quoteResponse": {"result": [...], "error": null}}`` with one row per symbol Yahoo knows, in the
asked order; an unknown symbol is simply missing. The endpoint needs the cookie + crumb pair, which
``YfData.get`` supplies (see ``yahoo_session`` for how it is kept between calls). An expired crumb
is answered HTTP 401 ``{"finance": {"error": {"code": "Unauthorized", "description": "Invalid
Crumb"}}}``; yfinance then fetches cookie and crumb afresh and repeats the request once.

Symbols per request: since March 2025 Yahoo fails quote requests for more than about 100 symbols
(HTTP 200 with ``quoteResponse.error`` "internal-error"): quantmod went from 199 to 99 per request
(joshuaulrich/quantmod#432, #433) and yahoo-finance2 caps its batches at 100 (gadicc/yahoo-finance2
#901). So ``QUOTE_CHUNK_SIZE`` is 100 and 1,000 symbols take 10 requests.

``fields`` trims each row to what Photon reads (Yahoo adds a dozen fields it always sends), about a
fifth of a full row, which keeps a 100-symbol answer small.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from photon.errors import ProviderError, ProviderUnavailable, RateLimited, SymbolNotFound
from photon.market.yahoo.errors import (
    GARBAGE,
    RATE_LIMIT_WAIT,
    QuoteAuthRefused,
    to_photon_error,
)
from photon.market.yahoo.session import keep_cookie, yfinance_data
from photon.types import AssetClass, Quote, Source, SymbolInfo

QUOTE_URL = "https://query1.finance.yahoo.com/v7/finance/quote"
QUOTE_CHUNK_SIZE = 100
QUOTE_FIELDS = (
    "symbol",
    "quoteType",
    "currency",
    "exchange",
    "fullExchangeName",
    "shortName",
    "longName",
    "regularMarketPrice",
    "regularMarketChange",
    "regularMarketChangePercent",
    "regularMarketVolume",
    "regularMarketTime",
    "bid",
    "ask",
)
ASSET_CLASSES = {"INDEX": AssetClass.INDEX, "CRYPTOCURRENCY": AssetClass.CRYPTO}


def chunks(symbols: Sequence[str], size: int = QUOTE_CHUNK_SIZE) -> list[list[str]]:
    return [list(symbols[i : i + size]) for i in range(0, len(symbols), max(1, size))]


def quote_params(symbols: Sequence[str]) -> dict[str, str]:
    """The query yfinance itself sends to v7 quote, plus ``fields``; yfinance adds the crumb."""
    return {
        "symbols": ",".join(symbols),
        "fields": ",".join(QUOTE_FIELDS),
        "formatted": "false",
        "lang": "en-US",
        "region": "US",
    }


def fetch_rows(session: Any, symbols: Sequence[str], timeout: float) -> dict[str, dict[str, Any]]:
    """One v7 quote request: the rows Yahoo returned, by upper-cased symbol.

    The caller holds ``YF_LOCK``. Raises ``RateLimited``, ``QuoteAuthRefused`` or
    ``ProviderUnavailable``; never a vendor exception.
    """
    data = yfinance_data(session)
    try:
        response = data.get(QUOTE_URL, params=quote_params(symbols), timeout=timeout)
        status, body = response.status_code, response.content
    except Exception as e:  # network errors, yfinance's YFRateLimitError
        status = getattr(session, "last_status", None)
        raise to_photon_error(",".join(symbols), e, status) from e
    rows = parse_response(status, body)
    keep_cookie(data, session)
    return rows


def parse_response(status: int, body: bytes) -> dict[str, dict[str, Any]]:
    """The rows of a v7 quote answer by upper-cased symbol, or the Photon error it amounts to."""
    if status == 429:
        raise RateLimited(Source.YAHOO, RATE_LIMIT_WAIT)
    if status in (401, 403):
        raise QuoteAuthRefused(Source.YAHOO, f"HTTP {status}")
    if status >= 400:
        raise ProviderUnavailable(Source.YAHOO, f"HTTP {status}")
    try:
        block = json.loads(body)["quoteResponse"]
        error = block.get("error")
        rows = {str(row["symbol"]).upper(): row for row in block.get("result") or []}
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ProviderUnavailable(Source.YAHOO, GARBAGE) from e
    if error:
        said = error if not isinstance(error, dict) else error.get("description") or error
        raise ProviderUnavailable(Source.YAHOO, f"Yahoo said: {said}")
    return rows


def to_quote(ticker: str, row: dict[str, Any]) -> Quote | ProviderError:
    """A v7 row as a Quote. ``change_pct`` is in percent (0.53 is 0.53 %), as Yahoo sends it."""
    price = _num(row.get("regularMarketPrice"))
    if price is None:
        return SymbolNotFound(ticker, f"No price for {ticker!r}")
    stamp = _num(row.get("regularMarketTime"))
    venue_time = datetime.fromtimestamp(stamp, tz=UTC) if stamp else None
    return Quote(
        ticker=ticker,
        price=price,
        ts=venue_time or datetime.now(UTC),
        source_time=venue_time,
        source=Source.YAHOO,
        change=_num(row.get("regularMarketChange")),
        change_pct=_num(row.get("regularMarketChangePercent")),
        volume=_num(row.get("regularMarketVolume")),
        bid=_num(row.get("bid")) or None,  # Yahoo sends 0 when there is no bid
        ask=_num(row.get("ask")) or None,
        currency=row.get("currency") or "USD",
    )


def to_info(ticker: str, row: dict[str, Any]) -> SymbolInfo:
    """A v7 row (or a chart meta in v7 names) as SymbolInfo."""
    kind = str(row.get("quoteType") or "").upper()
    return SymbolInfo(
        ticker=ticker,
        asset_class=AssetClass.INDEX
        if ticker.startswith("^")
        else ASSET_CLASSES.get(kind, AssetClass.STOCK),
        source=Source.YAHOO,
        name=row.get("longName") or row.get("shortName") or ticker,
        currency=row.get("currency") or "USD",
        exchange=row.get("fullExchangeName") or row.get("exchange"),
    )


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if out != out else out  # NaN is "unknown"
