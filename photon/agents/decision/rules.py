"""A transparent rules ensemble: the fallback when a symbol has too little history for the model,
and the baseline the model has to beat.

Each rule reads one feature and votes +1 (toward BUY), -1 (toward SELL) or 0, with a fixed weight.
The score is the weighted mean vote, in [-1, 1]; a rule's contribution is its share of that score,
so the contributions add up to the score exactly and the reasoning can quote them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from photon.agents.decision.features import FEATURE_NAMES

NAME = "rules"
VERSION = "rules-v1"
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


def confidence(score: np.ndarray) -> np.ndarray:
    """|score| for BUY and SELL; for HOLD, how far the score is from either threshold's side."""
    a = actions(score)
    return np.where(a != 0, np.abs(score), 1.0 - np.abs(score))
