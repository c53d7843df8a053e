"""Back-filling does not ask the provider again for ranges it already answered empty."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from photon.agents.backfill import backfill
from photon.extensions import db
from photon.models import Bar, Symbol


@pytest.fixture
def app_env(app_env):
    return {**app_env, "PHOTON_DATA_SOURCE": "replay"}


class Counting:
    """The real replay provider, with its ``bars`` calls counted."""

    def __init__(self, provider):
        self._provider = provider
        self.name = provider.name
        self.calls = 0

    def bars(self, *args):
        self.calls += 1
        return self._provider.bars(*args)


def test_empty_ranges_are_asked_for_once(app):
    from photon.providers import get_providers

    with app.app_context():
        symbol = Symbol(ticker="BTCUSDT", asset_class="crypto", source="bybit")
        db.session.add(symbol)
        db.session.commit()
        providers = get_providers()
        provider = Counting(providers.for_source("bybit"))
        now = providers.market_now("bybit", "BTCUSDT")
        # The replay has nothing after its cursor, and nothing before 2020-06-10.
        start, end = now - timedelta(days=400), now + timedelta(hours=6)

        backfill(
            db.session, provider, symbol, "1h", now - timedelta(hours=48), end, memo=providers.memo
        )
        stored = db.session.scalar(select(func.count()).select_from(Bar))
        assert stored > 0
        calls = []
        for _ in range(3):
            provider.calls = 0
            backfill(db.session, provider, symbol, "1h", start, end, memo=providers.memo)
            calls.append(provider.calls)
        # The first pass fetches the history; the second finds only empty ends (before the
        # history, after the cursor) and remembers them; the third asks for nothing.
        assert calls[0] > 0 and calls[1] > 0 and calls[2] == 0
        with_history = db.session.scalar(select(func.count()).select_from(Bar))
        assert with_history > stored

        # Without the memo the same call would ask again for both empty ends.
        provider.calls = 0
        backfill(db.session, provider, symbol, "1h", start, end)
        assert provider.calls > calls[1]  # both empty ends again
