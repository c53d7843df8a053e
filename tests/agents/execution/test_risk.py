"""Each risk check, pure: a reason string when it refuses, None when it lets the order pass."""

from datetime import UTC, datetime, timedelta

from photon.agents.execution import risk

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_only_usd_and_stablecoins_trade():
    for code in ("USD", "usdt", "USDC"):
        assert risk.currency(code, "X") is None
    reason = risk.currency("EUR", "SAP.DE")
    assert "EUR" in reason and "no FX" in reason
    assert "no currency" in risk.currency(None, "X")


def test_indices_are_not_tradeable():
    assert risk.tradeable("stock", "AAPL") is None
    assert risk.tradeable("crypto", "BTCUSDT") is None
    assert "cannot be traded" in risk.tradeable("index", "^GSPC")


def test_quote_age():
    assert risk.quote_age(NOW - timedelta(seconds=300), NOW, 300, "AAPL") is None
    reason = risk.quote_age(NOW - timedelta(seconds=301), NOW, 300, "AAPL")
    assert "301s old" in reason and "limit 300s" in reason
    assert "no stored quote" in risk.quote_age(None, NOW, 300, "AAPL")


def test_daily_loss_and_halt():
    assert risk.daily_loss(10_000.0, 9_501.0, 0.05) is None
    assert "daily loss limit" in risk.daily_loss(10_000.0, 9_500.0, 0.05)
    assert risk.daily_loss(None, 1.0, 0.05) is None
    until = risk.next_midnight(NOW)
    assert until == datetime(2026, 3, 3, tzinfo=UTC)
    assert "halted for the day" in risk.halted(until, NOW)
    assert risk.halted(until, until) is None
    assert risk.halted(None, NOW) is None


def test_cooldown():
    assert risk.cooldown(None, NOW, 3600, "BTCUSDT") is None
    assert "cool-down" in risk.cooldown(NOW - timedelta(minutes=59), NOW, 3600, "BTCUSDT")
    assert risk.cooldown(NOW - timedelta(hours=1), NOW, 3600, "BTCUSDT") is None
    assert risk.cooldown(NOW, NOW, 0, "BTCUSDT") is None


def test_max_positions_counts_only_new_ones():
    assert "max open positions" in risk.max_positions(10, False, 10)
    assert risk.max_positions(10, True, 10) is None  # adding to an open one is no new position
    assert risk.max_positions(9, False, 10) is None


def test_position_size():
    assert risk.position_size(1_500.0, 1_000.0, 10_000.0, 0.25, "X") is None  # exactly 25%
    assert "25.01%" in risk.position_size(1_501.0, 1_000.0, 10_000.0, 0.25, "X")
    assert risk.position_size(0.0, 1.0, 0.0, 0.25, "X") == "equity is not positive"


def test_no_shorting():
    assert "never shorts" in risk.has_position(0.0, "AAPL")
    assert risk.has_position(1.0, "AAPL") is None
