"""Photon's one error hierarchy.

Everything that can reach a client as an HTTP error is a ``PhotonError``; the API turns it into the
one JSON shape ``{"code", "status", "message", "errors"}``. Vendor exceptions (pybit, yfinance,
requests, curl_cffi) never cross the provider boundary: they become one of these.
"""

from __future__ import annotations

from typing import Any


class PhotonError(Exception):
    """Base class; ``http_status`` is what the API answers with."""

    http_status = 500

    def __init__(self, message: str, *, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(PhotonError):
    http_status = 404


class Unauthorized(PhotonError):
    http_status = 401


class Invalid(PhotonError):
    http_status = 422


class Conflict(PhotonError):
    http_status = 409


class ServiceUnavailable(PhotonError):
    """A dependency of Photon itself (Redis, the job queue) is down."""

    http_status = 503
    retry_after: float | None = 5.0


class ProviderError(PhotonError):
    """Anything a market-data provider can raise."""

    http_status = 503
    retry_after: float | None = None


class SymbolNotFound(ProviderError):
    """The provider does not know the symbol (or it is delisted)."""

    http_status = 422

    def __init__(self, symbol: str, message: str | None = None) -> None:
        message = message or f"Unknown symbol {symbol!r}"
        # The field error says why, as every other validation error does, not just which.
        super().__init__(message, errors={"symbol": [message]})
        self.symbol = symbol


class ProviderUnavailable(ProviderError):
    """The provider could not be reached or answered garbage; ``reason`` says which."""

    def __init__(self, provider: str, reason: str, *, retry_after: float = 30.0) -> None:
        super().__init__(f"{provider} is unavailable: {reason}")
        self.provider = provider
        self.reason = reason
        self.retry_after = retry_after


class RateLimited(ProviderError):
    """The provider asked us to slow down."""

    def __init__(self, provider: str, retry_after: float) -> None:
        super().__init__(f"{provider} rate limit hit; retry after {retry_after:.0f}s")
        self.provider = provider
        self.reason = "rate limited"
        self.retry_after = retry_after
