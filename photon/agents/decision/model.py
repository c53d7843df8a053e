"""The LightGBM decision model, trained walk-forward.

Labels: one 3-class model (DOWN beyond cost / inside the band / UP beyond cost) on the forward
return over ``horizon`` bars, ``r = close[i+H] / close[i] - 1``, with the band = the round-trip
cost. One softmax model rather than two binary ones, so P(up) + P(flat) + P(down) = 1 and the
BUY-vs-SELL evidence is one log-odds, ``log(P(up) / P(down))``, that TreeSHAP splits exactly into
per-feature contributions (UP's contribution minus DOWN's).

Walk-forward: ``train(df, until=t)`` sees only bars with ``open_time <= t``. A label at row ``i``
needs the close of row ``i + H``, so only rows with ``i + H <=`` the last bar at or before ``t``
are labelled. The usable rows are split in time into fit (70 %), calibration (15 %) and test
(15 %), each later slice starting ``H`` rows after the previous one ends so no label window spans
two slices. Fit trains the trees; calibration stops boosting early and picks the BUY/SELL
thresholds; test is touched once, for the out-of-sample metrics stored with the model.

Thresholds act on the edge ``P(up) - P(down)``. Candidates are quantiles of the calibration
edges; a BUY threshold is scored by ``mean(r - cost) * sqrt(count)`` over the calibration rows at
or above it (a t-statistic-like score that does not reward a handful of lucky rows), SELL
likewise with ``-r``. If no candidate has a positive score the side is disabled (``None``): the
model then says HOLD rather than trade without evidence.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from photon.agents.decision.features import FEATURE_NAMES, bar_arrays, feature_matrix
from photon.errors import Conflict, Invalid
from photon.types import COST

NAME = "lightgbm"
MIN_TRAIN_ROWS = 500
DOWN, FLAT, UP = 0, 1, 2
_FIT, _CAL = 0.70, 0.85
_FORMAT = 1


@dataclass(frozen=True)
class ModelConfig:
    horizon: int = 5
    cost: float = COST
    learning_rate: float = 0.05
    num_leaves: int = 7
    min_data_in_leaf: int = 40
    # Walk-forward fits early-stop at 1 to ~110 rounds (about 60 at the 90th percentile); the
    # cap keeps explanation cost (TreeSHAP grows with trees) within 3x the indicator floor.
    max_rounds: int = 60
    early_stopping: int | None = 20  # rounds without calibration gain; None keeps all rounds
    # Markets drift; a rolling window also bounds the fit time on long hourly histories.
    max_train_rows: int | None = 5000
    seed: int = 7

    def params(self) -> dict[str, Any]:
        return {
            "objective": "multiclass",
            "num_class": 3,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            # Default threads on this 2-core box turned a 0.13 s fit into 29 s.
            "num_threads": 1,
            "deterministic": True,
            "force_col_wise": True,
            "seed": self.seed,
            "verbose": -1,
        }


@dataclass(frozen=True)
class Thresholds:
    """BUY when ``P(up) - P(down) >= buy``; SELL when it is ``<= -sell``; ``None`` disables."""

    buy: float | None
    sell: float | None


@dataclass(frozen=True, eq=False)
class TrainedModel:
    booster: lgb.Booster
    version: str
    feature_names: tuple[str, ...]
    horizon: int
    cost: float
    train_start: datetime
    train_end: datetime
    thresholds: Thresholds
    metrics: dict[str, Any] = field(default_factory=dict)
    name: str = NAME

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """``(n, 3)`` probabilities in the order DOWN, FLAT, UP."""
        return self.booster.predict(np.atleast_2d(x), num_threads=1)

    def explain(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature contributions toward BUY, ``(n, F)``, and the bias, ``(n,)``.

        In log-odds of UP against DOWN: the contributions plus the bias sum to
        ``log(P(up) / P(down))``.
        """
        x = np.atleast_2d(x)
        f = len(self.feature_names)
        c = self.booster.predict(x, pred_contrib=True, num_threads=1).reshape(len(x), 3, f + 1)
        diff = c[:, UP, :] - c[:, DOWN, :]
        return diff[:, :f], diff[:, f]

    def actions(self, proba: np.ndarray) -> np.ndarray:
        """+1 (BUY), -1 (SELL) or 0 (HOLD) per row of ``predict_proba``."""
        edge = proba[:, UP] - proba[:, DOWN]
        a = np.zeros(len(edge), dtype=np.int8)
        if self.thresholds.buy is not None:
            a[edge >= self.thresholds.buy] = 1
        if self.thresholds.sell is not None:
            a[edge <= -self.thresholds.sell] = -1
        return a

    def to_bytes(self) -> bytes:
        """A compressed blob for a DB ``LargeBinary`` column; ``from_bytes`` reverses it."""
        head = {
            "format": _FORMAT,
            "name": self.name,
            "version": self.version,
            "feature_names": list(self.feature_names),
            "horizon": self.horizon,
            "cost": self.cost,
            "train_start": self.train_start.isoformat(),
            "train_end": self.train_end.isoformat(),
            "thresholds": asdict(self.thresholds),
            "metrics": self.metrics,
        }
        text = json.dumps(head, sort_keys=True) + "\n" + self.booster.model_to_string()
        return zlib.compress(text.encode(), 6)

    @classmethod
    def from_bytes(cls, blob: bytes) -> TrainedModel:
        try:
            head_text, model_str = zlib.decompress(blob).decode().split("\n", 1)
            head = json.loads(head_text)
        except (zlib.error, ValueError, UnicodeDecodeError) as e:
            raise Invalid("not a stored Photon model") from e
        if head.get("format") != _FORMAT:
            raise Invalid(f"unsupported model format {head.get('format')!r}")
        return cls(
            booster=lgb.Booster(model_str=model_str),
            version=head["version"],
            feature_names=tuple(head["feature_names"]),
            horizon=head["horizon"],
            cost=head["cost"],
            train_start=datetime.fromisoformat(head["train_start"]),
            train_end=datetime.fromisoformat(head["train_end"]),
            thresholds=Thresholds(**head["thresholds"]),
            metrics=head["metrics"],
            name=head["name"],
        )


def labels(forward: np.ndarray, cost: float) -> np.ndarray:
    """DOWN / FLAT / UP for forward returns; the band is ``[-cost, cost]``, as in scoring."""
    return np.where(forward > cost, UP, np.where(forward < -cost, DOWN, FLAT)).astype(np.int32)


def usable_rows(n_avail: int, horizon: int) -> int:
    """How many leading rows of ``n_avail`` bars have a complete label window."""
    return max(0, n_avail - horizon)


def train(
    df: pd.DataFrame,
    *,
    until: datetime | None = None,
    config: ModelConfig | None = None,
    features: np.ndarray | pd.DataFrame | None = None,
) -> TrainedModel:
    """Fit a model on the bars of ``df`` at or before ``until`` (all bars when ``None``).

    ``features``, if given, must be ``compute_features(df)`` (or its array) for the same ``df``;
    walk-forward callers pass it to avoid recomputing. Only its rows up to ``until`` are read,
    and because every feature is causal those rows equal features computed on the cut frame.
    Raises ``Conflict`` when fewer than ``MIN_TRAIN_ROWS`` labelled rows are available.
    """
    config = config or ModelConfig()
    h = config.horizon
    times = df["open_time"]
    n_avail = len(df)
    if until is not None:
        n_avail = int(times.searchsorted(pd.Timestamp(until), side="right"))
    if features is None:
        x = feature_matrix(*bar_arrays(df.iloc[:n_avail]))
    else:
        x = np.asarray(features, dtype=np.float64)[:n_avail]
    close = df["close"].to_numpy(dtype=np.float64)[:n_avail]
    n_lab = usable_rows(n_avail, h)
    with np.errstate(divide="ignore", invalid="ignore"):
        forward = close[h:] / close[:n_lab] - 1.0
    ok = np.isfinite(x[:n_lab]).all(axis=1) & np.isfinite(forward)
    rows = np.flatnonzero(ok)
    if config.max_train_rows and len(rows) > config.max_train_rows:
        rows = rows[-config.max_train_rows :]
    if len(rows) < MIN_TRAIN_ROWS:
        raise Conflict(
            f"{len(rows)} labelled bars available; the model needs {MIN_TRAIN_ROWS}",
            errors={"bars": [n_avail], "min_rows": [MIN_TRAIN_ROWS]},
        )
    y = labels(forward, config.cost)
    fit, cal, test = _split(rows, h)
    params = config.params()
    train_set = lgb.Dataset(x[fit], y[fit], feature_name=list(FEATURE_NAMES), params=params)
    valid_set = lgb.Dataset(x[cal], y[cal], reference=train_set, params=params)
    booster = lgb.train(
        params,
        train_set,
        num_boost_round=config.max_rounds,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(config.early_stopping, verbose=False)]
        if config.early_stopping
        else [],
    )
    # Reload from text so the in-memory model is exactly what to_bytes/from_bytes round-trip.
    best = booster.best_iteration or None  # 0 without early stopping: keep every round
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))

    def edge(rows_: np.ndarray) -> np.ndarray:
        p = booster.predict(x[rows_], num_threads=1)
        return p[:, UP] - p[:, DOWN]

    thresholds = Thresholds(
        buy=_calibrate(edge(cal), forward[cal], config.cost),
        sell=_calibrate(-edge(cal), -forward[cal], config.cost),
    )
    t = times.iloc
    metrics: dict[str, Any] = {
        "n_fit": len(fit),
        "n_calibration": len(cal),
        "n_test": len(test),
        "best_iteration": booster.current_iteration(),
        "fit_window": [t[fit[0]].isoformat(), t[fit[-1] + h].isoformat()],
        "calibration_window": [t[cal[0]].isoformat(), t[cal[-1] + h].isoformat()],
        "test_window": [t[test[0]].isoformat(), t[test[-1] + h].isoformat()],
    }
    proto = TrainedModel(
        booster=booster,
        version="",
        feature_names=FEATURE_NAMES,
        horizon=h,
        cost=config.cost,
        train_start=t[rows[0]].to_pydatetime(),
        train_end=t[rows[-1] + h].to_pydatetime(),
        thresholds=thresholds,
    )
    proba = booster.predict(x[test], num_threads=1)
    metrics.update(_oos_metrics(proba, y[test], forward[test], proto.actions(proba), y[fit]))
    metrics.update(horizon=h, cost=config.cost)
    digest = hashlib.sha256(
        (booster.model_to_string() + json.dumps(asdict(thresholds)) + f"{h}/{config.cost}").encode()
    ).hexdigest()[:10]
    version = f"lgbm-{proto.train_end:%Y%m%dT%H%M}-{digest}"
    return replace(proto, version=version, metrics=metrics)


def _split(rows: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = len(rows)
    fit = rows[: int(m * _FIT)]
    cal = rows[int(m * _FIT) : int(m * _CAL)]
    cal = cal[cal >= fit[-1] + h]
    test = rows[int(m * _CAL) :]
    test = test[test >= cal[-1] + h]
    return fit, cal, test


def _calibrate(edge: np.ndarray, forward: np.ndarray, cost: float) -> float | None:
    min_count = max(10, int(0.05 * len(edge)))
    best, best_score = None, 0.0
    for q in np.linspace(0.50, 0.975, 20):
        tau = float(np.quantile(edge, q))
        if tau <= 0:
            continue
        sel = edge >= tau
        n = int(sel.sum())
        if n < min_count:
            continue
        s = float(np.mean(forward[sel] - cost)) * np.sqrt(n)
        if s > best_score:
            best, best_score = tau, s
    return best


def _rate(hits: np.ndarray) -> float | None:
    return float(hits.mean()) if len(hits) else None


def _oos_metrics(
    proba: np.ndarray, y: np.ndarray, forward: np.ndarray, act: np.ndarray, y_fit: np.ndarray
) -> dict[str, Any]:
    """Test-slice metrics; the prior baselines use the fit slice's class frequencies."""
    prior = (np.bincount(y_fit, minlength=3) + 1.0) / (len(y_fit) + 3.0)
    p_true = np.clip(proba[np.arange(len(y)), y], 1e-15, 1.0)
    trade = act != 0
    net = act[trade] * forward[trade]
    return {
        "test_log_loss": float(-np.mean(np.log(p_true))),
        "test_log_loss_prior": float(-np.mean(np.log(prior[y]))),
        "test_accuracy": float(np.mean(proba.argmax(axis=1) == y)),
        "test_accuracy_prior": float(np.mean(y == prior.argmax())),
        "test_share_up": float(np.mean(y == UP)),
        "test_share_flat": float(np.mean(y == FLAT)),
        "test_share_down": float(np.mean(y == DOWN)),
        "test_n_buy": int((act == 1).sum()),
        "test_n_sell": int((act == -1).sum()),
        "test_n_hold": int((act == 0).sum()),
        "test_buy_hit_rate": _rate(y[act == 1] == UP),
        "test_sell_hit_rate": _rate(y[act == -1] == DOWN),
        "test_hold_hit_rate": _rate(y[act == 0] == FLAT),
        # Scored like the live hit-rate job: BUY needs UP, SELL needs DOWN, HOLD needs FLAT.
        "test_hit_rate": _rate(np.where(act == 1, UP, np.where(act == -1, DOWN, FLAT)) == y),
        "test_mean_gross_return_per_signal": float(net.mean()) if len(net) else None,
    }
