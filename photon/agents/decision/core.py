"""BUY / SELL / HOLD with reasons, from bars and (when there is one) a trained model.

No lookahead by construction: ``decide`` cuts the frame at ``at`` before anything else and then
reads only the last ``WINDOW`` bars of what is left, so bars after ``at`` cannot change a single
bit of the decision. ``decide`` and ``decide_many`` share one code path, so a decision is the same
whether it was made alone or in a batch.

``at`` includes the bar whose ``open_time`` equals it: callers pass the open time of the latest
completed bar (or nothing, to use the last bar of the frame).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from photon.agents.decision import rules
from photon.agents.decision.features import (
    FEATURE_NAMES,
    LABELS,
    MIN_BARS,
    WINDOW,
    bar_arrays,
    describe,
    latest_row,
)
from photon.agents.decision.model import DOWN, FLAT, UP, TrainedModel
from photon.errors import Conflict, Invalid, PhotonError
from photon.types import COST, Action

DEFAULT_HORIZON = 5
TOP_REASONS = 3
_ACTION = {1: Action.BUY, -1: Action.SELL, 0: Action.HOLD}

ModelFor = Callable[[str], TrainedModel | None] | Mapping[str, TrainedModel | None]


@dataclass(frozen=True)
class Decision:
    action: str
    confidence: float
    reasoning: str
    signals: dict[str, dict[str, Any]]
    model: str
    version: str
    price: float
    bar_time: datetime
    horizon: int
    cost: float
    probabilities: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``bar_time`` as ISO 8601, every number a finite float."""
        d = asdict(self)
        d["bar_time"] = self.bar_time.isoformat()
        return d


@dataclass(frozen=True)
class _Point:
    x: np.ndarray
    price: float
    bar_time: datetime


def _prepare(df: pd.DataFrame, at: datetime | None) -> _Point:
    """Cut ``df`` at ``at`` and compute the last bar's features from the cut frame only."""
    if "open_time" not in df.columns:
        raise Invalid("bars frame lacks column 'open_time'")
    times = df["open_time"]
    n = len(df)
    if at is not None:
        if at.tzinfo is None:
            raise Invalid("'at' must be timezone-aware", errors={"at": [str(at)]})
        n = int(times.searchsorted(pd.Timestamp(at), side="right"))
    if n < MIN_BARS:
        when = f" at or before {at.isoformat()}" if at is not None else ""
        raise Conflict(
            f"{n} bars{when}; a decision needs at least {MIN_BARS}",
            errors={"bars": [n], "min_bars": [MIN_BARS]},
        )
    lo = max(0, n - WINDOW)
    high, low, close, volume = (a[lo:n] for a in bar_arrays(df))
    x = latest_row(high, low, close, volume)
    if not np.isfinite(x).all():
        bad = [name for name, v in zip(FEATURE_NAMES, x, strict=True) if not math.isfinite(v)]
        raise Invalid(f"features are not finite at the last bar: {', '.join(bad)}")
    return _Point(x, float(close[-1]), times.array[n - 1].to_pydatetime())


def decide(
    df: pd.DataFrame,
    *,
    model: TrainedModel | None,
    at: datetime | None = None,
    costs: float | None = None,
) -> Decision:
    """Decide for the last bar at or before ``at``, with ``model`` or, when it is None, the rules.

    ``costs`` (round-trip, a fraction) is recorded for scoring rules decisions; a model's labels
    and thresholds were fixed at training, so a model decision records the model's own cost.
    Raises ``Conflict`` when fewer than ``MIN_BARS`` bars exist at ``at``, ``Invalid`` for a
    malformed frame.
    """
    return _decide_rows([_prepare(df, at)], model, costs)[0]


def decide_many(
    frames: Mapping[str, pd.DataFrame],
    model_for: ModelFor | None = None,
    *,
    at: datetime | None = None,
    costs: float | None = None,
) -> dict[str, Decision | PhotonError]:
    """``decide`` for many symbols, batching inference per model.

    ``model_for`` maps a ticker to its model (a mapping or a function; None means rules for all).
    A symbol that cannot be decided gets the ``PhotonError`` that says why, so one bad symbol does
    not sink the batch. The result keeps the order of ``frames``.
    """
    lookup: Callable[[str], TrainedModel | None]
    if model_for is None:
        lookup = lambda _t: None  # noqa: E731
    elif isinstance(model_for, Mapping):
        lookup = model_for.get
    else:
        lookup = model_for
    out: dict[str, Decision | PhotonError] = {}
    groups: dict[int, tuple[TrainedModel | None, list[str], list[_Point]]] = {}
    for ticker, df in frames.items():
        try:
            point = _prepare(df, at)
        except PhotonError as e:
            out[ticker] = e
            continue
        model = lookup(ticker)
        group = groups.setdefault(id(model), (model, [], []))
        group[1].append(ticker)
        group[2].append(point)
    for model, tickers, points in groups.values():
        out.update(zip(tickers, _decide_rows(points, model, costs), strict=True))
    return {t: out[t] for t in frames}


def _decide_rows(
    points: list[_Point], model: TrainedModel | None, costs: float | None
) -> list[Decision]:
    x = np.vstack([p.x for p in points])
    if model is None:
        contrib = rules.contributions(x)
        score = contrib.sum(axis=1)
        acts, conf = rules.actions(score), rules.confidence(score)
        cost = COST if costs is None else costs
        heads = [
            f"rules ensemble score {s:+.2f} (BUY at >= +{rules.THRESHOLD:.2f}, "
            f"SELL at <= -{rules.THRESHOLD:.2f})"
            for s in score
        ]
        return [
            _build(p, contrib[i], int(acts[i]), float(conf[i]), heads[i], rules.NAME,
                   rules.VERSION, DEFAULT_HORIZON, cost, None)
            for i, p in enumerate(points)
        ]  # fmt: skip
    proba = model.predict_proba(x)
    contrib, _bias = model.explain(x)
    acts = model.actions(proba)
    out = []
    for i, p in enumerate(points):
        a = int(acts[i])
        probs = {
            "up": float(proba[i, UP]),
            "flat": float(proba[i, FLAT]),
            "down": float(proba[i, DOWN]),
        }
        conf = probs["up"] if a == 1 else probs["down"] if a == -1 else probs["flat"]
        head = _model_headline(model, probs, a)
        out.append(
            _build(p, contrib[i], a, conf, head, model.name, model.version, model.horizon,
                   model.cost, probs)
        )  # fmt: skip
    return out


def _model_headline(model: TrainedModel, probs: dict[str, float], action: int) -> str:
    edge = probs["up"] - probs["down"]
    buy, sell = model.thresholds.buy, model.thresholds.sell
    if action == 1 and buy is not None:
        rule = f"edge {edge:+.2f} >= BUY threshold +{buy:.2f}"
    elif action == -1 and sell is not None:
        rule = f"edge {edge:+.2f} <= SELL threshold -{sell:.2f}"
    else:
        buy_text = "off (no edge in calibration)" if buy is None else f">= +{buy:.2f}"
        sell_text = "off (no edge in calibration)" if sell is None else f"<= -{sell:.2f}"
        rule = f"edge {edge:+.2f} inside the thresholds (BUY {buy_text}, SELL {sell_text})"
    return (
        f"P(up > {model.cost:.2%} in {model.horizon} bars)={probs['up']:.2f}, "
        f"P(down)={probs['down']:.2f}, P(inside)={probs['flat']:.2f}; {rule}"
    )


def _build(
    point: _Point,
    contrib: np.ndarray,
    action: int,
    confidence: float,
    headline: str,
    model: str,
    version: str,
    horizon: int,
    cost: float,
    probs: dict[str, float] | None,
) -> Decision:
    signals = {
        name: {"value": float(point.x[j]), "contribution": float(contrib[j]), "label": LABELS[name]}
        for j, name in enumerate(FEATURE_NAMES)
    }
    order = np.argsort(-np.abs(contrib), kind="stable")[:TOP_REASONS]
    phrases = [
        f"{describe(FEATURE_NAMES[j], float(point.x[j]))} pushed toward "
        f"{Action.BUY if contrib[j] > 0 else Action.SELL} ({contrib[j]:+.2f})"
        for j in order
        if abs(contrib[j]) >= 0.005
    ]
    factors = "; ".join(phrases) if phrases else "no single factor stood out"
    name = _ACTION[action]
    return Decision(
        action=name,
        confidence=min(1.0, max(0.0, float(confidence))),
        reasoning=f"{name}: {headline}. {factors}.",
        signals=signals,
        model=model,
        version=version,
        price=point.price,
        bar_time=point.bar_time,
        horizon=horizon,
        cost=float(cost),
        probabilities=probs,
    )
