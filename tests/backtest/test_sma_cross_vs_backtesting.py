"""Photon's sma-cross against a real peer, backtesting.py 0.6.6, on its bundled GOOG data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest
from backtesting.test import GOOG

from photon.backtest import frame_from_ohlcv, run_backtest, write_equity_csv
from tests.backtest.peer import SmaCross

# fixtures/README.md "Reference results", measured with backtesting.py 0.6.6.
REFERENCE_TRADES = 93
REFERENCE_EQUITY = 56_263.52
REFERENCE_RETURN = 462.64


@pytest.fixture(scope="module")
def peer():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "some trades remain open": that is the setting compared
        bt = Backtest(GOOG, SmaCross, cash=10_000, commission=0.002, exclusive_orders=True)
        return bt.run()


@pytest.fixture(scope="module")
def photon():
    return run_backtest(frame_from_ohlcv(GOOG), "sma-cross", cash=10_000, commission=0.002)


def test_same_trade_count_and_final_equity_as_backtesting_py(peer, photon):
    assert photon.n_trades == peer["# Trades"]
    assert photon.final_equity == pytest.approx(peer["Equity Final [$]"], rel=0.005)


def test_matches_the_reference_numbers(photon):
    assert photon.n_trades == REFERENCE_TRADES
    assert photon.final_equity == pytest.approx(REFERENCE_EQUITY, rel=0.005)
    assert photon.return_pct == pytest.approx(REFERENCE_RETURN, rel=0.005)


def test_trades_and_equity_curve_match_exactly(peer, photon):
    trades = peer["_trades"]
    assert [t.size for t in photon.trades] == trades["Size"].tolist()
    assert [t.entry_price for t in photon.trades] == trades["EntryPrice"].tolist()
    assert [t.exit_price for t in photon.trades] == trades["ExitPrice"].tolist()
    np.testing.assert_allclose([t.pnl for t in photon.trades], trades["PnL"], rtol=1e-9)
    np.testing.assert_allclose(photon.equity.to_numpy(), peer["_equity_curve"]["Equity"], rtol=1e-9)


def test_secondary_statistics_agree(peer, photon):
    assert photon.win_rate_pct == pytest.approx(peer["Win Rate [%]"], rel=1e-9)
    assert photon.max_drawdown_pct == pytest.approx(peer["Max. Drawdown [%]"], rel=1e-9)
    assert photon.buy_hold_pct == pytest.approx(peer["Buy & Hold Return [%]"], rel=1e-9)
    # Sharpe is defined differently (per-bar arithmetic vs daily geometric): same sign only.
    assert photon.sharpe > 0 and peer["Sharpe Ratio"] > 0


def test_open_trade_is_marked_not_counted(photon):
    assert photon.open_trade is not None
    assert photon.open_trade.exit_time is None


def test_equity_csv(photon, tmp_path):
    path = tmp_path / "equity.csv"
    write_equity_csv(photon, path)
    lines = path.read_text().splitlines()
    assert lines[0] == "open_time,equity,drawdown_pct"
    assert len(lines) == len(GOOG) + 1
    assert float(lines[-1].split(",")[1]) == pytest.approx(photon.final_equity, abs=1e-5)


def test_start_and_end_cut_the_window_without_lookahead():
    df = frame_from_ohlcv(GOOG)
    t0, t1 = df["open_time"].iloc[500], df["open_time"].iloc[1500]
    full = run_backtest(df, start=t0, end=t1)
    cut = run_backtest(df.iloc[:1501], start=t0, end=t1)
    assert full.equity.index[0] == t0 and full.equity.index[-1] == t1
    assert full.final_equity == cut.final_equity
    assert [t.size for t in full.trades] == [t.size for t in cut.trades]


# --- the same engine with Photon's other strategies -------------------------------------------


def test_model_strategy_is_walk_forward_without_lookahead():
    df = frame_from_ohlcv(GOOG)
    t = df["open_time"].iloc[1300]
    full = run_backtest(df, "model", end=t, retrain_every=250)
    wrecked = df.copy()
    wrecked.loc[1301:, ["open", "high", "low", "close"]] *= 5.0
    cut = run_backtest(wrecked, "model", end=t, retrain_every=250)
    assert full.n_trades > 0
    assert [(x.size, x.entry_time) for x in full.trades] == [
        (x.size, x.entry_time) for x in cut.trades
    ]
    assert full.final_equity == cut.final_equity
    assert [m["version"] for m in full.info["models"]] == [m["version"] for m in cut.info["models"]]
    for m in full.info["models"]:
        assert m["train_end"] <= m["decides_from"]


def _record(result, upto: int) -> tuple:
    """Every decision of a run up to bar ``upto``: action, confidence and probabilities."""
    d = result.decisions
    return (d.actions[: upto + 1].tolist(), d.confidence[: upto + 1].tobytes(),
            d.proba[: upto + 1].tobytes(), d.model[: upto + 1].tolist())  # fmt: skip


# Cuts inside the window, from the first model's bars to the last: a leak inside the window
# (a feature or label read one bar late) changes the decision on the cut bar, where the cut run
# cannot see the bar after it.
MODEL_CUTS = list(range(620, 2147, 150))


@pytest.fixture(scope="module")
def model_run():
    return run_backtest(frame_from_ohlcv(GOOG), "model", retrain_every=250)


@pytest.mark.parametrize("cut", MODEL_CUTS)
def test_model_decisions_cut_inside_the_window_equal_every_earlier_one(model_run, cut):
    assert len(MODEL_CUTS) >= 10
    df = frame_from_ohlcv(GOOG)
    cut_run = run_backtest(df.iloc[: cut + 1], "model", retrain_every=250)
    assert np.isfinite(model_run.decisions.confidence[cut])  # the cut bar is decided
    assert _record(cut_run, cut) == _record(model_run, cut)


def test_rules_decisions_cut_inside_the_window_equal_every_earlier_one():
    df = frame_from_ohlcv(GOOG)
    start = df["open_time"].iloc[1700]
    full = run_backtest(df, "rules", start=start)
    cuts = range(1710, 2147, 40)
    assert len(cuts) >= 10
    for cut in cuts:
        cut_run = run_backtest(df.iloc[: cut + 1], "rules", start=start)
        assert _record(cut_run, cut - 1700) == _record(full, cut - 1700), cut


def test_rules_strategy_decides_like_live_rules_decisions():
    from photon.agents.decision import decide

    df = frame_from_ohlcv(GOOG)
    result = run_backtest(df, "rules", start=df["open_time"].iloc[1200])
    names = {1: "BUY", -1: "SELL", 0: "HOLD"}
    for i in range(1200, len(df), 97):
        live = decide(df, model=None, at=df["open_time"].iloc[i].to_pydatetime())
        k = i - 1200
        assert live.action == names[int(result.actions[k])]
        # The same arithmetic on the same bars: the same bits.
        assert live.confidence == result.decisions.confidence[k]


def test_model_strategy_decides_like_live_model_decisions(model_run):
    from photon.agents.decision import decide, train

    df = frame_from_ohlcv(GOOG)
    first = model_run.info["models"][2]
    k0 = int(df["open_time"].searchsorted(pd.Timestamp(first["decides_from"])))
    model = train(df, until=df["open_time"].iloc[k0].to_pydatetime())
    assert model.version == first["version"]
    for i in range(k0, k0 + 250, 25):
        live = decide(df, model=model, at=df["open_time"].iloc[i].to_pydatetime())
        assert live.action == {1: "BUY", -1: "SELL", 0: "HOLD"}[int(model_run.actions[i])]
        # Live reads the last 256 bars, the backtest one causal matrix: equal to 1e-7.
        assert live.confidence == pytest.approx(model_run.decisions.confidence[i], abs=1e-6)


def test_decisions_csv_has_every_decision_to_score_independently(model_run, tmp_path):
    from photon.backtest import write_decisions_csv

    path = tmp_path / "decisions.csv"
    n = write_decisions_csv(model_run, path)
    rows = pd.read_csv(path)
    assert list(rows.columns) == ["bar_time", "action", "confidence", "p_up", "p_down", "p_flat",
                                  "price", "horizon_bars", "cost", "model"]  # fmt: skip
    assert n == len(rows) == int(np.isfinite(model_run.decisions.confidence).sum())
    np.testing.assert_allclose(rows[["p_up", "p_down", "p_flat"]].sum(axis=1), 1.0)
    right = {"BUY": "p_up", "SELL": "p_down", "HOLD": "p_flat"}
    assert (rows["confidence"] == rows.apply(lambda r: r[right[r["action"]]], axis=1)).all()
    assert set(rows["model"]) == {"lightgbm"} and set(rows["horizon_bars"]) == {5}


def test_lot_size_lets_expensive_assets_trade():
    df = frame_from_ohlcv(GOOG)
    pricey = df.assign(**{c: df[c] * 100 for c in ("open", "high", "low", "close")})
    whole = run_backtest(pricey, "sma-cross")
    assert whole.n_trades == 0 and whole.info["orders_dropped"] > 0
    fractional = run_backtest(pricey, "sma-cross", lot=1e-6)
    assert fractional.n_trades == REFERENCE_TRADES


def test_unknown_strategy_is_invalid():
    from photon.errors import Invalid

    with pytest.raises(Invalid):
        run_backtest(frame_from_ohlcv(GOOG), "moon")
