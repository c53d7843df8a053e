"""A transparent rules ensemble: the fallback when a symbol has too little history for the model,
and the baseline the model has to beat.

Each rule reads one feature and votes +1 (toward BUY), -1 (toward SELL) or 0, with a fixed weight.
The score is the weighted mean vote, in [-1, 1]; a rule's contribution is its share of that score,
so the contributions add up to the score exactly and the reasoning can quote them.

The vote says which way; ``calibrate`` says how likely it is to be right. It looks back over the
symbol's own last ``LOOKBACK`` bars, all of them before the decision, and asks: after votes like
this one, how often did the price end ``horizon`` bars later above the cost, below minus the cost,
or inside? Past returns are measured in units of their own volatility (the standard deviation of
one-bar log returns over ``VOL_BARS`` bars, times the square root of the horizon) and read at
today's volatility, because whether a move clears the cost depends mostly on how much the price
moves at all. The vote's own record is shrunk toward all bars' (``PRIOR_ROWS`` pseudo-rows), and
with no history at all a driftless random walk at today's volatility is the prior. The vote is
followed only when its P(right) beats break-even after the cost, priced as in
``calibration.Payoff`` from the same past returns read at today's volatility.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import talib

from photon.agents.decision.features import FEATURE_NAMES
from photon.agents.decision.scoring import DOWN, FLAT, UP, forward_returns, outcomes
from photon.store import reliability as rel

NAME = "rules"
# v2: calibrated on the symbol's own history, edge-gated (v1 said 1 - |score| for HOLD).
VERSION = "rules-v2"
LOOKBACK = 1000  # bars a rules decision reads and calibrates on
VOL_BARS = 20
PRIOR_ROWS = 50
_MIN_VOL = 1e-4  # per bar: a window of identical closes has no spread, not zero risk
# Needs two of the three full-weight rules to agree (2/3.5 = 0.57), or one strong rule plus the
# Bollinger rule with no disagreement (1.5/3.5 = 0.43).
THRESHOLD = 0.4


def _sign(v: np.ndarray) -> np.ndarray:
    return np.sign(v)


def _rsi(v: np.ndarray) -> np.ndarray:
    return (v < 30).astype(float) - (v > 70).astype(float)


def _bollinger(v: np.ndarray) -> np.ndarray:
    return (v < 0).astype(float) - (v > 1).astype(float)


@dataclass(frozen=True)
class Rule:
    feature: str
    weight: float
    vote: Callable[[np.ndarray], np.ndarray]
    why: str


RULES: tuple[Rule, ...] = (
    Rule("sma_cross", 1.0, _sign, "trend: SMA(10) above SMA(50) buys, below sells"),
    Rule("macd_hist", 1.0, _sign, "momentum: MACD histogram above zero buys, below sells"),
    Rule("rsi_14", 1.0, _rsi, "mean reversion: RSI(14) under 30 buys, over 70 sells"),
    Rule(
        "bb_pctb", 0.5, _bollinger, "mean reversion: close below the lower band buys, above sells"
    ),
)
_TOTAL_WEIGHT = sum(r.weight for r in RULES)
_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


def contributions(x: np.ndarray) -> np.ndarray:
    """Per-feature contributions, shaped like ``x`` (``(n, F)``); features no rule reads get 0."""
    x = np.atleast_2d(x)
    out = np.zeros_like(x, dtype=float)
    for rule in RULES:
        j = _INDEX[rule.feature]
        out[:, j] = rule.weight * rule.vote(x[:, j]) / _TOTAL_WEIGHT
    return out


def actions(score: np.ndarray) -> np.ndarray:
    """+1 (BUY), -1 (SELL) or 0 (HOLD) for each score."""
    return (score >= THRESHOLD).astype(np.int8) - (score <= -THRESHOLD).astype(np.int8)


def votes(x: np.ndarray) -> list[tuple[Rule, float]]:
    """Each rule with its vote (+1, -1 or 0) on one feature row."""
    return [(rule, float(rule.vote(np.array([x[_INDEX[rule.feature]]]))[0])) for rule in RULES]


def volatility(close: np.ndarray, horizon: int) -> np.ndarray:
    """Per row, the standard deviation of one-bar log returns over ``VOL_BARS`` bars, scaled to
    ``horizon`` bars (NaN in the warm-up)."""
    close = np.asarray(close, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logret = np.r_[np.nan, np.diff(np.log(close))]
    sd = (
        talib.STDDEV(logret, VOL_BARS, 1.0)
        if len(close) > VOL_BARS
        else np.full(len(close), np.nan)
    )
    return np.maximum(sd, _MIN_VOL) * math.sqrt(horizon)


@dataclass(frozen=True)
class Calibrated:
    """A rules decision's numbers: the action, P(right), the probabilities and their basis."""

    action: int
    confidence: float
    proba: np.ndarray  # DOWN, FLAT, UP
    base_rate: float  # share of all calibration bars whose outcome makes this action right
    vote: int
    n_rows: int
    n_vote: int
    breakeven_buy: float
    breakeven_sell: float
    track: list[dict[str, Any]]


def _gauss_prior(t: float) -> np.ndarray:
    """DOWN, FLAT, UP shares of a driftless Gaussian move of unit scale, band ``±t``."""
    flat = math.erf(t / math.sqrt(2.0)) if math.isfinite(t) else 1.0
    return np.array([(1 - flat) / 2, flat, (1 - flat) / 2])


def _shares(u: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Counts of DOWN, FLAT, UP among standardised returns ``u`` (sorted) at bands ``±t``."""
    down = np.searchsorted(u, -t, side="left")
    up = len(u) - np.searchsorted(u, t, side="right")
    return np.column_stack([down, len(u) - down - up, up]).astype(np.float64)


def _proba(u_all: np.ndarray, u_vote: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Vote-conditioned shares shrunk toward all rows', themselves shrunk toward the prior."""
    prior = np.array([_gauss_prior(float(v)) for v in t])
    pooled = (_shares(u_all, t) + PRIOR_ROWS * prior) / (len(u_all) + PRIOR_ROWS)
    return (_shares(u_vote, t) + PRIOR_ROWS * pooled) / (len(u_vote) + PRIOR_ROWS)


def _gate(
    vote: np.ndarray, proba: np.ndarray, be_buy: np.ndarray, be_sell: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Follow the vote only where its P(right) beats break-even; else HOLD, confident P(flat)."""
    buy = (vote == 1) & (proba[:, UP] > be_buy)
    sell = (vote == -1) & (proba[:, DOWN] > be_sell)
    a = np.where(buy, 1, np.where(sell, -1, 0)).astype(np.int8)
    return a, np.where(a == 1, proba[:, UP], np.where(a == -1, proba[:, DOWN], proba[:, FLAT]))


def _breakeven(u: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``calibration.Payoff``'s break-evens for past standardised returns ``u`` (sorted), read
    at bands ``±t`` (``t = cost / volatility``), for many ``t`` at once: in units of the
    volatility the cost is ``t``, so BUY breaks even at
    ``(t - mean(u | u <= t)) / (mean(u | u > t) - mean(u | u <= t))``, SELL likewise."""
    csum = np.r_[0.0, np.cumsum(u)]
    n = len(u)
    hi = np.searchsorted(u, t, side="right")  # u <= t below hi
    lo = np.searchsorted(u, -t, side="left")  # u < -t below lo
    with np.errstate(divide="ignore", invalid="ignore"):
        m_not_up = csum[hi] / hi
        m_up = (csum[n] - csum[hi]) / (n - hi)
        m_down = csum[lo] / lo
        m_not_down = (csum[n] - csum[lo]) / (n - lo)
        buy = (t - m_not_up) / (m_up - m_not_up)
        sell = (t + m_not_down) / (m_not_down - m_down)
    buy = np.where(np.isfinite(buy) & (m_up > m_not_up), np.clip(buy, 0, 1), 1.0)
    sell = np.where(np.isfinite(sell) & (m_not_down > m_down), np.clip(sell, 0, 1), 1.0)
    return buy, sell


def calibrate(x: np.ndarray, close: np.ndarray, horizon: int, cost: float) -> Calibrated:
    """The calibrated rules decision on the last row of a frame's features ``x`` and closes.

    Only rows whose ``horizon`` bars later are inside the frame are labelled, so the last
    row's own future is never read.
    """
    n = len(close)
    score = contributions(x).sum(axis=1)
    vote = actions(score)
    sigma = volatility(close, horizon)
    fwd = forward_returns(close, horizon)
    rows = np.flatnonzero(np.isfinite(score[: len(fwd)]) & np.isfinite(sigma[: len(fwd)]))
    rows = rows[np.isfinite(fwd[rows])]
    u = fwd[rows] / sigma[rows]
    s_now = float(sigma[-1]) if math.isfinite(sigma[-1]) else float("nan")
    t_now = np.array([cost / s_now if s_now > 0 else math.inf])
    v_now = int(vote[n - 1])
    order = np.argsort(u, kind="stable")
    u_sorted, v_sorted = u[order], vote[rows][order]
    proba = _proba(u_sorted, u_sorted[v_sorted == v_now], t_now)
    be_buy, be_sell = _breakeven(u_sorted, t_now)
    act, conf = _gate(np.array([v_now]), proba, be_buy, be_sell)
    y_now = outcomes(u * s_now, cost)
    counts = np.bincount(y_now, minlength=3) + 1.0
    right_class = {1: UP, -1: DOWN, 0: FLAT}[int(act[0])]
    return Calibrated(
        action=int(act[0]),
        confidence=float(conf[0]),
        proba=proba[0],
        base_rate=float(counts[right_class] / counts.sum()),
        vote=v_now,
        n_rows=len(rows),
        n_vote=int((v_sorted == v_now).sum()),
        breakeven_buy=float(be_buy[0]),
        breakeven_sell=float(be_sell[0]),
        track=_track(u, vote[rows], sigma[rows], horizon, cost),
    )


def _track(
    u: np.ndarray, vote: np.ndarray, sigma: np.ndarray, horizon: int, cost: float
) -> list[dict[str, Any]]:
    """Out-of-sample record of this very procedure inside the frame: calibrated on the older
    half of the labelled rows, scored on the newer half (from ``horizon`` rows later on)."""
    half = len(u) // 2
    old, new = slice(0, half), slice(min(len(u), half + horizon), len(u))
    if half == 0 or new.start >= len(u):
        return rel.reliability(np.zeros(0), np.zeros(0))
    order = np.argsort(u[old], kind="stable")
    u_old, v_old = u[old][order], vote[old][order]
    t = cost / sigma[new]
    proba = np.empty((len(t), 3))
    for v in (-1, 0, 1):
        sel = vote[new] == v
        if sel.any():
            proba[sel] = _proba(u_old, u_old[v_old == v], t[sel])
    act, conf = _gate(vote[new], proba, *_breakeven(u_old, t))
    y = outcomes(u[new] * sigma[new], cost)
    right = np.where(act == 1, y == UP, np.where(act == -1, y == DOWN, y == FLAT))
    return rel.reliability(conf, right)
