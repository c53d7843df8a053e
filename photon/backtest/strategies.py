"""Strategies turn bars into orders: ``(bar, direction)`` pairs decided on a bar's close.

Direction +1 means "close whatever is open and go long", -1 "close and go short", 0 "close". The
engine fills every order at the next bar's open. All signals are causal (TA-Lib indicators, and a
model retrained walk-forward on past bars only), so an order at bar ``i`` never reads bar ``i+1``.

The rules and model strategies also record every bar's decision (``Decisions``): the action, its
calibrated confidence and the three probabilities, from the same code the live agent decides
with (``rules_point``, ``TrainedModel.decide``), so the backtest's record can be scored like
stored decisions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import talib

from photon.agents.decision import rules
from photon.agents.decision.core import DEFAULT_HORIZON, rules_point
from photon.agents.decision.features import MIN_BARS, bar_arrays, feature_matrix
from photon.agents.decision.model import MIN_TRAIN_ROWS, ModelConfig, train
from photon.agents.decision.scoring import DOWN, FLAT, UP
from photon.errors import Conflict, PhotonError
from photon.types import COST

Progress = Callable[[float], None]


@dataclass
class Decisions:
    """One decision per bar (NaN confidence where there was none), over a whole frame."""

    actions: np.ndarray  # int8 +1/-1/0
    confidence: np.ndarray  # calibrated P(right)
    proba: np.ndarray  # (n, 3): DOWN, FLAT, UP
    base_rate: np.ndarray  # how often the action was right in the training labels
    model: np.ndarray  # object: "lightgbm", "rules" or "" (no decision)
    horizon: int
    cost: float

    @classmethod
    def empty(cls, n: int, horizon: int, cost: float) -> Decisions:
        nan = np.full(n, np.nan)
        return cls(np.zeros(n, dtype=np.int8), nan.copy(), np.full((n, 3), np.nan), nan.copy(),
                   np.full(n, "", dtype=object), horizon, cost)  # fmt: skip

    def decided(self) -> np.ndarray:
        """Indices of the bars that have a decision."""
        return np.flatnonzero(np.isfinite(self.confidence))


@dataclass
class Orders:
    bars: np.ndarray  # int64 bar indices, ascending
    directions: np.ndarray  # int8: +1, -1 or 0
    first_bar: int  # first bar the strategy could act on (for buy & hold)
    info: dict = field(default_factory=dict)  # JSON-safe description (model versions, ...)
    actions: np.ndarray | None = None  # per-bar BUY/SELL/HOLD as +1/-1/0, for hit rates
    decisions: Decisions | None = None


def sma_cross(close: np.ndarray, lo: int, hi: int, fast: int = 10, slow: int = 20) -> Orders:
    """backtesting.py's SmaCross: on a cross up close and buy, on a cross down close and sell.

    A cross is ``sma_fast[i-1] < sma_slow[i-1] and sma_fast[i] > sma_slow[i]`` (strict, as
    ``backtesting.lib.crossover``), so touching without crossing is no signal and two crosses in
    the same direction each reverse into a fresh trade, exactly as there.
    """
    f, s = talib.SMA(close, fast), talib.SMA(close, slow)
    up = np.zeros(len(close), dtype=bool)
    down = np.zeros(len(close), dtype=bool)
    # NaN compares False, so the warm-up can never cross, as in backtesting.py.
    up[1:] = (f[:-1] < s[:-1]) & (f[1:] > s[1:])
    down[1:] = (s[:-1] < f[:-1]) & (s[1:] > f[1:])
    bars = np.flatnonzero((up | down)[lo:hi]) + lo  # an order on the last bar never fills
    return Orders(bars, np.where(up[bars], 1, -1).astype(np.int8), max(lo, slow - 1))


def hold_targets(actions: np.ndarray, hold: int, allow_short: bool) -> np.ndarray:
    """Target position per bar: the last BUY/SELL within ``hold`` bars, else flat.

    The model predicts the move over ``hold`` bars, so a signal is held that long and a repeat
    signal extends it; the opposite signal reverses at once.
    """
    a = actions.astype(np.int8)
    if not allow_short:
        a = np.where(a < 0, 0, a).astype(np.int8)
    idx = np.arange(len(a))
    last = np.maximum.accumulate(np.where(a != 0, idx, -1))
    alive = (last >= 0) & (idx - last < hold)
    return np.where(alive, a[np.maximum(last, 0)], 0).astype(np.int8)


def orders_from_targets(target: np.ndarray, lo: int, hi: int, first_bar: int) -> Orders:
    """An order wherever the target position changes, on bars ``lo .. hi-1``."""
    t = target[lo:hi]
    prev = np.concatenate(([0], t[:-1])).astype(np.int8)
    bars = np.flatnonzero(t != prev) + lo
    return Orders(bars, target[bars].astype(np.int8), max(lo, first_bar))


def rules_decisions(
    df: pd.DataFrame, lo: int, hi: int, *, horizon: int = DEFAULT_HORIZON, cost: float = COST
) -> Decisions:
    """The calibrated rules' decision on every bar ``lo .. hi``, each from the ``rules.LOOKBACK``
    bars up to it, exactly as ``decide`` makes it live."""
    high, low, close, volume = bar_arrays(df)
    out = Decisions.empty(len(df), horizon, cost)
    for k in range(max(lo, MIN_BARS - 1), hi + 1):
        w = slice(max(0, k + 1 - rules.LOOKBACK), k + 1)
        try:
            _, cal = rules_point(high[w], low[w], close[w], volume[w], cost, horizon)
        except PhotonError:
            continue  # warm-up: not finite yet
        out.actions[k], out.confidence[k], out.proba[k] = cal.action, cal.confidence, cal.proba
        out.base_rate[k], out.model[k] = cal.base_rate, rules.NAME
    return out


def rules_strategy(
    df: pd.DataFrame,
    lo: int,
    hi: int,
    *,
    hold: int = DEFAULT_HORIZON,
    allow_short: bool = True,
    cost: float = COST,
) -> Orders:
    """The calibrated rules' BUY/SELL on every bar, each held ``hold`` bars (the horizon they
    are calibrated on)."""
    decisions = rules_decisions(df, lo, hi, horizon=hold, cost=cost)
    finite = decisions.decided()
    first = int(finite[0]) if len(finite) else len(df)
    target = hold_targets(decisions.actions, hold, allow_short)
    orders = orders_from_targets(target, lo, hi, first)
    orders.info = {"model": rules.NAME, "version": rules.VERSION, "hold_bars": hold}
    orders.actions = decisions.actions
    orders.decisions = decisions
    return orders


def model_strategy(
    df: pd.DataFrame,
    lo: int,
    hi: int,
    *,
    config: ModelConfig | None = None,
    retrain_every: int = 250,
    hold: int | None = None,
    allow_short: bool = True,
    progress: Progress | None = None,
) -> Orders:
    """Walk-forward LightGBM: at bar ``k`` train on bars ``<= k``, decide bars ``k .. k+K-1``.

    Until enough history exists for ``MIN_TRAIN_ROWS`` labelled rows the strategy stays flat (it
    does not borrow the rules), so its record is the model's alone; ``first_bar`` says when it
    started, and buy & hold is measured from there too. Decisions read the rows of one causal
    feature matrix (live decisions compute the same features on their last ``WINDOW`` bars,
    equal to within 1e-7).
    """
    config = config or ModelConfig()
    h = config.horizon
    x = feature_matrix(*bar_arrays(df))
    ok = np.isfinite(x).all(axis=1)
    # Labelled rows available when deciding at bar k are those i <= k - h.
    enough = np.flatnonzero(np.cumsum(ok) >= MIN_TRAIN_ROWS)
    if not len(enough) or enough[0] + h >= hi:
        raise Conflict(
            f"too little history for a walk-forward model: {len(df)} bars; it needs "
            f"{MIN_TRAIN_ROWS} labelled bars plus the {h}-bar horizon before the end",
            errors={"min_rows": [MIN_TRAIN_ROWS]},
        )
    k = first = max(int(enough[0]) + h, lo)
    decisions = Decisions.empty(len(df), h, config.cost)
    times = df["open_time"]
    versions: list[dict] = []
    while k <= hi:
        model = train(df, until=times.iloc[k], config=config, features=x)
        stop = min(k + retrain_every, hi + 1)
        rows = np.arange(k, stop)[ok[k:stop]]
        act, conf, proba = model.decide(x[rows])
        decisions.actions[rows], decisions.confidence[rows], decisions.proba[rows] = (
            act,
            conf,
            proba,
        )
        rates = np.array(model.base_rates)[np.where(act == 1, UP, np.where(act == -1, DOWN, FLAT))]
        decisions.base_rate[rows], decisions.model[rows] = rates, model.name
        versions.append(
            {
                "version": model.version,
                "train_start": model.train_start.isoformat(),
                "train_end": model.train_end.isoformat(),
                "decides_from": times.iloc[k].isoformat(),
                "breakeven": [model.payoff.breakeven_buy, model.payoff.breakeven_sell],
                "test_hit_rate": model.metrics.get("test_hit_rate"),
            }
        )
        if progress:
            progress((stop - lo) / (hi + 1 - lo))
        k = stop
    target = hold_targets(decisions.actions, h if hold is None else hold, allow_short)
    orders = orders_from_targets(target, lo, hi, first)
    orders.info = {
        "model": "lightgbm",
        "hold_bars": h if hold is None else hold,
        "retrain_every": retrain_every,
        "models": versions,
    }
    orders.actions = decisions.actions
    orders.decisions = decisions
    return orders
