"""The words of a decision: what each number is, in its own units, and its track record.

A model decision quotes its calibrated probabilities, the break-even each action had to beat,
and the top TreeSHAP contributions as what they are: terms of the booster's log-odds of a rise
against a fall, before calibration. A rules decision quotes each rule's vote and the record its
probabilities come from. Every reasoning ends with the track record for its confidence.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from photon.agents.decision import rules
from photon.agents.decision.calibration import track_record
from photon.agents.decision.features import FEATURE_NAMES, describe
from photon.types import Action

TOP_REASONS = 3


def _pct(v: float) -> str:
    return f"{v * 100:.2f} %"


def _odds(probs: dict[str, float], horizon: int, cost: float) -> str:
    return (
        f"P(rise > {_pct(cost)} in {horizon} bars) = {probs['up']:.2f}, "
        f"P(fall < -{_pct(cost)}) = {probs['down']:.2f}, "
        f"P(within ±{_pct(cost)}) = {probs['flat']:.2f}"
    )


def verdict(
    action: str,
    probs: dict[str, float],
    breakeven: tuple[float, float],
    cost: float,
    proposed: str | None = None,
) -> str:
    """Why this action: the probability it had to beat, or why nothing beat it."""
    be_buy, be_sell = breakeven
    if action == Action.BUY:
        return (
            f"P(rise) = {probs['up']:.2f} beats the {be_buy:.2f} a BUY needs to break even "
            f"after the {_pct(cost)} cost"
        )
    if action == Action.SELL:
        return (
            f"P(fall) = {probs['down']:.2f} beats the {be_sell:.2f} a SELL needs to break even "
            f"after the {_pct(cost)} cost"
        )
    if proposed == Action.BUY:
        why = f"they vote BUY, but P(rise) = {probs['up']:.2f} does not beat the {be_buy:.2f}"
        return f"{why} a BUY needs after the {_pct(cost)} cost, so HOLD"
    if proposed == Action.SELL:
        why = f"they vote SELL, but P(fall) = {probs['down']:.2f} does not beat the {be_sell:.2f}"
        return f"{why} a SELL needs after the {_pct(cost)} cost, so HOLD"
    if proposed == Action.HOLD:
        return f"no vote reaches ±{rules.THRESHOLD:.2f}, so HOLD"
    return (
        f"no action beats break-even after the {_pct(cost)} cost (BUY needs P(rise) > "
        f"{be_buy:.2f}, SELL needs P(fall) > {be_sell:.2f}), so HOLD"
    )


def confidence_of(action: str) -> str:
    return {Action.BUY: "P(rise)", Action.SELL: "P(fall)", Action.HOLD: "P(within)"}[action]


def model_reasoning(
    action: str,
    confidence: float,
    probs: dict[str, float],
    x: np.ndarray,
    contrib: np.ndarray,
    bias: float,
    model: Any,
) -> str:
    """A LightGBM decision in words; ``model`` is the ``TrainedModel`` that made it."""
    payoff = model.payoff
    head = (
        f"{action}: calibrated {_odds(probs, model.horizon, model.cost)}; "
        f"{verdict(action, probs, (payoff.breakeven_buy, payoff.breakeven_sell), model.cost)}. "
        f"Confidence = {confidence_of(action)} = {confidence:.2f}."
    )
    order = np.argsort(-np.abs(contrib), kind="stable")[:TOP_REASONS]
    phrases = [
        f"{describe(FEATURE_NAMES[j], float(x[j]))} "
        f"{'raised' if contrib[j] > 0 else 'lowered'} the model's log-odds of a rise by "
        f"{abs(contrib[j]):.2f}"
        for j in order
        if abs(contrib[j]) >= 0.005
    ]
    total = float(contrib.sum() + bias)
    units = (
        f" In the model's log-odds of a rise against a fall, before calibration ({total:+.2f}, "
        f"of which {bias:+.2f} is the model's base): "
    )
    factors = units + ("; ".join(phrases) if phrases else "no feature moved them by 0.005") + "."
    record = track_record(model.metrics.get("test_reliability"), confidence)
    return f"{head}{factors} {record}"


def rules_reasoning(
    action: str,
    confidence: float,
    probs: dict[str, float],
    x: np.ndarray,
    cal: rules.Calibrated,
    horizon: int,
    cost: float,
) -> str:
    """A rules decision in words: the votes, where the probabilities come from, the verdict."""
    score = float(rules.contributions(x).sum())
    parts = []
    for rule, vote in rules.votes(x):
        said = {1.0: "votes BUY", -1.0: "votes SELL"}.get(vote, "no vote")
        parts.append(f"{describe(rule.feature, float(x[FEATURE_NAMES.index(rule.feature)]))} "
                     f"{said} (weight {rule.weight:g})")  # fmt: skip
    proposed = {1: Action.BUY, -1: Action.SELL, 0: Action.HOLD}[cal.vote]
    head = (
        f"{action}: rules ensemble score {score:+.2f} (BUY at >= +{rules.THRESHOLD:.2f}, "
        f"SELL at <= -{rules.THRESHOLD:.2f}): " + "; ".join(parts) + ". "
    )
    basis = (
        f"Calibrated on this symbol's {cal.n_rows} past bars ({cal.n_vote} with the same vote), "
        f"read at today's volatility: {_odds(probs, horizon, cost)}; "
        if cal.n_rows
        else "No past bars to calibrate on yet: a driftless random walk at today's volatility "
        f"gives {_odds(probs, horizon, cost)}; "
    )
    why = verdict(action, probs, (cal.breakeven_buy, cal.breakeven_sell), cost, proposed)
    tail = f"{why}. Confidence = {confidence_of(action)} = {confidence:.2f}. "
    return head + basis + tail + track_record(cal.track, confidence)
