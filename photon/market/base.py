"""The one provider interface every market-data source implements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from photon.errors import ProviderError
from photon.types import Bar, Quote, SymbolInfo


class Provider(Protocol):
    name: str

    def describe(self, ticker: str) -> SymbolInfo:
        """Validate ``ticker`` and describe it; raises ``SymbolNotFound`` if unknown."""

    def quotes(self, tickers: Sequence[str]) -> dict[str, Quote | ProviderError]:
        """Latest quotes for many tickers in as few HTTP calls as the vendor allows.

        A ticker the vendor does not know maps to a ``SymbolNotFound`` in the result, so one bad
        symbol never fails the others. A whole-call failure raises ``ProviderUnavailable`` or
        ``RateLimited``.
        """

    def bars(self, ticker: str, interval: str, start: datetime, end: datetime) -> list[Bar]:
        """OHLCV bars with ``start <= open_time < end``, oldest first."""
