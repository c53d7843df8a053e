"""The app's seam to market-data providers.

Views and jobs ask here for "the provider for this source"; which concrete provider answers
(Yahoo, Bybit or replay) is decided once from settings.
"""

from __future__ import annotations

from photon.market.symbols import Resolved
from photon.market.types import SymbolInfo


def describe(resolved: Resolved) -> SymbolInfo:
    """Check with the provider that ``resolved`` exists and describe it."""
    return SymbolInfo(
        ticker=resolved.ticker, asset_class=resolved.asset_class, source=resolved.source
    )
