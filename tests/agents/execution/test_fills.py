"""Fill arithmetic against hand-computed values."""

import pytest

from photon.agents.execution import fills
from photon.agents.execution.fills import Holding, Ledger
from photon.agents.execution.settings import PaperSettings

DEFAULTS = PaperSettings()


def test_buys_lift_the_ask_and_sells_hit_the_bid():
    assert fills.fill_price("BUY", 100.0, bid=99.0, ask=101.0, slippage=0.0005) == 101.0
    assert fills.fill_price("SELL", 100.0, bid=99.0, ask=101.0, slippage=0.0005) == 99.0


def test_without_bid_and_ask_the_last_price_slips_against_the_trader():
    # 100 × (1 ± 0.0005)
    assert fills.fill_price("BUY", 100.0, None, None, 0.0005) == pytest.approx(100.05, abs=1e-12)
    assert fills.fill_price("SELL", 100.0, None, None, 0.0005) == pytest.approx(99.95, abs=1e-12)
    # A zero bid/ask is no quote at all.
    assert fills.fill_price("BUY", 200.0, 0.0, 0.0, 0.001) == pytest.approx(200.2, abs=1e-12)
    with pytest.raises(ValueError):
        fills.fill_price("HOLD", 100.0, None, None, 0.0)


def test_fee_per_side_by_asset_class():
    assert fills.fee_rate("crypto", DEFAULTS) == 0.001
    assert fills.fee_rate("stock", DEFAULTS) == 0.0
    assert fills.fee(2_000.0, 0.001) == pytest.approx(2.0, abs=1e-12)


@pytest.mark.parametrize(
    ("quantity", "step", "expected"),
    [
        (0.1234567, 1e-6, 0.123456),
        (0.0000009, 1e-6, 0.0),
        (2.9999999999999996, 1.0, 2.0),
        (3.0, 1.0, 3.0),
        (5.339028296849973, 1.0, 5.0),
        (-1.0, 1.0, 0.0),
    ],
)
def test_round_down(quantity, step, expected):
    assert fills.round_down(quantity, step) == expected


def test_sizing_is_a_fraction_of_equity_scaled_by_confidence_and_capped():
    assert fills.buy_notional(10_000.0, 0.8, DEFAULTS) == pytest.approx(800.0)
    assert fills.buy_notional(10_000.0, 1.7, DEFAULTS) == pytest.approx(1_000.0)  # conf ≤ 1
    assert fills.buy_notional(10_000.0, -0.2, DEFAULTS) == 0.0
    greedy = PaperSettings(position_fraction=0.5, max_position_pct=0.25)
    assert fills.buy_notional(10_000.0, 1.0, greedy) == pytest.approx(2_500.0)


def test_crypto_quantity_rounds_down_to_a_millionth():
    # 800 / 30000.5 = 0.02666622...
    quantity = fills.buy_quantity(800.0, 10_000.0, 30_000.5, 0.001, fills.CRYPTO_STEP)
    assert quantity == 0.026666
    assert fills.buy_cost(quantity, 30_000.5, 0.001) == pytest.approx(
        0.026666 * 30_000.5 * 1.001, abs=1e-9
    )


def test_stocks_buy_whole_shares():
    # 1000 / 187.3 = 5.339 shares → 5
    assert fills.buy_quantity(1_000.0, 10_000.0, 187.3, 0.0, fills.STOCK_STEP) == 5.0
    assert fills.buy_quantity(100.0, 10_000.0, 187.3, 0.0, fills.STOCK_STEP) == 0.0


def test_cash_caps_the_order_fee_included():
    # 500 / 1.001 = 499.5005 of notional at 100 → 4.995004
    quantity = fills.buy_quantity(1_000.0, 500.0, 100.0, 0.001, fills.CRYPTO_STEP)
    assert quantity == 4.995004
    assert fills.buy_cost(quantity, 100.0, 0.001) <= 500.0
    assert fills.buy_quantity(1_000.0, 0.0, 100.0, 0.001, fills.CRYPTO_STEP) == 0.0


def test_ledger_by_hand():
    book = Ledger(starting_cash=10_000.0, cash=10_000.0)
    # BUY 0.1 at 20 000: notional 2 000, fee 2 → cash 7 998
    book, held, fee = fills.buy(book, None, 0.1, 20_000.0, 0.001)
    assert (book.cash, fee, held) == (
        pytest.approx(7_998.0),
        pytest.approx(2.0),
        Holding(0.1, pytest.approx(20_000.0)),
    )
    # BUY 0.1 at 22 000: notional 2 200, fee 2.2 → cash 5 795.8, average 21 000
    book, held, fee = fills.buy(book, held, 0.1, 22_000.0, 0.001)
    assert book.cash == pytest.approx(5_795.8)
    assert held.quantity == pytest.approx(0.2) and held.avg_price == pytest.approx(21_000.0)
    # SELL all at 23 000: notional 4 600, fee 4.6, realised 0.2 × 2 000 = 400
    book, fee, pnl = fills.sell(book, held, 23_000.0, 0.001)
    assert fee == pytest.approx(4.6) and pnl == pytest.approx(400.0)
    assert book.cash == pytest.approx(10_391.2)
    assert book.realised_pnl == pytest.approx(400.0) and book.fees_paid == pytest.approx(8.8)
    # 10 391.2 == 10 000 + 400 − 8.8
    assert fills.money_gap(book, []) == pytest.approx(0.0, abs=1e-9)
