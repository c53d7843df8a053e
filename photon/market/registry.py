"""Which provider answers for which source, decided once from settings.

In ``live`` mode Yahoo serves stocks and indices and Bybit serves crypto; in ``replay`` mode the
bundled history serves both, labelled ``replay``. Providers are built on first use, so nothing
connects at import or at app creation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from photon.errors import ProviderError
from photon.market.base import Provider
from photon.types import Source


class Providers:
    def __init__(
        self,
        settings: Any,
        *,
        tz_cache_dir: str | None = None,
        replay_anchor: Callable[[], float] | None = None,
    ) -> None:
        self.settings = settings
        self.tz_cache_dir = tz_cache_dir
        self.replay_anchor = replay_anchor
        self._built: dict[str, Provider] = {}
        # Where back-fills remember empty ranges (``marketdata.RangeMemo``); set by the app.
        self.memo = None
        self._lock = threading.Lock()

    @property
    def mode(self) -> str:
        return self.settings.data_source

    def for_source(self, source: str) -> Provider:
        key = "replay" if self.mode == "replay" else source
        with self._lock:
            if key not in self._built:
                self._built[key] = self._build(key)
            return self._built[key]

    def market_now(self, source: str, ticker: str) -> datetime:
        """What "now" means for ``ticker``'s bars: the wall clock live, the cursor in replay
        (where bars keep their historical times and one more completes each tick)."""
        clock = getattr(self.for_source(source), "clock", None)
        if clock is not None:
            try:
                return clock(ticker)
            except ProviderError:
                pass  # a ticker replay does not know: its bars fail later, with the reason
        return datetime.now(UTC)

    def _build(self, key: str) -> Provider:
        s = self.settings
        # Each vendor library is imported when its provider is first built: a replay never
        # imports pybit or yfinance, and a live system without crypto never loads pybit.
        if key == "replay":
            from photon.market.replay.provider import ReplayProvider

            return ReplayProvider(
                start=s.replay_start,
                tick_seconds=s.effective_replay_tick,
                anchor=self.replay_anchor,
            )
        if key == Source.BYBIT:
            from photon.market.bybit import BybitProvider

            return BybitProvider(
                endpoint=s.bybit_url,
                timeout=s.provider_timeout,
                api_key=s.bybit_api_key,
                api_secret=s.bybit_secret_key,
            )
        if key == Source.YAHOO:
            from photon.market.yahoo.provider import YahooProvider

            return YahooProvider(
                base_url=s.yahoo_url, timeout=s.provider_timeout, tz_cache_dir=self.tz_cache_dir
            )
        raise ValueError(f"no provider for source {key!r}")
