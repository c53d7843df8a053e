"""Photon's backtester: sma-cross (backtesting.py-compatible), rules and walk-forward model."""

from photon.backtest.engine import (
    STRATEGIES,
    BacktestResult,
    Trade,
    frame_from_ohlcv,
    run_backtest,
    write_decisions_csv,
    write_equity_csv,
)

__all__ = [
    "STRATEGIES",
    "BacktestResult",
    "Trade",
    "frame_from_ohlcv",
    "run_backtest",
    "write_decisions_csv",
    "write_equity_csv",
]
