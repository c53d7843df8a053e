"""Walk-forward quality report: does the model beat buy & hold and the rules, out of sample?

Run: .venv/bin/python bench/decision_quality.py

For each real history (AAPL, MSFT, IBM, GOOG daily 2000-2013; BTCUSDT, ETHUSDT hourly 2020-2021)
the model is retrained walk-forward on past bars only and decides every later bar. Everything
below is measured on those out-of-sample bars only, from the first bar a model existed; the rules
and buy & hold are measured over the very same bars.

- hit rate: the live scoring rule (BUY right if the horizon return beat the round-trip cost, SELL
  if it lost more than the cost, HOLD if it stayed inside) over the decisions that were BUY or
  SELL ("signals", with a standard error that counts n / H independent signals because
  horizons overlap), and over all decisions (HOLD is rarely right: few moves stay inside the
  cost band). "no-skill" is what the same mix of BUYs and SELLs placed on random bars would
  score: a hit rate at or below it means no timing skill, whatever its level.
- strategy: each BUY/SELL is held for the horizon (renewed by a repeat signal, reversed by the
  opposite one), long and short, 0.2 % commission per side, all-in whole units. Sharpe is
  annualised from per-bar equity returns.

Stock prices are split-adjusted here (history.py keeps the raw traded prices): a 2:1 split
otherwise looks like a -50 % bar and hands a short a fake win.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from photon.agents.decision.model import ModelConfig
from photon.backtest import run_backtest
from photon.market.replay.bundled import load_bundled

COST = 0.004  # two sides of the backtest's 0.2 % commission
# (ticker, interval, horizon bars, retrain every N bars)
SERIES = [
    ("AAPL", "1d", 5, 63),
    ("MSFT", "1d", 5, 63),
    ("IBM", "1d", 5, 63),
    ("GOOG", "1d", 5, 63),
    ("BTCUSDT", "1h", 24, 720),
    ("ETHUSDT", "1h", 24, 720),
]
# The splits inside the bundled windows (see photon/market/history.py): date, ratio.
SPLITS = {"AAPL": [("2000-06-21", 2.0), ("2005-02-28", 2.0)], "MSFT": [("2003-02-18", 2.0)]}


def split_adjusted(df: pd.DataFrame, ticker: str) -> pd.DataFrame:
    df = df.copy()
    for day, ratio in SPLITS.get(ticker, []):
        before = df["open_time"] < pd.Timestamp(day, tz="UTC")
        df.loc[before, ["open", "high", "low", "close"]] /= ratio
        df.loc[before, "volume"] *= ratio
    return df


def hit_rates(actions: np.ndarray, forward: np.ndarray, horizon: int) -> dict[str, float]:
    up, down = forward > COST, forward < -COST
    right = np.where(actions == 1, up, np.where(actions == -1, down, ~up & ~down))
    buy, sell = actions == 1, actions == -1
    n = int(buy.sum() + sell.sum())
    hit = float(right[buy | sell].mean()) if n else math.nan
    # Overlapping horizons make neighbouring signals near-duplicates: count n / H independent ones.
    se = math.sqrt(hit * (1 - hit) / max(1.0, n / horizon)) if n else math.nan
    return {
        "signals": n,
        "signal_hit": hit,
        "signal_se": se,
        # The same BUY/SELL mix placed at random bars: what no timing skill scores.
        "mix_base": (buy.sum() * up.mean() + sell.sum() * down.mean()) / n if n else math.nan,
        "all_hit": float(right.mean()),
    }


def bh_sharpe(close: np.ndarray, per_year: float) -> float:
    r = np.diff(close) / close[:-1]
    return float(r.mean() / r.std(ddof=1) * math.sqrt(per_year))


def evaluate(ticker: str, interval: str, horizon: int, every: int) -> list[dict]:
    df = split_adjusted(load_bundled(ticker, interval), ticker)
    config = ModelConfig(horizon=horizon, cost=COST)
    lot = 1.0 if interval == "1d" else 1e-6  # whole shares; crypto in micro-units
    t0 = time.perf_counter()
    model = run_backtest(df, "model", config=config, retrain_every=every, lot=lot)
    elapsed = time.perf_counter() - t0
    start = model.first_bar_time
    first = int(df["open_time"].searchsorted(pd.Timestamp(start)))
    rules = run_backtest(df, "rules", start=start, hold=horizon, lot=lot)
    close = df["close"].to_numpy()
    last = len(df) - horizon  # decisions whose horizon is complete
    forward = close[first + horizon :] / close[first:last] - 1.0
    rows = []
    for name, res in (("model", model), ("rules", rules)):
        acts = res.actions[len(res.actions) - (len(df) - first) :]  # from `first` on
        rows.append(
            {
                "series": f"{ticker} {interval}",
                "strategy": name,
                "oos": f"{start:%Y-%m-%d}..{df['open_time'].iloc[-1]:%Y-%m-%d}",
                "bars": len(df) - first,
                **hit_rates(acts[: last - first], forward, horizon),
                "return": res.return_pct,
                "sharpe": res.sharpe,
                "max_dd": res.max_drawdown_pct,
                "trades": res.n_trades,
                "win": res.win_rate_pct,
                "bh_return": res.buy_hold_pct,
                "bh_sharpe": bh_sharpe(close[first:], res.bars_per_year),
                "seconds": elapsed if name == "model" else math.nan,
                "models": len(model.info.get("models", [])),
            }
        )
    return rows


def main() -> None:
    rows = []
    for spec in SERIES:
        rows.extend(evaluate(*spec))
    print(f"Walk-forward, out of sample only; cost {COST:.2%} round trip; H = horizon in bars.\n")
    print(
        "| series | strategy | OOS window | bars | signals | signal hit | no-skill | all hit "
        "| return % | Sharpe | max DD % | trades | win % | B&H % | B&H Sharpe |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['series']} | {r['strategy']} | {r['oos']} | {r['bars']} | {r['signals']} | "
            f"{r['signal_hit']:.1%} ± {r['signal_se']:.1%} | {r['mix_base']:.1%} | "
            f"{r['all_hit']:.1%} | "
            f"{r['return']:.1f} | {r['sharpe']:.2f} | {r['max_dd']:.1f} | {r['trades']} | "
            f"{r['win']:.1f} | {r['bh_return']:.1f} | {r['bh_sharpe']:.2f} |"
        )
    model_rows = [r for r in rows if r["strategy"] == "model"]
    rules_rows = [r for r in rows if r["strategy"] == "rules"]
    print()
    for label, rs in (("model", model_rows), ("rules", rules_rows)):
        beat_bh = sum(r["sharpe"] > r["bh_sharpe"] for r in rs)
        edge = [r["signal_hit"] - r["mix_base"] for r in rs if not math.isnan(r["signal_hit"])]
        print(
            f"{label}: Sharpe above buy & hold on {beat_bh}/{len(rs)} series; signal hit rate "
            f"minus no-skill: mean {np.mean(edge):+.1%}, above on {sum(e > 0 for e in edge)}"
            f"/{len(edge)} series"
        )
    beat_rules = sum(m["sharpe"] > r["sharpe"] for m, r in zip(model_rows, rules_rows, strict=True))
    print(f"model Sharpe above rules on {beat_rules}/{len(model_rows)} series")
    print("walk-forward fits: " + ", ".join(
        f"{r['series']} {r['models']} models in {r['seconds']:.1f} s" for r in model_rows
    ))  # fmt: skip


if __name__ == "__main__":
    main()
