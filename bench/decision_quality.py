"""Walk-forward decision quality: is the confidence a probability, and is there any skill?

Run: .venv/bin/python bench/decision_quality.py [--png docs/reliability.png] [--only AAPL,...]

For each bundled real history (AAPL, MSFT, IBM, GOOG daily 2000-2013, split- and
dividend-adjusted; BTCUSDT, ETHUSDT hourly 2020-2021) the model is retrained walk-forward on
past bars only, on the live schedule (``RETRAIN_EVERY_BARS``) and horizon (``HORIZON_BARS``),
and decides every later bar; the calibrated rules decide the same bars. Everything is measured
on those out-of-sample bars only, from the first bar a model existed, and only on decisions
whose horizon is complete.

- "Right" is ``scoring``'s: the return ``H`` bars later beyond the cost for BUY, below minus
  the cost for SELL, inside for HOLD. Confidence is the calibrated P(right).
- ECE: 10 equal-width bins, n-weighted |hit rate - mean confidence|. Brier: mean (confidence -
  right)^2; its baseline states, for each decision, the base rate of its action's outcome in
  the training labels; skill = 1 - Brier / baseline (> 0: better than the base rate). AUC of
  confidence against right (0.5: no ranking information).
- always-HOLD states, at every bar, the share of FLAT outcomes among all earlier labelled bars.
- strategies: each BUY/SELL held for the horizon (renewed by a repeat, reversed by the
  opposite), long and short, 0.2 % commission per side; sma-cross is backtesting.py's SmaCross
  (10/20); buy & hold from the first out-of-sample bar. Sharpe is annualised per bar.

Overlapping horizons make neighbouring decisions near-duplicates: the hit-rate interval
(Wilson, 95 %) is a floor on the real uncertainty.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from photon.agents.decision.agent import HORIZON_BARS, RETRAIN_EVERY_BARS
from photon.agents.decision.model import ModelConfig
from photon.agents.decision.scoring import FLAT, forward_returns, outcomes, right_class
from photon.backtest import run_backtest
from photon.market.replay.bundled import load_bundled
from photon.store import reliability as rel
from photon.types import COST

SERIES = [("AAPL", "1d"), ("MSFT", "1d"), ("IBM", "1d"), ("GOOG", "1d"),
          ("BTCUSDT", "1h"), ("ETHUSDT", "1h")]  # fmt: skip
ROOT = Path(__file__).resolve().parents[1]


def scored(res, df: pd.DataFrame, first: int, horizon: int) -> dict[str, np.ndarray]:
    """The decisions of a run whose horizon is complete, with whether each was right."""
    d = res.decisions
    offset = len(df) - len(d.actions)  # the run's window starts here in ``df``
    close = df["close"].to_numpy()
    fwd = forward_returns(close, horizon)
    idx = np.array([i for i in d.decided() if first <= i + offset < len(fwd)], dtype=np.int64)
    y = outcomes(fwd[idx + offset], COST)
    a = d.actions[idx]
    return {
        "bar": idx + offset,
        "action": a,
        "confidence": d.confidence[idx],
        "base": d.base_rate[idx],
        "right": right_class(a) == y,
        "y": y,
    }


def quality(s: dict[str, np.ndarray]) -> dict[str, float | int | None]:
    c, r, b = s["confidence"], s["right"], s["base"]
    brier, base = rel.brier(c, r), rel.brier(b, r)
    return {
        "n": len(c),
        "hit": float(r.mean()) if len(r) else math.nan,
        "conf": float(c.mean()) if len(c) else math.nan,
        "ece": rel.ece(c, r),
        "brier": brier,
        "brier_base": base,
        "skill": (1 - brier / base) if brier is not None and base else None,
        "auc": rel.auc(c, r),
    }


def subset(s: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[mask] for k, v in s.items()}


def always_hold(df: pd.DataFrame, first: int, horizon: int) -> dict[str, np.ndarray]:
    """HOLD everywhere, stating the FLAT share of the labels known at each bar."""
    fwd = forward_returns(df["close"].to_numpy(), horizon)
    y = outcomes(fwd, COST)
    flat = np.r_[0.0, np.cumsum(y == FLAT)]
    idx = np.arange(first, len(fwd))
    known = idx - horizon + 1  # labels complete at bar i: rows 0 .. i - horizon
    conf = (flat[np.maximum(known, 0)] + 1) / (np.maximum(known, 0) + 3)
    return {"bar": idx, "action": np.zeros(len(idx), dtype=np.int8), "confidence": conf,
            "base": conf, "right": y[idx] == FLAT, "y": y[idx]}  # fmt: skip


def bh_sharpe(close: np.ndarray, per_year: float) -> float:
    r = np.diff(close) / close[:-1]
    return float(r.mean() / r.std(ddof=1) * math.sqrt(per_year))


def evaluate(ticker: str, interval: str) -> dict:
    df = load_bundled(ticker, interval)
    h = HORIZON_BARS[interval]
    config = ModelConfig(horizon=h, cost=COST)
    lot = 1.0 if interval == "1d" else 1e-6  # whole shares; crypto in micro-units
    t0 = time.perf_counter()
    model = run_backtest(df, "model", config=config, retrain_every=RETRAIN_EVERY_BARS[interval],
                         lot=lot)  # fmt: skip
    t_model = time.perf_counter() - t0
    start = model.first_bar_time
    first = int(df["open_time"].searchsorted(pd.Timestamp(start)))
    t0 = time.perf_counter()
    rules = run_backtest(df, "rules", start=start, config=config, lot=lot)
    t_rules = time.perf_counter() - t0
    sma = run_backtest(df, "sma-cross", start=start, lot=lot)
    close = df["close"].to_numpy()
    return {
        "series": f"{ticker} {interval}",
        "horizon": h,
        "window": f"{start:%Y-%m-%d}..{df['open_time'].iloc[-1]:%Y-%m-%d}",
        "bars": len(df) - first,
        "model": scored(model, df, first, h),
        "rules": scored(rules, df, first, h),
        "hold": always_hold(df, first, h),
        "runs": {"model": model, "rules": rules, "sma-cross": sma},
        "bh_return": model.buy_hold_pct,
        "bh_sharpe": bh_sharpe(close[first:], model.bars_per_year),
        "seconds": {"model": t_model, "rules": t_rules},
        "n_models": len(model.info.get("models", [])),
    }


def fmt(v, spec: str = ".3f") -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def quality_table(results: list[dict]) -> list[str]:
    lines = [
        "| series | decider | decisions | hit rate | mean confidence | ECE | ECE BUY/SELL "
        "(n) | ECE HOLD (n) | Brier | Brier base rate | skill | AUC |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    pooled: dict[str, list[dict]] = {"model": [], "rules": [], "hold": []}
    for r in [*results, None]:
        for who, label in (("model", "model"), ("rules", "rules"), ("hold", "always-HOLD")):
            if r is None:
                s = {k: np.concatenate([p[k] for p in pooled[who]]) for k in pooled[who][0]}
                name = "pooled"
            else:
                s, name = r[who], r["series"]
                pooled[who].append(s)
            q = quality(s)
            trade = s["action"] != 0
            qt, qh = quality(subset(s, trade)), quality(subset(s, ~trade))
            lines.append(
                f"| {name} | {label} | {q['n']} | {fmt(q['hit'], '.1%')} | {fmt(q['conf'])} | "
                f"{fmt(q['ece'])} | {fmt(qt['ece'])} ({qt['n']}) | {fmt(qh['ece'])} ({qh['n']}) | "
                f"{fmt(q['brier'], '.4f')} | {fmt(q['brier_base'], '.4f')} | "
                f"{fmt(q['skill'], '+.3f')} | {fmt(q['auc'])} |"
            )
    return lines


def strategy_table(results: list[dict]) -> list[str]:
    lines = [
        "| series | OOS window | bars | model BUY/SELL | model return % (Sharpe) | rules BUY/SELL "
        "| rules return % (Sharpe) | sma-cross % (Sharpe) | always-HOLD % | buy & hold % "
        "(Sharpe) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        runs = r["runs"]

        def perf(name: str, runs=runs) -> str:
            return f"{runs[name].return_pct:.1f} ({fmt(runs[name].sharpe, '.2f')})"

        def counts(who: str, r=r) -> str:
            a = r[who]["action"]
            return f"{int((a == 1).sum())}/{int((a == -1).sum())}"

        lines.append(
            f"| {r['series']} | {r['window']} | {r['bars']} | {counts('model')} | "
            f"{perf('model')} | {counts('rules')} | {perf('rules')} | {perf('sma-cross')} | 0.0 | "
            f"{r['bh_return']:.1f} ({r['bh_sharpe']:.2f}) |"
        )
    return lines


def diagram(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 5), dpi=110)
    for ax, who, title in ((axes[0], "model", "LightGBM"), (axes[1], "rules", "rules ensemble")):
        ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="perfect calibration")
        for group, mask_of, marker in (
            ("BUY/SELL", lambda s: s["action"] != 0, "o"),
            ("HOLD", lambda s: s["action"] == 0, "s"),
        ):
            s = {k: np.concatenate([r[who][k][mask_of(r[who])] for r in results])
                 for k in results[0][who]}  # fmt: skip
            bins = [b for b in rel.reliability(s["confidence"], s["right"]) if b["n"] >= 20]
            if not bins:
                continue
            ax.plot([b["mean_confidence"] for b in bins], [b["hit_rate"] for b in bins],
                    marker=marker, label=f"{group} (n = {len(s['right'])}, ECE "
                    f"{fmt(rel.ece(s['confidence'], s['right']))})")  # fmt: skip
            for b in bins:
                ax.annotate(str(b["n"]), (b["mean_confidence"], b["hit_rate"]), fontsize=7,
                            xytext=(3, -9), textcoords="offset points", color="0.35")  # fmt: skip
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="stated confidence (bin mean)",
               ylabel="share right", title=f"{title}: pooled out of sample")  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle("Reliability of decision confidence, walk-forward on 6 bundled series "
                 "(bins with n >= 20; numbers are n)", fontsize=10)  # fmt: skip
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "reliability.png")
    parser.add_argument("--only", help="comma-separated tickers (default: all six)")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    results = [evaluate(t, i) for t, i in SERIES if only is None or t in only]
    print(f"Walk-forward, out of sample only; cost {COST:.2%} round trip; horizon "
          f"{HORIZON_BARS} bars; retrained every {RETRAIN_EVERY_BARS} bars.\n")  # fmt: skip
    print("\n".join(quality_table(results)))
    print()
    print("\n".join(strategy_table(results)))
    print()
    print("walk-forward: " + ", ".join(
        f"{r['series']} {r['n_models']} models in {r['seconds']['model']:.0f} s, rules in "
        f"{r['seconds']['rules']:.0f} s" for r in results
    ))  # fmt: skip
    diagram(results, args.png)
    print(f"reliability diagram: {args.png}")


if __name__ == "__main__":
    main()
