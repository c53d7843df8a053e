"""From scores to calibrated probabilities, and from probabilities to an action worth taking.

``Calibrator`` is multinomial logistic scaling ("Platt scaling" for three classes): a softmax of
an affine map of a few inputs (for the model, its raw log-odds), fitted with scikit-learn on
out-of-fold rows only and applied with numpy from its stored coefficients, so a stored model
needs no pickled estimator and gives the same bits wherever it is loaded. The L2 penalty pulls
the slopes toward zero, that is toward the base rates: without evidence of skill, the
probabilities say so.

``Payoff`` turns probabilities into an action. A BUY earns ``r - cost``; with ``g`` the mean
return when it is right (UP) and ``l`` the mean return when it is not, it breaks even at
``P(right) = (cost - l) / (g - l)``, SELL likewise. An action is taken only when its calibrated
P(right) beats that; otherwise the decision is HOLD, and its confidence is P(FLAT).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from photon.agents.decision.scoring import DOWN, FLAT, UP

CLASSES = 3
# Inverse L2 strength on standardised inputs; chosen on the walk-forward bench (see README).
C = 0.05


@dataclass(frozen=True)
class Calibrator:
    """``softmax(z @ coef.T + intercept)`` over the classes DOWN, FLAT, UP."""

    coef: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]

    def apply(self, z: np.ndarray) -> np.ndarray:
        """``(n, 3)`` calibrated probabilities for inputs ``z`` of shape ``(n, k)``."""
        logits = np.atleast_2d(z) @ np.array(self.coef).T + np.array(self.intercept)
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    @classmethod
    def fit(cls, z: np.ndarray, y: np.ndarray, c: float = C) -> Calibrator:
        """Fit on out-of-fold inputs ``z`` and outcomes ``y``.

        One pseudo-row of each class at the mean input keeps every class possible (a slice
        with no FLAT outcome must not make FLAT impossible) and costs each class one count.
        """
        z = np.atleast_2d(np.asarray(z, dtype=np.float64))
        y = np.asarray(y, dtype=np.int64)
        mean = z.mean(axis=0) if len(z) else np.zeros(z.shape[1])
        scale = z.std(axis=0) if len(z) > 1 else np.ones(z.shape[1])
        scale = np.where(scale > 1e-12, scale, 1.0)
        zs = np.vstack([(z - mean) / scale, np.zeros((CLASSES, z.shape[1]))])
        ys = np.r_[y, np.arange(CLASSES)]
        lr = LogisticRegression(C=c, max_iter=200, tol=1e-10).fit(zs, ys)
        coef = lr.coef_ / scale
        intercept = lr.intercept_ - coef @ mean
        return cls(
            coef=tuple(tuple(float(v) for v in row) for row in coef),
            intercept=tuple(float(v) for v in intercept),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"coef": [list(r) for r in self.coef], "intercept": list(self.intercept)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibrator:
        return cls(tuple(tuple(r) for r in d["coef"]), tuple(d["intercept"]))


@dataclass(frozen=True)
class Payoff:
    """Mean forward return when each action is right or wrong, and the break-even P(right)."""

    cost: float
    up_gain: float  # mean r when r > cost
    not_up: float  # mean r when r <= cost
    down_gain: float  # mean r when r < -cost
    not_down: float  # mean r when r >= -cost

    @classmethod
    def from_returns(cls, forward: np.ndarray, cost: float) -> Payoff:
        """From forward returns of labelled rows (training labels, never the decided bars).

        A side with no rows on either outcome cannot be priced: its break-even is 1 (never).
        """
        r = np.asarray(forward, dtype=np.float64)
        r = r[np.isfinite(r)]
        up, down = r > cost, r < -cost

        def mean(a: np.ndarray) -> float:
            return float(a.mean()) if len(a) else float("nan")

        return cls(cost, mean(r[up]), mean(r[~up]), mean(r[down]), mean(r[~down]))

    @property
    def breakeven_buy(self) -> float:
        g, lo = self.up_gain, self.not_up
        if not (np.isfinite(g) and np.isfinite(lo)) or g <= lo:
            return 1.0
        return float(min(1.0, max(0.0, (self.cost - lo) / (g - lo))))

    @property
    def breakeven_sell(self) -> float:
        g, lo = self.down_gain, self.not_down
        if not (np.isfinite(g) and np.isfinite(lo)) or lo <= g:
            return 1.0
        return float(min(1.0, max(0.0, (self.cost + lo) / (lo - g))))

    def choose(self, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``+1/-1/0`` actions and their confidence (the action's class probability).

        BUY when P(up) beats its break-even, SELL when P(down) beats its own; when both do,
        the larger expected net return wins. Everything else is HOLD, confident P(flat).
        """
        p = np.atleast_2d(proba)
        buy_ok = p[:, UP] > self.breakeven_buy
        sell_ok = p[:, DOWN] > self.breakeven_sell
        # Expected net returns; finite whenever the side is allowed at all.
        with np.errstate(invalid="ignore"):
            ev_buy = p[:, UP] * (self.up_gain - self.not_up) + self.not_up - self.cost
            ev_sell = -(p[:, DOWN] * (self.down_gain - self.not_down) + self.not_down) - self.cost
        a = np.zeros(len(p), dtype=np.int8)
        a[buy_ok & (~sell_ok | (ev_buy >= ev_sell))] = 1
        a[sell_ok & (~buy_ok | (ev_sell > ev_buy))] = -1
        conf = np.where(a == 1, p[:, UP], np.where(a == -1, p[:, DOWN], p[:, FLAT]))
        return a, conf

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Payoff:
        return cls(**d)


def track_record(table: list[dict[str, Any]] | None, confidence: float) -> str:
    """The closing sentence of a reasoning: how often out-of-sample decisions at this
    confidence were right, from a ``reliability``-shaped table of hits per bin."""
    if not table:
        return "Track record: none yet (no out-of-sample decisions to compare with)."
    k = min(int(max(0.0, min(1.0, confidence)) * len(table)), len(table) - 1)
    row = table[k]
    span = f"{row['bin_lo']:.1f}-{row['bin_hi']:.1f}"
    if not row["n"]:
        return f"Track record: no out-of-sample decision had a confidence of {span} (n = 0)."
    return (
        f"Track record: decisions at this confidence ({span}) were right "
        f"{row['hit_rate'] * 100:.0f} % of the time (n = {row['n']}, out of sample)."
    )
