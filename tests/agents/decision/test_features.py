from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib
from backtesting.test import GOOG
from hypothesis import given, settings
from hypothesis import strategies as st

from photon.agents.decision.features import (
    FEATURE_NAMES,
    LABELS,
    MIN_BARS,
    compute_features,
    describe,
    latest_features,
    latest_features_many,
)
from photon.backtest import frame_from_ohlcv
from photon.errors import Invalid


@pytest.fixture(scope="module")
def goog() -> pd.DataFrame:
    return frame_from_ohlcv(GOOG)


def test_columns_labels_and_warmup(goog):
    f = compute_features(goog)
    assert list(f.columns) == list(FEATURE_NAMES)
    assert f.index.equals(goog.index)
    assert set(LABELS) == set(FEATURE_NAMES)
    assert f.iloc[: MIN_BARS - 1].isna().any(axis=1).all()
    assert np.isfinite(f.iloc[MIN_BARS - 1 :].to_numpy()).all()


def test_values_are_talib(goog):
    f = compute_features(goog)
    close = goog["close"].to_numpy()
    np.testing.assert_array_equal(f["rsi_14"], talib.RSI(close, 14))
    np.testing.assert_array_equal(f["roc_10"], talib.ROC(close, 10))
    np.testing.assert_array_equal(f["ret_5"], talib.ROCP(close, 5))
    upper, _, lower = talib.BBANDS(close, 20, 2.0, 2.0)
    np.testing.assert_allclose(f["bb_pctb"], (close - lower) / (upper - lower), rtol=1e-12)
    np.testing.assert_array_equal(f["sma_cross"], talib.SMA(close, 10) / talib.SMA(close, 50) - 1)


def test_features_are_causal(goog):
    full = compute_features(goog).to_numpy()
    for k in (60, 333, 1200):
        cut = compute_features(goog.iloc[:k]).to_numpy()
        np.testing.assert_array_equal(cut, full[:k])


def test_latest_matches_full_history_to_seed_precision(goog):
    full = compute_features(goog).to_numpy()
    for k in (300, 900, len(goog)):
        np.testing.assert_allclose(
            latest_features(goog.iloc[:k]), full[k - 1], rtol=1e-6, atol=1e-9
        )


def test_batched_latest_is_bit_identical(goog):
    frames = [goog.iloc[:k] for k in (80, 500, 2000)]
    batch = latest_features_many(frames)
    for row, df in zip(batch, frames, strict=True):
        np.testing.assert_array_equal(row, latest_features(df))


def test_flat_market_has_no_nan_after_warmup():
    n = 120
    df = pd.DataFrame(
        {
            "open_time": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "open": 100.0,
            "high": 100.0,
            "low": 100.0,
            "close": 100.0,
            "volume": 5.0,
        }
    )
    row = latest_features(df)
    assert np.isfinite(row).all()
    named = dict(zip(FEATURE_NAMES, row, strict=True))
    assert named["bb_pctb"] == 0.5 and named["volume_z"] == 0.0


def test_missing_column_is_invalid(goog):
    with pytest.raises(Invalid, match="volume"):
        compute_features(goog.drop(columns="volume"))


def test_describe():
    assert describe("rsi_14", 27.93) == "RSI(14)=27.9 (oversold)"
    assert describe("rsi_14", 50.0) == "RSI(14)=50.0"
    assert describe("bb_pctb", 1.2) == "Bollinger %b(20,2)=1.20 (above upper band)"
    assert describe("sma_cross", -0.021) == "SMA(10)/SMA(50)=-2.10% (SMA(10) below SMA(50))"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-0.08, 0.08), min_size=MIN_BARS, max_size=300))
def test_any_positive_price_path_gives_finite_features(steps):
    close = 100 * np.exp(np.cumsum(steps))
    n = len(close)
    df = pd.DataFrame(
        {
            "open_time": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": np.linspace(1, 2, n),
        }
    )
    assert np.isfinite(latest_features(df)).all()
