"""Fixtures for provider tests: a local fake exchange and providers pointed at it.

Timeouts, delays and budgets are kept small so that fault tests finish in a fraction of a second
each; nothing here may leave loopback (the root conftest routes any stray request to a dead
local proxy).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from yfinance.data import YfData

from photon.market.bybit import BybitProvider
from photon.market.yahoo.provider import YahooProvider
from tests.fakes import FakeExchange

FAST = {"timeout": 0.5, "base_delay": 0.01, "max_delay": 0.05, "budget": 3.0}


@pytest.fixture
def fake_exchange() -> Iterator[FakeExchange]:
    # yfinance memoises responses per Yahoo URL for the whole process; a test's fake server must
    # not be answered from another test's memo.
    YfData.cache_get.cache_clear()
    with FakeExchange() as fx:
        yield fx


@pytest.fixture(scope="session")
def yf_cache_dir(tmp_path_factory) -> str:
    """One yfinance cache folder for the session: yfinance only honours the first location set."""
    return str(tmp_path_factory.mktemp("yfinance-cache"))


@pytest.fixture
def bybit(fake_exchange: FakeExchange) -> BybitProvider:
    return BybitProvider(endpoint=fake_exchange.url, **FAST)


@pytest.fixture
def yahoo(fake_exchange: FakeExchange, yf_cache_dir: str) -> YahooProvider:
    return YahooProvider(base_url=fake_exchange.url, tz_cache_dir=yf_cache_dir, **FAST)
