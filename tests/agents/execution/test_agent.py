"""The execution agent on the database: every rejection reason, the daily-loss halt, reset,
and that a decision never makes two orders."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from photon.agents.execution import agent as execution
from photon.agents.execution import books
from photon.agents.execution.settings import PaperSettings
from photon.extensions import db
from photon.models import PaperOrder, Portfolio, Position
from photon.store import agent_status
from photon.types import Agent, AgentState
from tests.agents.execution import factories as f

NOW = f.NOW
CFG = PaperSettings()


@pytest.fixture
def ctx(app):
    with app.app_context():
        user_id = f.user("alice")
        f.start(user_id)
        yield user_id


def _run(user_id, symbol_id, action="BUY", confidence=1.0, at=NOW, cfg=CFG):
    decision_id = f.decision(user_id, symbol_id, action, confidence, at=at)
    return execution.execute(db.session, decision_id, cfg, now=at).order


def _btc(user_id, price=50_000.0, at=NOW, **kw):
    symbol_id = f.symbol("BTCUSDT", "crypto", watcher=user_id)
    f.quote(symbol_id, price, ts=at, currency="USDT", **kw)
    return symbol_id


def test_buy_and_sell_crypto_by_hand(ctx):
    btc = _btc(ctx, bid=49_990.0, ask=50_010.0)
    order = _run(ctx, btc, "BUY", confidence=0.5)
    # 10 000 × 0.1 × 0.5 = 500 at the ask 50 010 → 0.009998 BTC; fee 0.1%
    assert (order.status, order.side, order.price) == ("filled", "BUY", 50_010.0)
    assert order.quantity == 0.009998
    assert order.fee == pytest.approx(0.009998 * 50_010.0 * 0.001)
    portfolio = db.session.scalars(select(Portfolio)).one()
    assert portfolio.cash == pytest.approx(10_000 - 0.009998 * 50_010.0 * 1.001)
    later = NOW + timedelta(hours=2)
    f.quote(btc, 52_000.0, ts=later, bid=51_990.0, ask=52_010.0, currency="USDT")
    sold = _run(ctx, btc, "SELL", at=later)
    # SELL closes the whole position at the bid
    assert (sold.status, sold.quantity, sold.price) == ("filled", 0.009998, 51_990.0)
    assert sold.realised_pnl == pytest.approx(0.009998 * (51_990.0 - 50_010.0))
    assert db.session.scalar(select(func.count()).select_from(Position)) == 0
    db.session.refresh(portfolio)
    assert portfolio.fees_paid == pytest.approx(0.009998 * (50_010.0 + 51_990.0) * 0.001)
    assert portfolio.cash == pytest.approx(
        10_000 + portfolio.realised_pnl - portfolio.fees_paid, abs=1e-9
    )
    assert books.money_gap(db.session, ctx) == pytest.approx(0.0, abs=1e-9)


def test_stock_fills_whole_shares_with_slippage_and_no_fee(ctx):
    aapl = f.symbol("AAPL", "stock", watcher=ctx)
    f.quote(aapl, 200.0)
    order = _run(ctx, aapl)
    # 1 000 at 200 × 1.0005 = 200.1 → 4.9975 → 4 shares
    assert (order.quantity, order.price, order.fee) == (4.0, pytest.approx(200.1), 0.0)
    summary = books.portfolio_summary(db.session, ctx, CFG, now=NOW)
    assert summary["cash"] == pytest.approx(10_000 - 800.4)
    assert summary["equity"] == pytest.approx(10_000 - 800.4 + 800.0)  # marked at the last
    assert summary["unrealised_pnl"] == pytest.approx(-0.4)
    assert [p["symbol"] for p in summary["positions"]] == ["AAPL"]


@pytest.mark.parametrize(("age", "filled"), [(300, True), (301, False)])
def test_a_stale_quote_gets_no_fill(ctx, age, filled):
    btc = _btc(ctx, at=NOW - timedelta(seconds=age))
    order = _run(ctx, btc)
    assert (order.status == "filled") is filled
    if not filled:
        assert order.reason.startswith("the latest quote for BTCUSDT is 301s old")
        assert order.quote_ts == NOW - timedelta(seconds=301)
        assert db.session.scalars(select(Portfolio)).one().cash == 10_000


def test_no_quote_non_usd_and_index_are_rejected(ctx):
    bare = f.symbol("SOLUSDT", "crypto", watcher=ctx)
    assert _run(ctx, bare).reason == "no stored quote for SOLUSDT"
    sap = f.symbol("SAP.DE", "stock", currency="EUR", watcher=ctx)
    f.quote(sap, 120.0, currency="EUR")
    assert "quoted in EUR" in _run(ctx, sap).reason
    index = f.symbol("^GSPC", "index", watcher=ctx)
    f.quote(index, 5_000.0)
    assert "cannot be traded" in _run(ctx, index).reason


def test_sell_without_a_position_never_shorts(ctx):
    btc = _btc(ctx)
    order = _run(ctx, btc, "SELL")
    assert order.status == "rejected" and "never shorts" in order.reason


def test_cooldown_stops_flip_flops(ctx):
    btc = _btc(ctx)
    assert _run(ctx, btc).status == "filled"
    soon = NOW + timedelta(minutes=30)
    f.quote(btc, 50_000.0, ts=soon, currency="USDT")
    order = _run(ctx, btc, "SELL", at=soon)
    assert order.status == "rejected" and order.reason.startswith("cool-down")
    later = NOW + timedelta(hours=1)
    f.quote(btc, 50_000.0, ts=later, currency="USDT")
    assert _run(ctx, btc, "SELL", at=later).status == "filled"


def test_max_open_positions(ctx):
    cfg = PaperSettings(max_positions=2)
    for ticker in ("A", "B"):
        sid = f.symbol(ticker, "stock", watcher=ctx)
        f.quote(sid, 10.0)
        assert _run(ctx, sid, cfg=cfg).status == "filled"
    third = f.symbol("C", "stock", watcher=ctx)
    f.quote(third, 10.0)
    order = _run(ctx, third, cfg=cfg)
    assert order.reason == "max open positions: 2 open (limit 2)"


def test_max_position_share_of_equity(ctx):
    cfg = PaperSettings(cooldown=0, fee_crypto=0.0)
    btc = _btc(ctx, bid=50_000.0, ask=50_000.0)
    assert _run(ctx, btc, cfg=cfg).status == "filled"  # 10%
    assert _run(ctx, btc, cfg=cfg).status == "filled"  # 20%
    order = _run(ctx, btc, cfg=cfg)  # would be 30% > 25%
    assert order.status == "rejected"
    assert order.reason == "max position: BTCUSDT would be 30.00% of equity (limit 25.00%)"


def test_too_small_an_order(ctx):
    aapl = f.symbol("AAPL", "stock", watcher=ctx)
    f.quote(aapl, 2_000.0)
    order = _run(ctx, aapl, confidence=0.5)  # 500 of a 2 000 share
    assert order.status == "rejected" and order.reason.startswith("order too small")


def test_daily_loss_halts_buys_for_the_day(ctx):
    cfg = PaperSettings(position_fraction=0.25, fee_crypto=0.0, cooldown=0, daily_loss_pct=0.05)
    btc = _btc(ctx, 100.0, bid=100.0, ask=100.0)
    eth = f.symbol("ETHUSDT", "crypto", watcher=ctx)
    f.quote(eth, 100.0, bid=100.0, ask=100.0, currency="USDT")
    assert _run(ctx, btc, cfg=cfg).status == "filled"  # 25 BTC-units, 2 500
    assert _run(ctx, eth, cfg=cfg).status == "filled"  # 2 500
    # Both fall 12%: equity 10 000 − 600 = 9 400, a 6% loss on the day.
    at = NOW + timedelta(hours=1)
    for sid in (btc, eth):
        f.quote(sid, 88.0, ts=at, bid=88.0, ask=88.0, currency="USDT")
    order = _run(ctx, btc, cfg=cfg, at=at)
    assert order.status == "rejected"
    assert order.reason.startswith("daily loss limit: equity 9400.00 is 6.00% below")
    status = agent_status.get(db.session, ctx, Agent.EXECUTION)
    assert status.state == AgentState.RUNNING  # a halt is not a fault
    assert status.last_error.startswith("halted for the day: daily loss limit")
    midnight = (NOW + timedelta(days=1)).replace(hour=0)
    assert status.counters["halted_until"] == midnight.isoformat()
    # Still halted later that day; selling (which only reduces risk) still fills.
    at2 = at + timedelta(hours=1)
    f.quote(btc, 89.0, ts=at2, bid=89.0, ask=89.0, currency="USDT")
    assert _run(ctx, btc, cfg=cfg, at=at2).reason.startswith("halted for the day")
    assert _run(ctx, btc, "SELL", cfg=cfg, at=at2).status == "filled"
    summary = books.portfolio_summary(db.session, ctx, cfg, now=at2)
    assert summary["halted_until"] == midnight
    # A new day, a new loss budget: buys fill again and the halt leaves the status.
    tomorrow = midnight + timedelta(hours=9)
    f.quote(btc, 90.0, ts=tomorrow, bid=90.0, ask=90.0, currency="USDT")
    assert _run(ctx, btc, cfg=cfg, at=tomorrow).status == "filled"
    db.session.refresh(status)
    assert status.last_error is None and status.counters["halted_until"] is None
    assert status.counters["orders_filled"] == 4 and status.counters["orders_rejected"] == 2
    assert books.money_gap(db.session, ctx) == pytest.approx(0.0, abs=1e-9)


def test_hold_and_stopped_agent_make_no_order(ctx):
    btc = _btc(ctx)
    assert _run(ctx, btc, "HOLD") is None
    agent_status.stop(db.session, ctx, Agent.EXECUTION)
    db.session.commit()
    assert _run(ctx, btc) is None
    assert db.session.scalar(select(func.count()).select_from(PaperOrder)) == 0
    assert execution.execute(db.session, 999_999, CFG).order is None


def test_one_decision_one_order(ctx):
    btc = _btc(ctx)
    decision_id = f.decision(ctx, btc)
    first = execution.execute(db.session, decision_id, CFG, now=NOW).order
    # A rerun, even a minute later with a new quote, returns the same order untouched.
    f.quote(btc, 60_000.0, ts=NOW + timedelta(minutes=1), currency="USDT")
    again = execution.execute(db.session, decision_id, CFG, now=NOW + timedelta(minutes=1))
    assert again.order.id == first.id and not again.created
    assert db.session.scalar(select(func.count()).select_from(PaperOrder)) == 1
    assert db.session.scalars(select(Portfolio)).one().cash == pytest.approx(
        10_000 - first.quantity * first.price - first.fee
    )


def test_reset_starts_over_and_old_decisions_stay_out(ctx):
    btc = _btc(ctx)
    assert _run(ctx, btc).status == "filled"
    old = f.decision(ctx, btc, at=NOW)
    execution.reset(db.session, ctx, 25_000.0, CFG)
    summary = books.portfolio_summary(db.session, ctx, CFG)
    assert (summary["cash"], summary["equity"], summary["starting_cash"]) == (
        25_000.0,
        25_000.0,
        25_000.0,
    )
    assert summary["positions"] == [] and summary["last_orders"] == []
    # The decision was made for the old portfolio: it does not fill into the new one.
    assert execution.execute(db.session, old, CFG, now=NOW).order is None
    execution.reset(db.session, ctx, None, CFG)  # keeps the user's starting cash
    assert books.portfolio_summary(db.session, ctx, CFG)["starting_cash"] == 25_000.0


def test_per_user_overrides(ctx):
    execution.configure(db.session, ctx, {"fee_crypto": 0.0, "cooldown": 0})
    btc = _btc(ctx, 100.0, bid=100.0, ask=100.0)
    order = _run(ctx, btc)
    assert order.fee == 0.0
    assert _run(ctx, btc).status == "filled"  # no cool-down for this user
