"""Audit a stored decision: derive it again from what was stored and say whether it matches.

The decision named the bars it read (``window_start`` to ``bar_time``) and the model version it
used. The audit reads those bars back from the store, loads that model (or none, for the rules),
runs the same core, and compares action, confidence, probabilities and signals bit for bit. A
difference means the stored bars changed since (a back-fill rewrote them), the model row is gone,
or the code that decides changed; the answer lists what differs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from photon.agents.decision import rules
from photon.agents.decision.agent import (
    HORIZON_BARS,
    bars,
    decision_interval,
    frame,
    load_model,
)
from photon.agents.decision.core import decide
from photon.errors import PhotonError
from photon.models import TradingDecision
from photon.store import bars as stored
from photon.store import decisions


def _compare(stored_value: Any, derived: Any) -> dict[str, Any]:
    return {"stored": stored_value, "derived": derived, "match": stored_value == derived}


def audit(session: Session, decision: TradingDecision) -> dict[str, Any]:
    """What re-deriving ``decision`` from stored bars and its stored model gives."""
    interval = decision.interval or decision_interval(decision.symbol)
    out: dict[str, Any] = {
        "decision_id": decision.id,
        "model": decision.model,
        "model_version": decision.model_version,
        "bar_time": decision.bar_time,
        "window_start": decision.window_start,
        "match": False,
        "problem": None,
    }
    model = None
    if decision.model != rules.NAME:
        row = decisions.model_version(
            session, decision.symbol_id, interval, decision.model_version or ""
        )
        model = load_model(row)
        if model is None:
            out["problem"] = f"model {decision.model_version} is not stored (or not loadable)"
            return out
    if decision.bar_time is None:
        out["problem"] = "the decision names no bar"
        return out
    rows = stored.stored_bars(
        session,
        decision.symbol_id,
        interval,
        start=decision.window_start,
        end=decision.bar_time + bars(interval, 1),
    )
    out["bars_read"] = len(rows)
    if not rows:
        out["problem"] = "no stored bars up to the decision's bar"
        return out
    horizon = decision.horizon_bars or HORIZON_BARS[interval]
    try:
        again = decide(frame(rows), model=model, at=decision.bar_time, costs=decision.cost,
                       horizon=horizon)  # fmt: skip
    except PhotonError as exc:
        out["problem"] = exc.message
        return out
    signal_diff = {
        name: {"stored": decision.signals.get(name), "derived": value}
        for name, value in again.signals.items()
        if decision.signals.get(name) != value
    }
    extra = sorted(set(decision.signals) - set(again.signals))
    checks = {
        "action": _compare(decision.action, again.action),
        "confidence": _compare(decision.confidence, again.confidence),
        "probabilities": _compare(decision.probabilities, again.probabilities),
        "price": _compare(decision.price, again.price),
        "signals": {
            "match": not signal_diff and not extra,
            "differences": signal_diff,
            "missing": extra,
        },
    }
    out.update(checks)
    out["match"] = all(c["match"] for c in checks.values())
    return out
