"""Features for the decision model, computed with TA-Lib from a frame of bars.

A frame has the columns ``open_time`` (tz-aware UTC), ``open``, ``high``, ``low``, ``close`` and
``volume``, oldest first. Every indicator is causal: the value at row ``i`` depends only on rows
``<= i``, so computing on a longer history never changes an earlier row.

Decisions compute features on the last ``WINDOW`` bars only. TA-Lib's EMA-based indicators (EMA,
MACD, RSI, ATR) depend on their seed, but after 256 bars the seed's weight is below 1e-7 of the
value, so a decision agrees with the full-history features used in training to that precision,
while ``decide`` and ``decide_many`` agree with each other bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import talib

from photon.errors import Invalid

COLUMNS = ("open_time", "open", "high", "low", "close", "volume")

# SMA(50) needs 49 earlier bars; every other indicator needs fewer.
LOOKBACK = 49
MIN_BARS = LOOKBACK + 1
WINDOW = 256


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    label: str
    fmt: Callable[[float], str]
    qualify: Callable[[float], str | None] = lambda v: None


def _pct(v: float) -> str:
    return f"{v * 100:+.2f}%"


def _above(fast: str, slow: str) -> Callable[[float], str | None]:
    return lambda v: f"{fast} above {slow}" if v > 0 else f"{fast} below {slow}" if v < 0 else None


def _rsi_word(v: float) -> str | None:
    return "oversold" if v < 30 else "overbought" if v > 70 else None


def _pctb_word(v: float) -> str | None:
    return "below lower band" if v < 0 else "above upper band" if v > 1 else None


def _volume_word(v: float) -> str | None:
    return "unusually high volume" if v > 2 else "unusually low volume" if v < -1.5 else None


def _macd_word(v: float) -> str | None:
    return "bullish" if v > 0 else "bearish" if v < 0 else None


# Order matters: it is the model's column order. Append new features; never reorder.
FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("sma_cross", "SMA(10)/SMA(50)", _pct, _above("SMA(10)", "SMA(50)")),
    FeatureSpec("ema_cross", "EMA(12)/EMA(26)", _pct, _above("EMA(12)", "EMA(26)")),
    FeatureSpec("close_sma50", "Close/SMA(50)", _pct, _above("close", "SMA(50)")),
    FeatureSpec("macd_hist", "MACD hist(12,26,9)/close", _pct, _macd_word),
    FeatureSpec("rsi_14", "RSI(14)", lambda v: f"{v:.1f}", _rsi_word),
    FeatureSpec("roc_10", "ROC(10)", lambda v: f"{v:+.2f}%"),
    FeatureSpec("ret_1", "Return 1 bar", _pct),
    FeatureSpec("ret_5", "Return 5 bars", _pct),
    FeatureSpec("ret_20", "Return 20 bars", _pct),
    FeatureSpec("natr_14", "ATR(14)/close", lambda v: f"{v:.2f}%"),
    FeatureSpec("bb_pctb", "Bollinger %b(20,2)", lambda v: f"{v:.2f}", _pctb_word),
    FeatureSpec("bb_width", "Bollinger width(20,2)", _pct),
    FeatureSpec("volume_z", "Volume z(20)", lambda v: f"{v:+.2f}", _volume_word),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
SPECS: dict[str, FeatureSpec] = {f.name: f for f in FEATURES}
LABELS: dict[str, str] = {f.name: f.label for f in FEATURES}


def describe(name: str, value: float) -> str:
    """Human text for one feature value, e.g. ``RSI(14)=27.9 (oversold)``."""
    spec = SPECS[name]
    word = spec.qualify(value)
    text = f"{spec.label}={spec.fmt(value)}"
    return f"{text} ({word})" if word else text


def _columns(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray
) -> list[np.ndarray]:
    """One array per feature, in ``FEATURES`` order. Inputs are float64 and equally long."""
    sma10 = talib.SMA(close, 10)
    sma50 = talib.SMA(close, 50)
    ema12 = talib.EMA(close, 12)
    ema26 = talib.EMA(close, 26)
    _, _, hist = talib.MACD(close, 12, 26, 9)
    upper, middle, lower = talib.BBANDS(close, 20, 2.0, 2.0)
    vol_mean = talib.SMA(volume, 20)
    vol_std = talib.STDDEV(volume, 20)
    band = upper - lower
    with np.errstate(divide="ignore", invalid="ignore"):
        # A flat price or volume window has no spread: call it mid-band / average volume.
        pctb = np.where(band > 0, (close - lower) / band, 0.5)
        vol_z = np.where(vol_std > 0, (volume - vol_mean) / vol_std, 0.0)
        cols = [
            sma10 / sma50 - 1.0,
            ema12 / ema26 - 1.0,
            close / sma50 - 1.0,
            hist / close,
            talib.RSI(close, 14),
            talib.ROC(close, 10),
            talib.ROCP(close, 1),
            talib.ROCP(close, 5),
            talib.ROCP(close, 20),
            talib.NATR(high, low, close, 14),
            pctb,
            band / middle,
            vol_z,
        ]
    # np.where filled the warm-up rows; put the NaN back so they are never mistaken for data.
    cols[10][np.isnan(band)] = np.nan
    cols[12][np.isnan(vol_std)] = np.nan
    return cols


def bar_arrays(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """high, low, close and volume of ``df`` as float64 arrays (views where pandas allows)."""
    try:
        h, lo, c, v = (df[k].to_numpy(dtype=np.float64) for k in ("high", "low", "close", "volume"))
    except KeyError as e:
        raise Invalid(f"bars frame lacks column {e.args[0]!r}", errors={"columns": COLUMNS}) from e
    return h, lo, c, v


def feature_matrix(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray
) -> np.ndarray:
    """Features as an ``(n, len(FEATURES))`` float64 array; warm-up rows are NaN."""
    return np.column_stack(_columns(high, low, close, volume))


def latest_row(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray
) -> np.ndarray:
    """The feature vector of the last element; pass only the window you want computed."""
    return np.array([col[-1] for col in _columns(high, low, close, volume)])


def compute_features(df: pd.DataFrame) -> pd.DataFrame:
    """Every feature for every bar of ``df``, indexed like ``df``; warm-up rows are NaN."""
    x = feature_matrix(*bar_arrays(df))
    return pd.DataFrame(x, index=df.index, columns=list(FEATURE_NAMES))


def latest_features(df: pd.DataFrame, *, window: int = WINDOW) -> np.ndarray:
    """The feature vector of the last bar of ``df``, computed on its last ``window`` bars."""
    return latest_row(*(a[-window:] for a in bar_arrays(df)))


def latest_features_many(frames: Sequence[pd.DataFrame], *, window: int = WINDOW) -> np.ndarray:
    """``latest_features`` for many frames as one ``(len(frames), n_features)`` array."""
    out = np.empty((len(frames), len(FEATURES)))
    for i, df in enumerate(frames):
        out[i] = latest_row(*(a[-window:] for a in bar_arrays(df)))
    return out
