"""The app's seam to market-data providers.

Views, jobs and commands ask here for the provider registry; which concrete provider answers
(Yahoo, Bybit or replay) is decided once from settings.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import redis
from flask import current_app

from photon import metrics
from photon.errors import ProviderError
from photon.extensions import get_redis
from photon.market.base import Provider
from photon.market.registry import Providers
from photon.market.symbols import Resolved
from photon.types import Bar, Quote, SymbolInfo

T = TypeVar("T")

REPLAY_ANCHOR_KEY = "photon:replay:anchor"


class _Offloaded:
    """A provider whose calls run in eventlet's OS-thread pool.

    Under eventlet, ``requests`` (pybit) is greened by monkey-patching, but yfinance's curl_cffi
    does its I/O in C and would freeze every greenlet of the web process, Socket.IO included,
    for the length of the call.
    """

    def __init__(self, provider: Provider) -> None:
        self._provider = provider
        self.name = provider.name

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._provider, attr)

    def describe(self, ticker: str) -> SymbolInfo:
        return _tpool(self._provider.describe, ticker)

    def quotes(self, tickers: Sequence[str]) -> dict[str, Quote | ProviderError]:
        return _tpool(self._provider.quotes, tickers)

    def bars(self, ticker: str, interval: str, start: datetime, end: datetime) -> list[Bar]:
        return _tpool(self._provider.bars, ticker, interval, start, end)


def _tpool(fn: Callable[..., T], *args: Any) -> T:
    # Only the eventlet web process gets here; nothing else may import eventlet.
    from eventlet import tpool

    return tpool.execute(fn, *args)


class _Measured:
    """A provider whose calls are counted and timed, by source, operation and outcome (ok, or
    the Photon error it raised), for ``/metrics``."""

    def __init__(self, provider: Provider, recorder: metrics.Recorder) -> None:
        self._provider = provider
        self._recorder = recorder
        self.name = provider.name

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._provider, attr)

    def _timed(self, operation: str, fn: Callable[..., T], *args: Any) -> T:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return fn(*args)
        except ProviderError as exc:
            outcome = type(exc).__name__
            raise
        finally:
            self._recorder.count("provider_calls", (self.name, operation, outcome))
            self._recorder.observe(
                "provider_seconds", (self.name, operation), time.perf_counter() - started
            )

    def describe(self, ticker: str) -> SymbolInfo:
        return self._timed("describe", self._provider.describe, ticker)

    def quotes(self, tickers: Sequence[str]) -> dict[str, Quote | ProviderError]:
        return self._timed("quotes", self._provider.quotes, tickers)

    def bars(self, ticker: str, interval: str, start: datetime, end: datetime) -> list[Bar]:
        return self._timed("bars", self._provider.bars, ticker, interval, start, end)


class _AppProviders(Providers):
    """The app's registry: every provider measured, and offloaded to eventlet's thread pool
    in the eventlet web process."""

    def __init__(self, *args: Any, recorder: metrics.Recorder, green: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recorder = recorder
        self._green = green

    def _build(self, key: str) -> Provider:
        provider = _Measured(super()._build(key), self._recorder)
        return _Offloaded(provider) if self._green else provider


def get_providers() -> Providers:
    providers = current_app.extensions.get("photon.providers")
    if providers is None:
        providers = _AppProviders(
            current_app.config["PHOTON"],
            tz_cache_dir=os.path.join(current_app.instance_path, "yfinance-tz"),
            replay_anchor=_replay_anchor(
                get_redis(), current_app.config["PHOTON"].effective_replay_tick
            ),
            recorder=metrics.Recorder(get_redis()),
            green=bool(current_app.config.get("PHOTON_GREEN")),
        )
        providers.memo = RedisRangeMemo(get_redis())
        current_app.extensions["photon.providers"] = providers
    return providers


def _replay_anchor(client: redis.Redis, tick_seconds: float):
    """All processes must agree when the replay began, or web and worker would show different
    bars; the first one to ask stores the moment in Redis. It sits on the tick grid so prices
    and quote timestamps change together."""
    cached: list[float] = []

    def anchor() -> float:
        if cached:
            return cached[0]
        now = math.floor(time.time() / tick_seconds) * tick_seconds
        try:
            client.set(REPLAY_ANCHOR_KEY, repr(now), nx=True)
            value = float(client.get(REPLAY_ANCHOR_KEY) or now)
        except redis.RedisError:
            # Without Redis this process keeps its own start rather than freezing the replay.
            value = now
        cached.append(value)
        return value

    return anchor


class RedisRangeMemo:
    """``marketdata.RangeMemo`` in Redis: every process (and every forked job) shares it.
    Losing a note (Redis down or flushed) costs one more request, nothing else."""

    PREFIX = "photon:checked:"

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def get(self, key: str) -> datetime | None:
        try:
            value = self._client.get(self.PREFIX + key)
        except redis.RedisError:
            return None
        return datetime.fromisoformat(value.decode()) if value else None

    def set(self, key: str, moment: datetime, ttl: int) -> None:
        try:
            self._client.set(self.PREFIX + key, moment.isoformat(), ex=max(1, ttl))
        except redis.RedisError:
            pass


def describe(resolved: Resolved) -> SymbolInfo:
    """Ask the provider whether ``resolved`` exists; raises ``SymbolNotFound`` if not and
    ``ProviderUnavailable``/``RateLimited`` (503 with Retry-After) if it cannot tell."""
    info = get_providers().for_source(resolved.source).describe(resolved.ticker)
    # Detection decides class and venue; the provider contributes what only it knows.
    return SymbolInfo(
        ticker=resolved.ticker,
        asset_class=resolved.asset_class,
        source=resolved.source,
        name=info.name,
        currency=info.currency,
        exchange=info.exchange,
    )
