"""Photon's sma-cross against backtesting.py 0.6.6 on GOOG, in one run: time and identical trades.

Run: .venv/bin/python bench/backtest_speed.py
Both sides run the whole backtest from a ready DataFrame (backtesting.py: ``Backtest(...).run()``;
Photon: ``run_backtest`` including its SMA computation and statistics). Median of repeated runs.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bar

from backtesting import Backtest
from backtesting.test import GOOG

from photon.backtest import frame_from_ohlcv, run_backtest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the peer lives in tests/
from tests.backtest.peer import SmaCross


def _time(fn, repeat: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    warnings.simplefilter("ignore")  # backtesting.py: "some trades remain open" (the setting)
    frame = frame_from_ohlcv(GOOG)

    def peer():
        return Backtest(GOOG, SmaCross, cash=10_000, commission=0.002, exclusive_orders=True).run()

    def photon():
        return run_backtest(frame, "sma-cross", cash=10_000, commission=0.002)

    peer(), photon()  # warm caches and imports on both sides
    t_peer, stats = _time(peer, 15)
    t_photon, result = _time(photon, 200)
    trades = stats["_trades"]
    same = (
        [t.size for t in result.trades] == trades["Size"].tolist()
        and [t.entry_price for t in result.trades] == trades["EntryPrice"].tolist()
        and [t.exit_price for t in result.trades] == trades["ExitPrice"].tolist()
    )
    print(f"GOOG daily, {len(GOOG)} bars, SmaCross(10, 20), commission 0.2 %, cash 10,000")
    print("| engine | median time | # trades | final equity | return |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| backtesting.py 0.6.6 | {t_peer * 1e3:.2f} ms | {stats['# Trades']} | "
        f"{stats['Equity Final [$]']:,.2f} | {stats['Return [%]']:.2f} % |"
    )
    print(
        f"| Photon sma-cross | {t_photon * 1e3:.2f} ms | {result.n_trades} | "
        f"{result.final_equity:,.2f} | {result.return_pct:.2f} % |"
    )
    print(f"speed-up: Photon is {t_peer / t_photon:.1f}x faster (goal >= 5x)")
    print(f"identical trades (size, entry, exit): {same}")
    print(f"final equity difference: {abs(result.final_equity - stats['Equity Final [$]']):.2e}")


if __name__ == "__main__":
    main()
