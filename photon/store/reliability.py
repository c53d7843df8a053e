"""How well stated confidences match what happened: reliability bins, ECE, Brier and a binomial
interval. Pure arithmetic over arrays, here because the statistics of stored decisions need it;
model training and the quality bench use the same functions, so every figure means one thing.

``confidence`` is the stated probability that a decision is right, ``right`` whether it was.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

BINS = 10
Z95 = 1.959963984540054


def bin_index(confidence: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Equal-width bin of each confidence in [0, 1]; 1.0 falls in the last bin."""
    c = np.clip(np.asarray(confidence, dtype=np.float64), 0.0, 1.0)
    return np.minimum((c * bins).astype(np.int64), bins - 1)


def reliability(
    confidence: np.ndarray, right: np.ndarray, bins: int = BINS
) -> list[dict[str, Any]]:
    """One row per equal-width bin: ``bin_lo, bin_hi, n, mean_confidence, hit_rate`` (None when
    the bin is empty)."""
    c = np.asarray(confidence, dtype=np.float64)
    y = np.asarray(right, dtype=np.float64)
    k = bin_index(c, bins)
    n = np.bincount(k, minlength=bins)
    sum_c = np.bincount(k, weights=c, minlength=bins)
    sum_y = np.bincount(k, weights=y, minlength=bins)
    return [
        {
            "bin_lo": i / bins,
            "bin_hi": (i + 1) / bins,
            "n": int(n[i]),
            "mean_confidence": float(sum_c[i] / n[i]) if n[i] else None,
            "hit_rate": float(sum_y[i] / n[i]) if n[i] else None,
        }
        for i in range(bins)
    ]


def ece(confidence: np.ndarray, right: np.ndarray, bins: int = BINS) -> float | None:
    """Expected calibration error: the n-weighted mean |hit rate - mean confidence| over bins."""
    table = reliability(confidence, right, bins)
    total = sum(b["n"] for b in table)
    if not total:
        return None
    return float(
        sum(b["n"] * abs(b["hit_rate"] - b["mean_confidence"]) for b in table if b["n"]) / total
    )


def brier(probability: np.ndarray, right: np.ndarray) -> float | None:
    """Mean squared difference between a stated probability and the 0/1 outcome."""
    p = np.asarray(probability, dtype=np.float64)
    if not len(p):
        return None
    return float(np.mean((p - np.asarray(right, dtype=np.float64)) ** 2))


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a hit rate (95 % by default); None without decisions.

    It treats decisions as independent. Decisions on one symbol whose horizons overlap are not,
    so the true interval is wider; this one is a floor.
    """
    if n <= 0:
        return None
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def auc(score: np.ndarray, right: np.ndarray) -> float | None:
    """Area under the ROC curve of ``score`` against ``right`` (ties count half); None when one
    side is empty. 0.5 is no information."""
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(right, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if not pos or not neg:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    # Average ranks over ties.
    start = 0
    for end in np.r_[np.flatnonzero(np.diff(sorted_s)) + 1, len(s)]:
        ranks[order[start:end]] = (start + end + 1) / 2.0
        start = end
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))
