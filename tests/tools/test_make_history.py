"""The bundled daily stock series are adjusted for splits and dividends, anchored at the end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from photon.market.replay.bundled import load_bundled


def _day(frame: pd.DataFrame, day: str) -> pd.Series:
    return frame.loc[frame["open_time"] == pd.Timestamp(day, tz="UTC")].iloc[0]


@pytest.mark.parametrize(
    "ticker, before, split_day",
    [("AAPL", "2000-06-20", "2000-06-21"), ("MSFT", "2003-02-14", "2003-02-18")],
)
def test_a_split_is_not_a_move(ticker, before, split_day):
    frame = load_bundled(ticker, "1d")
    move = _day(frame, split_day)["close"] / _day(frame, before)["close"] - 1
    assert abs(move) < 0.1  # raw closes: 101.25 -> 55.63 (AAPL), 48.30 -> 24.96 (MSFT)
    # Volume counts shares: the split doubles the shares before it, a dividend does not.
    assert _day(frame, before)["volume"] > 1e6


def test_msft_special_dividend_is_not_a_crash():
    frame = load_bundled("MSFT", "1d")
    move = _day(frame, "2004-11-15")["close"] / _day(frame, "2004-11-12")["close"] - 1
    assert move == pytest.approx(20.521860 / 20.185105 - 1, abs=1e-5)  # adj_close's own move


@pytest.mark.parametrize("ticker", ["AAPL", "MSFT", "IBM", "GOOG"])
def test_last_bar_keeps_its_traded_prices_and_bars_stay_consistent(ticker):
    frame = load_bundled(ticker, "1d")
    last = {"AAPL": 430.47, "MSFT": 27.95, "IBM": 202.91, "GOOG": 806.19}[ticker]
    assert frame["close"].iloc[-1] == pytest.approx(last, abs=0.005)
    o, h, lo, c = (frame[k].to_numpy() for k in ("open", "high", "low", "close"))
    assert (h >= np.maximum(o, c) - 1e-6).all() and (lo <= np.minimum(o, c) + 1e-6).all()
