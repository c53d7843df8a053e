"""What "right" means, in one place: labels, the scorer, statistics and the backtest all use it.

A decision at bar ``i`` with horizon ``H`` bars is judged on ``r = close[i+H] / close[i] - 1``,
the return ``H`` bars later (bars, not days: a stock's 5 bars are 5 trading days). With the
round-trip ``cost``: the outcome is UP when ``r > cost``, DOWN when ``r < -cost`` and FLAT
otherwise. BUY is right on UP, SELL on DOWN, HOLD on FLAT. The model's three classes are these
outcomes, so its probability of the action's class is the probability that the action is right.
"""

from __future__ import annotations

import numpy as np

from photon.errors import Invalid
from photon.types import ACTIONS, Action

DOWN, FLAT, UP = 0, 1, 2
# The outcome class that makes each action right.
RIGHT_CLASS = {Action.BUY: UP, Action.SELL: DOWN, Action.HOLD: FLAT}
# Actions as the integers arrays carry: +1 BUY, -1 SELL, 0 HOLD.
ACTION_OF = {1: Action.BUY, -1: Action.SELL, 0: Action.HOLD}


def outcomes(forward: np.ndarray, cost: float) -> np.ndarray:
    """DOWN / FLAT / UP for forward returns; FLAT is the closed band ``[-cost, cost]``."""
    forward = np.asarray(forward, dtype=np.float64)
    return np.where(forward > cost, UP, np.where(forward < -cost, DOWN, FLAT)).astype(np.int32)


def forward_returns(close: np.ndarray, horizon: int) -> np.ndarray:
    """``close[i + horizon] / close[i] - 1`` for every row that has a bar ``horizon`` later."""
    close = np.asarray(close, dtype=np.float64)
    n = max(0, len(close) - horizon)
    with np.errstate(divide="ignore", invalid="ignore"):
        return close[horizon : horizon + n] / close[:n] - 1.0


def right_class(actions: np.ndarray) -> np.ndarray:
    """The outcome class that makes each ``+1/-1/0`` action right."""
    a = np.asarray(actions)
    return np.where(a == 1, UP, np.where(a == -1, DOWN, FLAT)).astype(np.int32)


def forward_return(price_at_decision: float, price_after_horizon: float) -> float:
    """Simple return from the decision price to the close ``horizon`` bars later."""
    if not price_at_decision > 0:
        raise Invalid(f"price at decision must be positive, got {price_at_decision!r}")
    return float(price_after_horizon) / float(price_at_decision) - 1.0


def score(
    decision_action: str,
    price_at_decision: float,
    price_after_horizon: float,
    costs: float,
    band: float | None = None,
) -> bool:
    """True when the decision was right; ``costs`` and ``band`` are fractions (0.004 = 0.4 %).

    ``band`` (default: ``costs``) is HOLD's band; only the default agrees with the labels.
    """
    r = forward_return(price_at_decision, price_after_horizon)
    band = costs if band is None else band
    if decision_action == Action.BUY:
        return bool(r > costs)
    if decision_action == Action.SELL:
        return bool(r < -costs)
    if decision_action == Action.HOLD:
        return bool(abs(r) <= band)
    raise Invalid(f"unknown action {decision_action!r}", errors={"action": list(ACTIONS)})
