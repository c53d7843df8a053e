"""BUY / SELL / HOLD with reasons, from bars and (when there is one) a trained model.

No lookahead by construction: ``decide`` cuts the frame at ``at`` before anything else and then
reads only the bars before it (the last ``WINDOW`` for a model, the last ``rules.LOOKBACK`` for
the rules, which calibrate on them), so bars after ``at`` cannot change a single bit of the
decision. ``decide`` and ``decide_many`` share one code path, so a decision is the same whether
it was made alone or in a batch.

``confidence`` is always the calibrated probability that the action is right at its horizon
(``scoring``): P(up) for a BUY, P(down) for a SELL, P(flat) for a HOLD, for the model and the
rules alike, and ``probabilities`` carries all three.

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
    feature_matrix,
    latest_row,
)
from photon.agents.decision.model import TrainedModel
from photon.agents.decision.reasons import model_reasoning, rules_reasoning
from photon.agents.decision.scoring import ACTION_OF, DOWN, FLAT, RIGHT_CLASS, UP
from photon.errors import Conflict, Invalid, PhotonError
from photon.types import COST

DEFAULT_HORIZON = 5

ModelFor = Callable[[str], TrainedModel | None] | Mapping[str, TrainedModel | None]


@dataclass(frozen=True)
class Decision:
    action: str
    confidence: float  # calibrated P(this action is right in ``horizon`` bars)
    reasoning: str
    signals: dict[str, dict[str, Any]]
    model: str
    version: str
    price: float
    bar_time: datetime
    horizon: int
    cost: float
    probabilities: dict[str, float]  # calibrated: up, down, flat
    base_rate: float  # how often this action was right in the training labels
    window_start: datetime  # open time of the first bar the decision read

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601, every number a finite float."""
        d = asdict(self)
        d["bar_time"] = self.bar_time.isoformat()
        d["window_start"] = self.window_start.isoformat()
        return d


@dataclass(frozen=True)
class _Cut:
    """A frame cut at ``at``: its first ``n`` rows are the past."""

    df: pd.DataFrame
    n: int

    def arrays(self, bars: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        lo = max(0, self.n - bars)
        high, low, close, volume = bar_arrays(self.df)
        return high[lo : self.n], low[lo : self.n], close[lo : self.n], volume[lo : self.n]

    def time(self, i: int) -> datetime:
        return self.df["open_time"].array[i].to_pydatetime()

    def start(self, bars: int) -> datetime:
        return self.time(max(0, self.n - bars))


def _cut(df: pd.DataFrame, at: datetime | None) -> _Cut:
    if "open_time" not in df.columns:
        raise Invalid("bars frame lacks column 'open_time'")
    n = len(df)
    if at is not None:
        if at.tzinfo is None:
            raise Invalid("'at' must be timezone-aware", errors={"at": [str(at)]})
        n = int(df["open_time"].searchsorted(pd.Timestamp(at), side="right"))
    if n < MIN_BARS:
        when = f" at or before {at.isoformat()}" if at is not None else ""
        raise Conflict(
            f"{n} bars{when}; a decision needs at least {MIN_BARS}",
            errors={"bars": [n], "min_bars": [MIN_BARS]},
        )
    bar_arrays(df)  # a frame without OHLCV columns is Invalid before any model is looked up
    return _Cut(df, n)


def _finite(x: np.ndarray) -> np.ndarray:
    if not np.isfinite(x).all():
        bad = [name for name, v in zip(FEATURE_NAMES, x, strict=True) if not math.isfinite(v)]
        raise Invalid(f"features are not finite at the last bar: {', '.join(bad)}")
    return x


def decide(
    df: pd.DataFrame,
    *,
    model: TrainedModel | None,
    at: datetime | None = None,
    costs: float | None = None,
    horizon: int = DEFAULT_HORIZON,
) -> Decision:
    """Decide for the last bar at or before ``at``, with ``model`` or, when it is None, the rules.

    ``costs`` (round-trip, a fraction) and ``horizon`` (bars) define "right" for the rules,
    which calibrate on them; a model's labels fixed both at training, so a model decision uses
    the model's own. Raises ``Conflict`` when fewer than ``MIN_BARS`` bars exist at ``at``,
    ``Invalid`` for a malformed frame.
    """
    result = _decide_rows([_cut(df, at)], model, costs, horizon)[0]
    if isinstance(result, PhotonError):
        raise result
    return result


def decide_many(
    frames: Mapping[str, pd.DataFrame],
    model_for: ModelFor | None = None,
    *,
    at: datetime | None = None,
    costs: float | None = None,
    horizon: int = DEFAULT_HORIZON,
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
    groups: dict[int, tuple[TrainedModel | None, list[str], list[_Cut]]] = {}
    for ticker, df in frames.items():
        try:
            cut = _cut(df, at)
        except PhotonError as e:
            out[ticker] = e
            continue
        model = lookup(ticker)
        group = groups.setdefault(id(model), (model, [], []))
        group[1].append(ticker)
        group[2].append(cut)
    for model, tickers, cuts in groups.values():
        for ticker, result in zip(tickers, _decide_rows(cuts, model, costs, horizon), strict=True):
            out[ticker] = result
    return {t: out[t] for t in frames}


def _decide_rows(
    cuts: list[_Cut], model: TrainedModel | None, costs: float | None, horizon: int
) -> list[Decision | PhotonError]:
    if model is None:
        return [_rules_decision(c, COST if costs is None else costs, horizon) for c in cuts]
    # A symbol whose features are not finite gets its error; the others are decided in one batch.
    out: list[Decision | PhotonError | None] = []
    rows: list[int] = []
    xs: list[np.ndarray] = []
    for k, cut in enumerate(cuts):
        try:
            xs.append(_finite(latest_row(*cut.arrays(WINDOW))))
        except PhotonError as e:
            out.append(e)
            continue
        rows.append(k)
        out.append(None)
    if not rows:
        return out  # type: ignore[return-value]
    x = np.vstack(xs)
    actions, confidence, proba = model.decide(x)
    contrib, bias = model.explain(x)
    for i, k in enumerate(rows):
        cut = cuts[k]
        action = ACTION_OF[int(actions[i])]
        probs = _probs(proba[i])
        conf = float(confidence[i])
        out[k] = Decision(
            action=action,
            confidence=conf,
            reasoning=model_reasoning(action, conf, probs, x[i], contrib[i], float(bias[i]), model),
            signals=_signals(x[i], contrib[i]),
            model=model.name,
            version=model.version,
            price=float(cut.arrays(1)[2][-1]),
            bar_time=cut.time(cut.n - 1),
            horizon=model.horizon,
            cost=float(model.cost),
            probabilities=probs,
            base_rate=float(model.base_rates[RIGHT_CLASS[action]]),
            window_start=cut.start(WINDOW),
        )
    return out  # type: ignore[return-value]


def rules_point(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    cost: float,
    horizon: int,
) -> tuple[np.ndarray, rules.Calibrated]:
    """The rules' features and calibrated decision for the last of these bars (at most
    ``rules.LOOKBACK`` of them): what ``decide`` does without a model, minus the words, so
    the backtest runs the very same arithmetic. ``Invalid`` when the last row is not finite."""
    xs = feature_matrix(high, low, close, volume)
    x = _finite(xs[-1])
    return x, rules.calibrate(xs, close, horizon, cost)


def _rules_decision(cut: _Cut, cost: float, horizon: int) -> Decision | PhotonError:
    high, low, close, volume = cut.arrays(rules.LOOKBACK)
    try:
        x, cal = rules_point(high, low, close, volume, cost, horizon)
    except PhotonError as e:
        return e
    action = ACTION_OF[cal.action]
    probs = _probs(cal.proba)
    return Decision(
        action=action,
        confidence=cal.confidence,
        reasoning=rules_reasoning(action, cal.confidence, probs, x, cal, horizon, cost),
        signals=_signals(x, rules.contributions(x)[0]),
        model=rules.NAME,
        version=rules.VERSION,
        price=float(close[-1]),
        bar_time=cut.time(cut.n - 1),
        horizon=horizon,
        cost=float(cost),
        probabilities=probs,
        base_rate=cal.base_rate,
        window_start=cut.start(rules.LOOKBACK),
    )


def _probs(p: np.ndarray) -> dict[str, float]:
    return {"up": float(p[UP]), "down": float(p[DOWN]), "flat": float(p[FLAT])}


def _signals(x: np.ndarray, contrib: np.ndarray) -> dict[str, dict[str, Any]]:
    return {
        name: {"value": float(x[j]), "contribution": float(contrib[j]), "label": LABELS[name]}
        for j, name in enumerate(FEATURE_NAMES)
    }
