"""A tight-loop backtester with backtesting.py 0.6.6's fill and sizing rules.

Semantics, copied from ``backtesting._Broker`` with ``exclusive_orders=True``, no spread and no
margin, so Photon's sma-cross reproduces backtesting.py's SmaCross trade for trade:

- An order decided on bar ``i``'s close fills at bar ``i+1``'s open. An order on the last bar
  never fills.
- Each order first closes the open trade at that open: cash += size * (open - entry) minus
  commission = |size| * open * rate.
- Then it opens all-in: units = int(cash * (1 - eps) // (open + (1 - eps) * open * rate /
  (1 - eps))), the broker's "size = 0.9999" arithmetic, and pays |units| * open * rate at entry.
  Zero units means the order is dropped (counted in ``info["orders_dropped"]``). ``lot`` below 1
  trades fractions (e.g. 1e-6 BTC); with the default 1 the arithmetic is backtesting.py's.
- Equity at every bar is cash + (close * size - size * entry), marked at the close.
- A trade still open at the end stays open: it is not in ``trades`` or ``n_trades`` (as
  backtesting.py without ``finalize_trades``), and the final equity marks it to market.
- If equity reaches 0 the account is closed out and stays at 0.

The loop runs over orders, not bars, and the equity curve between two orders is one vector
operation, so a run costs about the number of trades, not the number of bars.
"""

from __future__ import annotations

import csv
import math
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from photon.agents.decision.model import ModelConfig
from photon.backtest import strategies
from photon.errors import Conflict, Invalid
from photon.types import COST

STRATEGIES = ("sma-cross", "rules", "model")
_FULL = 1 - sys.float_info.epsilon  # backtesting.py's default order size, shown as .9999


@dataclass(frozen=True)
class Trade:
    size: float  # units (an int with lot 1); negative for a short
    entry_time: datetime
    entry_price: float
    exit_time: datetime | None
    exit_price: float | None
    pnl: float  # net of entry and exit commission; for an open trade, marked at the last close
    commission: float
    return_pct: float


@dataclass
class BacktestResult:
    strategy: str
    start: datetime
    end: datetime
    first_bar_time: datetime  # first bar the strategy could act on; buy & hold starts here
    return_pct: float
    buy_hold_pct: float
    n_trades: int
    win_rate_pct: float  # share of closed trades with pnl > 0; NaN with no trades
    sharpe: float  # mean / std of per-bar equity returns * sqrt(bars per year); NaN if flat
    max_drawdown_pct: float  # <= 0
    final_equity: float
    bars_per_year: float  # measured: bars in the run / years it spans
    trades: list[Trade]
    open_trade: Trade | None
    equity: pd.Series  # indexed by open_time, from ``start`` to ``end``
    info: dict[str, Any] = field(default_factory=dict)
    actions: np.ndarray | None = None  # rules/model: per-bar +1/-1/0 from ``start`` to ``end``
    # rules/model: every bar's decision from ``start`` to ``end`` (NaN confidence: none).
    decisions: strategies.Decisions | None = None
    prices: np.ndarray | None = None  # closes from ``start`` to ``end``, beside ``decisions``

    def stats(self) -> dict[str, Any]:
        """The headline figures, JSON-safe (NaN becomes None)."""
        keys = ("return_pct", "buy_hold_pct", "n_trades", "win_rate_pct", "sharpe",
                "max_drawdown_pct", "final_equity", "bars_per_year")  # fmt: skip
        out: dict[str, Any] = {"strategy": self.strategy}
        for k in keys:
            v = getattr(self, k)
            out[k] = None if isinstance(v, float) and math.isnan(v) else v
        out.update(start=self.start.isoformat(), end=self.end.isoformat())
        return out

    def summary(self) -> str:
        """A printable report of the headline figures."""
        rows = [
            ("Strategy", self.strategy),
            ("Period", f"{self.start:%Y-%m-%d %H:%M} .. {self.end:%Y-%m-%d %H:%M} "
                       f"({len(self.equity)} bars)"),
            ("Trading from", f"{self.first_bar_time:%Y-%m-%d %H:%M}"),
            ("Return", f"{self.return_pct:.2f} %"),
            ("Buy & hold", f"{self.buy_hold_pct:.2f} %"),
            ("Trades", f"{self.n_trades}" + (" (+1 open)" if self.open_trade else "")),
            ("Win rate", f"{self.win_rate_pct:.2f} %"),
            ("Sharpe", f"{self.sharpe:.2f} (annualised, {self.bars_per_year:.0f} bars/year)"),
            ("Max drawdown", f"{self.max_drawdown_pct:.2f} %"),
            ("Final equity", f"{self.final_equity:,.2f}"),
        ]  # fmt: skip
        return "\n".join(f"{k:<14}{v}" for k, v in rows)


def frame_from_ohlcv(ohlcv: pd.DataFrame) -> pd.DataFrame:
    """A backtesting.py-style frame (DatetimeIndex; Open, High, ...) as a Photon bars frame."""
    times = pd.DatetimeIndex(ohlcv.index)
    times = times.tz_localize("UTC") if times.tz is None else times.tz_convert("UTC")
    names = ("Open", "High", "Low", "Close", "Volume")
    columns = {c.lower(): ohlcv[c].to_numpy(dtype=np.float64) for c in names}
    return pd.DataFrame({"open_time": times, **columns})


def run_backtest(
    df: pd.DataFrame,
    strategy: str = "sma-cross",
    *,
    cash: float = 10_000,
    commission: float = 0.002,
    start: datetime | None = None,
    end: datetime | None = None,
    progress: strategies.Progress | None = None,
    fast: int = 10,
    slow: int = 20,
    config: ModelConfig | None = None,
    retrain_every: int = 250,
    hold: int | None = None,
    allow_short: bool = True,
    lot: float = 1.0,
) -> BacktestResult:
    """Backtest ``strategy`` on the bars of ``df`` between ``start`` and ``end`` (inclusive).

    Bars after ``end`` are dropped first, so nothing can look past it. Bars before ``start`` are
    kept: indicators warm up on them and the model trains on them, but no order is placed there.
    ``hold`` (rules, model) is how many bars a BUY/SELL is held unless renewed or reversed.
    ``lot`` is the smallest tradable quantity: 1 share, or e.g. 1e-6 for crypto, where whole
    units of a 30,000 USD coin would not fit in the default cash.
    """
    if strategy not in STRATEGIES:
        raise Invalid(f"unknown strategy {strategy!r}", errors={"strategy": list(STRATEGIES)})
    times = df["open_time"]
    if end is not None:
        df = df.iloc[: int(times.searchsorted(pd.Timestamp(end), side="right"))]
        times = df["open_time"]
    lo = 0 if start is None else int(times.searchsorted(pd.Timestamp(start), side="left"))
    hi = len(df) - 1
    if hi - lo < 2:
        raise Conflict(f"{max(0, hi - lo + 1)} bars in the backtest window; need at least 3")
    close = df["close"].to_numpy(dtype=np.float64)
    open_ = df["open"].to_numpy(dtype=np.float64)
    if strategy == "sma-cross":
        orders = strategies.sma_cross(close, lo, hi, fast, slow)
        orders.info = {"fast": fast, "slow": slow}
    elif strategy == "rules":
        # The rules calibrate on the horizon they are held for: the model's when one is given.
        horizon = hold or (config.horizon if config else strategies.DEFAULT_HORIZON)
        cost = config.cost if config else COST
        orders = strategies.rules_strategy(
            df, lo, hi, hold=horizon, allow_short=allow_short, cost=cost
        )
    else:
        orders = strategies.model_strategy(
            df, lo, hi, config=config, retrain_every=retrain_every, hold=hold,
            allow_short=allow_short, progress=progress,
        )  # fmt: skip
    equity, closed, open_trade, dropped = _simulate(
        open_, close, times, orders, lo, hi, cash, commission, lot
    )
    orders.info["orders_dropped"] = dropped
    if progress:
        progress(1.0)
    return _result(strategy, times, close, equity, closed, open_trade, orders, lo, hi)


def _simulate(
    open_: np.ndarray,
    close: np.ndarray,
    times: pd.Series,
    orders: strategies.Orders,
    lo: int,
    hi: int,
    cash: float,
    rate: float,
    lot: float,
) -> tuple[np.ndarray, list[Trade], Trade | None, int]:
    cash = float(cash)
    equity = np.empty(hi + 1 - lo)
    size, entry, entry_bar = 0, 0.0, -1
    raw: list[tuple[int, int, float, int, float, float]] = []  # size, bars, prices, exit fee
    done = lo  # equity is written for bars lo .. done-1
    dropped = 0

    def mark(stop: int) -> int | None:
        """Write equity for bars done .. stop-1; the bar where money ran out, if it did."""
        seg = slice(done - lo, stop - lo)
        equity[seg] = cash + (close[done:stop] * size - size * entry) if size else cash
        broke = np.flatnonzero(equity[seg] <= 0)
        if len(broke):
            equity[done - lo + broke[0] :] = 0.0
            return done + int(broke[0])
        return None

    broke = None
    for bar, direction in zip(orders.bars.tolist(), orders.directions.tolist(), strict=True):
        fill = bar + 1
        if (broke := mark(fill)) is not None:
            break
        done = fill
        price = float(open_[fill])
        if size:
            fee = abs(size) * price * rate
            cash += size * (price - entry) - fee
            raw.append((size, entry_bar, entry, fill, price, fee))
            size = 0
        if direction:
            per_unit = price + (_FULL * price * rate) / _FULL
            units = int((cash * 1.0 * _FULL) // (per_unit if lot == 1 else per_unit * lot))
            qty = units if lot == 1 else units * lot
            if units > 0 and not qty * per_unit > cash:
                size, entry, entry_bar = direction * qty, price, fill
                cash -= qty * price * rate
            else:
                dropped += 1
    if broke is None:
        broke = mark(hi + 1)
    if size and broke is not None:  # out of money: closed out at that bar's close
        price = float(close[broke])
        raw.append((size, entry_bar, entry, broke, price, abs(size) * price * rate))
        size = 0
    if size:
        raw.append((size, entry_bar, entry, -1, float(close[hi]), 0.0))
    # Timestamps are boxed once for all trades: per-trade pandas lookups cost more than the loop.
    stamps = pd.DatetimeIndex(times.iloc[[b for r in raw for b in (r[1], r[3])]]).to_pydatetime()
    trades = []
    for k, (sz, _eb, ep, xb, xp, xfee) in enumerate(raw):
        fees = xfee + abs(sz) * ep * rate
        pnl = sz * (xp - ep) - fees
        is_open = xb < 0
        trades.append(
            Trade(sz, stamps[2 * k], ep, None if is_open else stamps[2 * k + 1],
                  None if is_open else xp, pnl, fees, pnl / (abs(sz) * ep) * 100)
        )  # fmt: skip
    if size:
        return equity, trades[:-1], trades[-1], dropped
    return equity, trades, None, dropped


def _result(
    strategy: str,
    times: pd.Series,
    close: np.ndarray,
    equity: np.ndarray,
    closed: list[Trade],
    open_trade: Trade | None,
    orders: strategies.Orders,
    lo: int,
    hi: int,
) -> BacktestResult:
    first = min(orders.first_bar, hi)
    t0, t1 = times.iloc[lo], times.iloc[hi]
    years = (t1 - t0).total_seconds() / (365.25 * 86400)
    per_year = (hi - lo) / years if years > 0 else float("nan")
    live = equity[first - lo :]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.diff(live) / live[:-1]
    r = r[np.isfinite(r)]
    sd = float(np.std(r, ddof=1)) if len(r) > 1 else 0.0
    sharpe = float(np.mean(r) / sd * math.sqrt(per_year)) if sd > 0 else float("nan")
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, equity / peak - 1.0, -1.0)
    wins = [t.pnl > 0 for t in closed]
    return BacktestResult(
        strategy=strategy,
        start=t0.to_pydatetime(),
        end=t1.to_pydatetime(),
        first_bar_time=times.iloc[first].to_pydatetime(),
        return_pct=float((equity[-1] - equity[0]) / equity[0] * 100),
        buy_hold_pct=float((close[hi] - close[first]) / close[first] * 100),
        n_trades=len(closed),
        win_rate_pct=float(np.mean(wins) * 100) if wins else float("nan"),
        sharpe=sharpe,
        max_drawdown_pct=float(dd.min() * 100),
        final_equity=float(equity[-1]),
        bars_per_year=float(per_year),
        trades=closed,
        open_trade=open_trade,
        equity=pd.Series(equity, index=pd.DatetimeIndex(times.iloc[lo : hi + 1]), name="equity"),
        info=orders.info,
        actions=None if orders.actions is None else orders.actions[lo : hi + 1],
        decisions=_window(orders.decisions, lo, hi),
        prices=close[lo : hi + 1],
    )


def _window(d: strategies.Decisions | None, lo: int, hi: int) -> strategies.Decisions | None:
    if d is None:
        return None
    w = slice(lo, hi + 1)
    return strategies.Decisions(d.actions[w], d.confidence[w], d.proba[w], d.base_rate[w],
                                d.model[w], d.horizon, d.cost)  # fmt: skip


DECISION_COLUMNS = ("bar_time", "action", "confidence", "p_up", "p_down", "p_flat", "price",
                    "horizon_bars", "cost", "model")  # fmt: skip


def write_decisions_csv(result: BacktestResult, path: str | Path) -> int:
    """Every decision of a rules or model run as CSV (``DECISION_COLUMNS``), so anyone can score
    it against the raw prices: BUY is right when ``close`` ``horizon_bars`` bars later is above
    ``price * (1 + cost)``, SELL below ``price * (1 - cost)``, HOLD in between. Returns the rows
    written; bars without a decision (before the first model) are left out."""
    d = result.decisions
    if d is None or result.prices is None:
        raise Invalid(f"strategy {result.strategy!r} makes no decisions to write")
    names = {1: "BUY", -1: "SELL", 0: "HOLD"}
    times = result.equity.index
    rows = d.decided()
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(DECISION_COLUMNS)
        for i in rows:
            # repr: the shortest text that reads back as the same float.
            numbers = [d.confidence[i], d.proba[i, 2], d.proba[i, 0], d.proba[i, 1]]
            w.writerow(
                [times[i].isoformat(), names[int(d.actions[i])]]
                + [repr(float(v)) for v in numbers]
                + [repr(float(result.prices[i])), d.horizon, repr(float(d.cost)), d.model[i]]
            )
    return len(rows)


def write_equity_csv(result: BacktestResult, path: str | Path) -> None:
    """The equity curve as CSV: ``open_time,equity,drawdown_pct``."""
    eq = result.equity.to_numpy()
    peak = np.maximum.accumulate(eq)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, (eq / peak - 1.0) * 100, -100.0)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["open_time", "equity", "drawdown_pct"])
        for t, e, d in zip(result.equity.index, eq, dd, strict=True):
            w.writerow([t.isoformat(), f"{e:.6f}", f"{d:.6f}"])
