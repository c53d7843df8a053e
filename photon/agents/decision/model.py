"""The LightGBM decision model, trained walk-forward, with calibrated probabilities.

Labels: one 3-class model over the outcomes of ``scoring`` (DOWN beyond the cost / inside the
band / UP beyond the cost) ``horizon`` bars ahead. One softmax model rather than two binary
ones, so P(up) + P(flat) + P(down) = 1 and the rise-against-fall evidence is one log-odds,
``log(P(up) / P(down))``, that TreeSHAP splits exactly into per-feature contributions.

Walk-forward: ``train(df, until=t)`` sees only bars with ``open_time <= t``. A label at row ``i``
needs the close of row ``i + H``, so only rows with ``i + H <=`` the last bar at or before ``t``
are labelled. The usable rows are split in time into fit (85 %) and test (15 %), the test slice
starting ``H`` rows after the fit slice ends, so no label window spans both:

- fit grows the trees, and calibrates them out of fold: it is cut into ``_FOLDS`` blocks, each
  predicted by a booster grown on the other blocks (minus the ``H`` rows either side whose
  labels overlap it), and the ``Calibrator`` is fitted on those predictions, so the stored
  probabilities are calibrated on rows the trees never saw and confidence means P(right);
- test is touched once, for the out-of-sample metrics and the track record by confidence that
  every reasoning quotes.

The fit slice's labels give the base rates and the ``Payoff`` (mean outcome sizes) that set the
break-even probabilities: an action is taken only when its calibrated P(right) beats them.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from photon.agents.decision.calibration import C, Calibrator, Payoff
from photon.agents.decision.features import FEATURE_NAMES, bar_arrays, feature_matrix
from photon.agents.decision.scoring import (
    DOWN,
    FLAT,
    UP,
    forward_returns,
    outcomes,
    right_class,
)
from photon.errors import Conflict, Invalid
from photon.store import reliability as rel
from photon.types import COST

__all__ = ["DOWN", "FLAT", "MIN_TRAIN_ROWS", "UP", "ModelConfig", "TrainedModel", "train"]

NAME = "lightgbm"
MIN_TRAIN_ROWS = 500
_TEST = 0.85  # the last 15 % of labelled rows is the test slice
_FOLDS = 4
# 2: calibrated probabilities and break-even payoffs; 1 (thresholds on raw edges) is retired.
FORMAT = 2


@dataclass(frozen=True)
class ModelConfig:
    horizon: int = 5
    cost: float = COST
    learning_rate: float = 0.05
    num_leaves: int = 7
    min_data_in_leaf: int = 40
    # A fixed number of rounds: the calibrator, fitted on out-of-fold boosters of the same
    # size, corrects what they over- or under-state. TreeSHAP cost grows with the trees.
    max_rounds: int = 40
    # Markets drift; a rolling window also bounds the fit time on long hourly histories.
    max_train_rows: int | None = 5000
    calibration_c: float = C
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


_NATR = FEATURE_NAMES.index("natr_14")


def calibration_inputs(raw: np.ndarray, x: np.ndarray, horizon: int, cost: float) -> np.ndarray:
    """The calibrator's inputs: the booster's log-odds of UP and of DOWN, each against FLAT, and
    the log of the cost in units of the horizon's expected move (ATR(14)/close times the square
    root of the horizon), which decides most of how often a move stays inside the cost."""
    raw = np.clip(np.atleast_2d(raw), 1e-12, 1.0)
    move = np.maximum(np.atleast_2d(x)[:, _NATR] / 100.0, 1e-6) * np.sqrt(horizon)
    return np.column_stack(
        [
            np.log(raw[:, UP] / raw[:, FLAT]),
            np.log(raw[:, DOWN] / raw[:, FLAT]),
            np.log(cost / move),
        ]
    )


@dataclass(frozen=True, eq=False)
class TrainedModel:
    booster: lgb.Booster
    version: str
    feature_names: tuple[str, ...]
    horizon: int
    cost: float
    train_start: datetime
    train_end: datetime
    calibrator: Calibrator
    payoff: Payoff
    base_rates: tuple[float, float, float]  # DOWN, FLAT, UP in the fit slice's labels
    metrics: dict[str, Any] = field(default_factory=dict)
    name: str = NAME

    def raw_proba(self, x: np.ndarray) -> np.ndarray:
        """The booster's own ``(n, 3)`` probabilities (DOWN, FLAT, UP), before calibration."""
        return self.booster.predict(np.atleast_2d(x), num_threads=1)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Calibrated ``(n, 3)`` probabilities in the order DOWN, FLAT, UP."""
        x = np.atleast_2d(x)
        z = calibration_inputs(self.raw_proba(x), x, self.horizon, self.cost)
        return self.calibrator.apply(z)

    def decide(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``+1/-1/0`` actions, their confidence (calibrated P(right)) and the probabilities."""
        proba = self.predict_proba(x)
        actions, confidence = self.payoff.choose(proba)
        return actions, confidence, proba

    def explain(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature contributions, ``(n, F)``, and the bias, ``(n,)``, to the booster's
        log-odds of a rise against a fall: they sum to ``log(P(up) / P(down))`` before
        calibration (TreeSHAP on UP's margin minus DOWN's)."""
        x = np.atleast_2d(x)
        f = len(self.feature_names)
        c = self.booster.predict(x, pred_contrib=True, num_threads=1).reshape(len(x), 3, f + 1)
        diff = c[:, UP, :] - c[:, DOWN, :]
        return diff[:, :f], diff[:, f]

    def to_bytes(self) -> bytes:
        """A compressed blob for a DB ``LargeBinary`` column; ``from_bytes`` reverses it."""
        head = {
            "format": FORMAT,
            "name": self.name,
            "version": self.version,
            "feature_names": list(self.feature_names),
            "horizon": self.horizon,
            "cost": self.cost,
            "train_start": self.train_start.isoformat(),
            "train_end": self.train_end.isoformat(),
            "calibrator": self.calibrator.to_dict(),
            "payoff": self.payoff.to_dict(),
            "base_rates": list(self.base_rates),
            "metrics": self.metrics,
        }
        text = json.dumps(head, sort_keys=True) + "\n" + self.booster.model_to_string()
        return zlib.compress(text.encode(), 6)

    @classmethod
    def from_bytes(cls, blob: bytes) -> TrainedModel:
        """Raises ``Invalid`` for a blob that is not a model of the current format."""
        try:
            head_text, model_str = zlib.decompress(blob).decode().split("\n", 1)
            head = json.loads(head_text)
        except (zlib.error, ValueError, UnicodeDecodeError) as e:
            raise Invalid("not a stored Photon model") from e
        if head.get("format") != FORMAT:
            raise Invalid(f"unsupported model format {head.get('format')!r}")
        return cls(
            booster=lgb.Booster(model_str=model_str),
            version=head["version"],
            feature_names=tuple(head["feature_names"]),
            horizon=head["horizon"],
            cost=head["cost"],
            train_start=datetime.fromisoformat(head["train_start"]),
            train_end=datetime.fromisoformat(head["train_end"]),
            calibrator=Calibrator.from_dict(head["calibrator"]),
            payoff=Payoff.from_dict(head["payoff"]),
            base_rates=tuple(head["base_rates"]),
            metrics=head["metrics"],
            name=head["name"],
        )


def labels(forward: np.ndarray, cost: float) -> np.ndarray:
    """DOWN / FLAT / UP for forward returns: ``scoring.outcomes``, the one definition."""
    return outcomes(forward, cost)


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
    forward = forward_returns(close, h)
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
    fit, test = _gap_split(rows, _TEST, h)
    # Out-of-fold predictions for every fit row: K purged blocks, each predicted by a booster
    # grown on the other blocks (minus H rows on either side, whose labels overlap it).
    oof = np.empty((len(fit), 3))
    for block in np.array_split(np.arange(len(fit)), _FOLDS):
        lo_row, hi_row = fit[block[0]], fit[block[-1]]
        keep = (fit < lo_row - h) | (fit > hi_row + h)
        oof[block] = _grow(x, y, fit[keep], config).predict(x[fit[block]], num_threads=1)
    booster = _grow(x, y, fit, config)
    calibrator = Calibrator.fit(
        calibration_inputs(oof, x[fit], h, config.cost), y[fit], config.calibration_c
    )
    cal = fit
    counts = np.bincount(y[fit], minlength=3).astype(float)
    base_rates = tuple(float(v) for v in counts / counts.sum())
    t = times.iloc
    proto = TrainedModel(
        booster=booster,
        version="",
        feature_names=FEATURE_NAMES,
        horizon=h,
        cost=config.cost,
        train_start=t[rows[0]].to_pydatetime(),
        train_end=t[rows[-1] + h].to_pydatetime(),
        calibrator=calibrator,
        payoff=Payoff.from_returns(forward[fit], config.cost),
        base_rates=base_rates,  # type: ignore[arg-type]
    )
    metrics: dict[str, Any] = {
        "format": FORMAT,
        "n_fit": len(fit),
        "n_calibration": len(cal),
        "n_test": len(test),
        "rounds": booster.current_iteration(),
        "folds": _FOLDS,
        "fit_window": [t[fit[0]].isoformat(), t[fit[-1] + h].isoformat()],
        # Calibrated on out-of-fold predictions of the fit rows themselves (purged K-fold).
        "calibration_window": [t[cal[0]].isoformat(), t[cal[-1] + h].isoformat()],
        "test_window": [t[test[0]].isoformat(), t[test[-1] + h].isoformat()],
        "base_rates": {"down": base_rates[DOWN], "flat": base_rates[FLAT], "up": base_rates[UP]},
        "breakeven_buy": proto.payoff.breakeven_buy,
        "breakeven_sell": proto.payoff.breakeven_sell,
    }
    metrics.update(_oos_metrics(proto, x[test], y[test], forward[test]))
    metrics.update(horizon=h, cost=config.cost)
    digest = hashlib.sha256(
        (
            booster.model_to_string()
            + json.dumps([calibrator.to_dict(), proto.payoff.to_dict()], sort_keys=True)
            + f"{h}/{config.cost}"
        ).encode()
    ).hexdigest()[:10]
    version = f"lgbm-{proto.train_end:%Y%m%dT%H%M}-{digest}"
    return replace(proto, version=version, metrics=metrics)


def _grow(x: np.ndarray, y: np.ndarray, rows: np.ndarray, config: ModelConfig) -> lgb.Booster:
    """A booster of ``config.max_rounds`` rounds on ``rows``, reloaded from text so the
    in-memory model is exactly what ``to_bytes``/``from_bytes`` round-trip."""
    params = config.params()
    data = lgb.Dataset(x[rows], y[rows], feature_name=list(FEATURE_NAMES), params=params)
    booster = lgb.train(params, data, num_boost_round=config.max_rounds)
    return lgb.Booster(model_str=booster.model_to_string())


def _gap_split(rows: np.ndarray, share: float, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows before ``share`` of ``rows``, and the rows after it that start ``h`` rows later."""
    cut = int(len(rows) * share)
    first, second = rows[:cut], rows[cut:]
    return first, second[second >= first[-1] + h]


def _rate(hits: np.ndarray) -> float | None:
    return float(hits.mean()) if len(hits) else None


def _oos_metrics(
    model: TrainedModel, x: np.ndarray, y: np.ndarray, forward: np.ndarray
) -> dict[str, Any]:
    """Test-slice metrics of the calibrated model; the baselines are the fit slice's base rates."""
    act, conf, proba = model.decide(x)
    prior = np.clip(np.array(model.base_rates), 1e-15, 1.0)
    p_true = np.clip(proba[np.arange(len(y)), y], 1e-15, 1.0)
    right = right_class(act) == y
    trade = act != 0
    net = act[trade] * forward[trade]
    base = prior[right_class(act)]
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
        "test_buy_hit_rate": _rate(right[act == 1]),
        "test_sell_hit_rate": _rate(right[act == -1]),
        "test_hold_hit_rate": _rate(right[act == 0]),
        # Scored like the live hit-rate job: BUY needs UP, SELL needs DOWN, HOLD needs FLAT.
        "test_hit_rate": _rate(right),
        "test_mean_confidence": float(conf.mean()),
        "test_ece": rel.ece(conf, right),
        "test_brier": rel.brier(conf, right),
        "test_brier_base_rate": rel.brier(base, right),
        # The track record every reasoning quotes: hits by confidence bin, out of sample.
        "test_reliability": rel.reliability(conf, right),
        "test_mean_gross_return_per_signal": float(net.mean()) if len(net) else None,
    }
