"""Turn whatever yfinance 1.7.0 raises (with ``hide_exceptions`` off) into a Photon error.

What reaches us, and why:

* ``YFPricesMissingError`` with ``yahoo_reason``: Yahoo answered ``chart.error``. Its 404 says
  "No data found, symbol may be delisted"; anything else (a 422 about an intraday range) is not
  about the symbol. Without a reason, the chart had no bars: a known symbol, no prices.
* ``YFTzMissingError``: the timezone probe (a ``range=1d`` chart) found no such symbol.
* ``YFRateLimitError``: HTTP 429, after yfinance's one retry with a fresh cookie.
* curl_cffi ``HTTPError`` from ``raise_for_status``: yfinance's quoteSummary fallback for a symbol
  whose timezone probe found nothing (the first two such symbols per process only).
* curl_cffi ``Timeout``/``ConnectionError``/``DNSError`` (and ``ProxyError``): the network. They
  are ``OSError`` subclasses, not ``requests`` exceptions.
* ``JSONDecodeError``/``KeyError``/``TypeError``: a body that is not the chart JSON. yfinance
  parses 5xx bodies too, so the last HTTP status decides between "HTTP 502" and "garbage".

The v7 quote path (``yahoo_quotes``) reads the HTTP answer itself; only exceptions raised on the
way (network, ``YFRateLimitError``) come through here.
"""

from __future__ import annotations

import json
import logging

import requests
from curl_cffi.requests import exceptions as curl_exc
from yfinance import exceptions as yf_exc

from photon.errors import ProviderError, ProviderUnavailable, RateLimited, SymbolNotFound
from photon.types import Source

log = logging.getLogger(__name__)

# Yahoo sends no Retry-After; its limits are per IP and ease within a minute or so.
RATE_LIMIT_WAIT = 60.0
GARBAGE = "garbage response"
NOT_FOUND_HINTS = ("delisted", "not found", "no data found")


class NoPrices(ProviderError):
    """Yahoo knows the symbol but had no bars for the asked window; not raised past the provider."""


class QuoteAuthRefused(ProviderUnavailable):
    """The v7 quote endpoint refused cookie and crumb (401/403) even after yfinance renewed them.

    Still a ``ProviderUnavailable`` to callers; ``describe`` falls back to the chart API on it,
    which needs no crumb.
    """


def to_photon_error(symbol: str, exc: BaseException, status: int | None) -> ProviderError:
    """The Photon error for ``exc``; ``status`` is the last HTTP status seen during the call."""
    if isinstance(exc, yf_exc.YFRateLimitError) or status == 429:
        return RateLimited(Source.YAHOO, RATE_LIMIT_WAIT)
    if isinstance(exc, yf_exc.YFPricesMissingError):
        return _prices_missing(symbol, exc, status)
    if isinstance(exc, yf_exc.YFTickerMissingError):
        if status is not None and status >= 500:
            return ProviderUnavailable(Source.YAHOO, f"HTTP {status}")
        return SymbolNotFound(symbol)
    if isinstance(exc, curl_exc.IncompleteRead | requests.exceptions.ChunkedEncodingError):
        return ProviderUnavailable(Source.YAHOO, GARBAGE)
    if isinstance(exc, curl_exc.HTTPError | requests.exceptions.HTTPError):
        response = getattr(exc, "response", None)
        code = getattr(response, "status_code", None) or status
        fallback = "/quoteSummary/" in str(getattr(response, "url", ""))
        if code == 429:
            return RateLimited(Source.YAHOO, RATE_LIMIT_WAIT)
        # quoteSummary is only asked once the chart probe found no such symbol; without a valid
        # crumb it answers 401 rather than 404.
        if code == 404 or (fallback and code in (401, 403)):
            return SymbolNotFound(symbol)
        return ProviderUnavailable(Source.YAHOO, f"HTTP {code}")
    if isinstance(exc, curl_exc.Timeout | requests.exceptions.Timeout | TimeoutError):
        return ProviderUnavailable(Source.YAHOO, "timeout")
    if isinstance(exc, curl_exc.RequestException | requests.exceptions.RequestException):
        return ProviderUnavailable(Source.YAHOO, f"network error ({type(exc).__name__})")
    if isinstance(exc, json.JSONDecodeError | KeyError | TypeError | IndexError | ValueError):
        if status is not None and status >= 400:
            return ProviderUnavailable(Source.YAHOO, f"HTTP {status}")
        return ProviderUnavailable(Source.YAHOO, GARBAGE)
    if isinstance(exc, OSError):
        return ProviderUnavailable(Source.YAHOO, f"network error ({type(exc).__name__})")
    if isinstance(exc, yf_exc.YFException):
        return ProviderUnavailable(Source.YAHOO, str(exc) or type(exc).__name__)
    log.warning("unexpected error from yfinance for %s", symbol, exc_info=exc)
    return ProviderUnavailable(Source.YAHOO, f"unexpected {type(exc).__name__}")


def _prices_missing(
    symbol: str, exc: yf_exc.YFPricesMissingError, status: int | None
) -> ProviderError:
    if status is not None and status >= 500:
        return ProviderUnavailable(Source.YAHOO, f"HTTP {status}")
    reason = exc.yahoo_reason
    if reason is None:
        return NoPrices(f"No prices for {symbol!r} in the asked window")
    if status == 404 or any(hint in reason.lower() for hint in NOT_FOUND_HINTS):
        return SymbolNotFound(symbol)
    return ProviderUnavailable(Source.YAHOO, f"Yahoo said: {reason}")
