"""The app's seam to market-data providers.

Views, jobs and commands ask here for the provider registry; which concrete provider answers
(Yahoo, Bybit or replay) is decided once from settings.
"""

from __future__ import annotations

import math
import os
import time

import redis
from flask import current_app

from photon.extensions import get_redis
from photon.market.registry import Providers
from photon.market.symbols import Resolved
from photon.market.types import SymbolInfo

REPLAY_ANCHOR_KEY = "photon:replay:anchor"


def get_providers() -> Providers:
    providers = current_app.extensions.get("photon.providers")
    if providers is None:
        providers = Providers(
            current_app.config["PHOTON"],
            tz_cache_dir=os.path.join(current_app.instance_path, "yfinance-tz"),
            replay_anchor=_replay_anchor(
                get_redis(), current_app.config["PHOTON"].effective_replay_tick
            ),
        )
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


def describe(resolved: Resolved) -> SymbolInfo:
    """Ask the provider whether ``resolved`` exists; raises ``SymbolNotFound`` if not and
    ``ProviderUnavailable``/``RateLimited`` (503 with Retry-After) if it cannot tell."""
    info = get_providers().for_source(resolved.source).describe(resolved.ticker)
    # Detection decides class and venue; the provider contributes what only it knows.
    return SymbolInfo(
        ticker=resolved.ticker, asset_class=resolved.asset_class, source=resolved.source,
        name=info.name, currency=info.currency, exchange=info.exchange,
    )
