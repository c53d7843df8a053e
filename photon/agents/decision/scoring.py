"""Was a decision right? Used by the scheduled hit-rate job once the horizon has passed.

The rule mirrors the model's labels: BUY is right when the move beat the round-trip cost, SELL when
it lost more than the cost, HOLD when the move stayed inside the band (by default the cost too).
"""

from __future__ import annotations

from photon.errors import Invalid
from photon.types import ACTIONS, Action


def forward_return(price_at_decision: float, price_after_horizon: float) -> float:
    """Simple return from the decision price to the price one horizon later."""
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
    """True when the decision was right; ``costs`` and ``band`` are fractions (0.004 = 0.4 %)."""
    r = forward_return(price_at_decision, price_after_horizon)
    band = costs if band is None else band
    if decision_action == Action.BUY:
        return bool(r > costs)
    if decision_action == Action.SELL:
        return bool(r < -costs)
    if decision_action == Action.HOLD:
        return bool(abs(r) <= band)
    raise Invalid(f"unknown action {decision_action!r}", errors={"action": list(ACTIONS)})
