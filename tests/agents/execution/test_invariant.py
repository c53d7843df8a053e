"""Money never appears from nowhere: after any sequence of decisions,

    cash + Σ quantity·avg_price == starting_cash + realised_pnl − fees_paid

(``fills.money_gap`` is the left side minus the right), cash never goes negative,
and every BUY/SELL decision leaves exactly one order. Checked on the pure ledger over long
random sequences, and end to end through ``execution.execute`` on the database.
"""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from photon.agents.execution import agent as execution
from photon.agents.execution import books, fills
from photon.agents.execution.fills import Holding, Ledger
from photon.agents.execution.settings import PaperSettings
from photon.extensions import db
from photon.models import MarketData, PaperOrder, Portfolio, Position, TradingDecision
from tests.agents.execution import factories as f

prices = st.floats(min_value=0.01, max_value=100_000.0, allow_nan=False, allow_infinity=False)
rates = st.sampled_from([0.0, 0.001, 0.0025])
steps = st.one_of(
    st.tuples(
        st.just("BUY"),
        st.integers(0, 2),
        st.floats(0.0, 1.0),
        prices,
        rates,
        st.sampled_from([fills.CRYPTO_STEP, fills.STOCK_STEP]),
    ),
    st.tuples(st.just("SELL"), st.integers(0, 2), prices, rates),
)


def _close(gap: float, scale: float) -> bool:
    return abs(gap) <= 1e-9 * max(scale, 1.0)


@settings(max_examples=300, deadline=None)
@given(start=st.floats(100.0, 1e7), ops=st.lists(steps, max_size=60))
def test_ledger_conserves_money(start, ops):
    cfg = PaperSettings(position_fraction=0.3, max_position_pct=1.0)
    book = Ledger(start, start)
    held: dict[int, Holding] = {}
    turnover = start
    for op in ops:
        if op[0] == "BUY":
            _, sym, confidence, price, rate, step = op
            equity = book.cash + sum(h.quantity * h.avg_price for h in held.values())
            quantity = fills.buy_quantity(
                fills.buy_notional(equity, confidence, cfg), book.cash, price, rate, step
            )
            if quantity > 0:
                book, held[sym], _ = fills.buy(book, held.get(sym), quantity, price, rate)
                turnover += quantity * price
        elif op[1] in held:
            _, sym, price, rate = op
            turnover += held[sym].quantity * price
            book, _, _ = fills.sell(book, held.pop(sym), price, rate)
        assert book.cash >= 0.0
        assert _close(fills.money_gap(book, held.values()), turnover)


# --- end to end, through the executor and the database -----------------------------------------

SYMBOLS = (("BTCUSDT", "crypto", True), ("ETHUSDT", "crypto", False), ("AAPL", "stock", False))
decisions = st.lists(
    st.tuples(
        st.integers(0, 2),  # symbol
        st.sampled_from(["BUY", "BUY", "SELL", "HOLD"]),  # action
        st.floats(0.0, 1.0),  # confidence
        st.floats(-0.08, 0.08),  # price move since the last decision
        st.integers(1, 5400),  # seconds since the last decision
    ),
    min_size=1,
    max_size=25,
)


@pytest.fixture
def world(app):
    with app.app_context():
        user_id = f.user("alice")
        symbol_ids = [f.symbol(t, a, watcher=user_id) for t, a, _ in SYMBOLS]
        yield user_id, symbol_ids


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=decisions)
def test_execution_conserves_money(world, script):
    user_id, symbol_ids = world
    for model in (PaperOrder, Position, Portfolio, TradingDecision, MarketData):
        db.session.execute(delete(model))
    db.session.commit()
    f.start(user_id)
    cfg = PaperSettings(cooldown=1800.0, max_positions=2, daily_loss_pct=0.03)
    now, last = f.NOW, [100.0, 50.0, 20.0]
    tradeable = 0
    for index, action, confidence, move, wait in script:
        now += timedelta(seconds=wait)
        last[index] *= 1 + move
        price = last[index]
        spread = (price * 0.999, price * 1.001) if SYMBOLS[index][2] else (None, None)
        f.quote(
            symbol_ids[index],
            price,
            ts=now,
            bid=spread[0],
            ask=spread[1],
            currency="USDT" if SYMBOLS[index][1] == "crypto" else "USD",
        )
        decision_id = f.decision(user_id, symbol_ids[index], action, confidence, at=now)
        order = execution.execute(db.session, decision_id, cfg, now=now).order
        tradeable += action != "HOLD"
        if order is not None:
            event(order.status if order.reason is None else order.reason.split(":")[0][:20])
        assert (order is None) == (action == "HOLD")
        again = execution.execute(db.session, decision_id, cfg, now=now).order
        assert (again.id if again else None) == (order.id if order else None)
        portfolio = db.session.scalars(select(Portfolio)).first()
        assert portfolio is None or portfolio.cash >= 0.0
        assert _close(books.money_gap(db.session, user_id), 1e5)
    assert db.session.scalar(select(func.count()).select_from(PaperOrder)) == tradeable
