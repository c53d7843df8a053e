"""Regenerate ``photon/data/history`` from the raw fixtures in ``../shared/fixtures/history``.

    .venv/bin/python tools/make_history.py [RAW_DIR]

Cleans each raw file with the loaders in ``tools.history`` and writes the compact bundled
copies. Daily stock series are adjusted for splits and dividends (``adjusted`` below): the
decision model, its labels and the replay all read these files, and a 2:1 split in raw prices
reads as a -50 % move. The hourly crypto series keep only the last ``HOURLY_WINDOW`` before
their newest complete bar, which is enough for a replay and keeps the package small. The
output is byte-for-byte reproducible, so rerunning it on unchanged input leaves git clean.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from photon.market.replay.bundled import bundled_name, write_bundled  # noqa: E402
from tools.history import load_bokeh_csv, load_cryptodatadownload_csv  # noqa: E402

DEFAULT_RAW = ROOT.parent / "shared" / "fixtures" / "history"
OUT = ROOT / "photon" / "data" / "history"
HOURLY_WINDOW = pd.Timedelta(days=365)

# A day-to-day change of adj_close/close beyond this is a split (2:1 is 2.0, 3:2 is 1.5);
# smaller ones are dividends (the largest in these files, MSFT's $3 special dividend of
# 2004-11-15, is 1.11).
SPLIT_STEP = 1.25
DECIMALS = 6

# (ticker, interval, raw file, loader, keep only the recent window, adjust with adj_close)
SERIES = [
    ("AAPL", "1d", "aapl_1d.csv", load_bokeh_csv, False, True),
    ("MSFT", "1d", "msft_1d.csv", load_bokeh_csv, False, True),
    ("IBM", "1d", "ibm_1d.csv", load_bokeh_csv, False, True),
    ("GOOG", "1d", "goog_1d.csv", load_bokeh_csv, False, True),
    ("BTCUSDT", "1h", "btcusdt_1h.csv", load_cryptodatadownload_csv, True, False),
    ("ETHUSDT", "1h", "ethusdt_1h.csv", load_cryptodatadownload_csv, True, False),
    ("BTCUSDT", "1d", "btcusdt_d.csv", load_cryptodatadownload_csv, False, False),
]


def adjusted(frame: pd.DataFrame, raw_path: Path) -> tuple[pd.DataFrame, list[str]]:
    """OHLC scaled by ``adj_close / close``, renormalised to 1 on the last bar; volume scaled by
    the split factor only. Returns the frame and one line per split found.

    Why splits and dividends, and why anchored at the end: a decision is scored on the return
    over its horizon, and the adjusted return is what a holder earned (a short pays the dividend,
    so it is no gain for a SELL either); raw prices turn a split into a crash and MSFT's special
    dividend into a -10 % day. The vendor's adj_close is relative to a later date (AAPL's is
    1/7.7 of close in 2013, after splits that came later), so it is renormalised: the last bar
    keeps its traded prices and earlier bars are scaled to it. Volume counts shares: only splits
    change it, so it is multiplied by the split factor and never by a dividend's.
    """
    raw = pd.read_csv(raw_path)
    times = pd.to_datetime(raw["date"], format="%Y-%m-%d", utc=True)
    ratio = pd.Series((raw["adj_close"] / raw["close"]).to_numpy(), index=times)
    ratio = ratio[~ratio.index.duplicated(keep="last")].reindex(frame["open_time"]).to_numpy()
    if not np.isfinite(ratio).all():
        raise SystemExit(f"{raw_path}: adj_close missing for some cleaned bars")
    factor = ratio / ratio[-1]
    step = ratio[1:] / ratio[:-1]
    split_at = np.flatnonzero((step > SPLIT_STEP) | (step < 1 / SPLIT_STEP)) + 1
    split = np.ones(len(frame))
    notes = []
    for i in split_at:
        # Bars before a split traded at `step` times the later price for 1/step the shares.
        split[:i] *= step[i - 1]
        when = frame["open_time"].iloc[i]
        notes.append(f"  split {step[i - 1]:.3f}:1 on {when:%Y-%m-%d}")
    out = frame.copy()
    for col in ("open", "high", "low", "close"):
        out[col] = (out[col].to_numpy() * factor).round(DECIMALS)
    out["volume"] = (out["volume"].to_numpy() * split).round(0)
    return out, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", nargs="?", type=Path, default=DEFAULT_RAW)
    args = parser.parse_args(argv)
    if not args.raw_dir.is_dir():
        parser.error(f"{args.raw_dir} is not a directory")

    OUT.mkdir(parents=True, exist_ok=True)
    for ticker, interval, filename, loader, windowed, adjust in SERIES:
        frame = loader(args.raw_dir / filename)
        print(frame.attrs["cleaning"].summary())
        if adjust:
            frame, notes = adjusted(frame, args.raw_dir / filename)
            print("\n".join([f"  adjusted for splits and dividends ({len(notes)} splits)", *notes]))
        if windowed:
            # Cleaned first, windowed second, so the window never starts on a duplicate or a
            # half-repaired bar.
            frame = frame[frame["open_time"] > frame["open_time"].iloc[-1] - HOURLY_WINDOW]
        target = OUT / bundled_name(ticker, interval)
        write_bundled(frame, target)
        first, last = frame["open_time"].iloc[[0, -1]]
        print(
            f"  -> {target.relative_to(ROOT)}: {len(frame)} bars, {first:%Y-%m-%d %H:%M} to "
            f"{last:%Y-%m-%d %H:%M} UTC, {target.stat().st_size:,} bytes"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
