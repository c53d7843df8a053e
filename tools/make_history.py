"""Regenerate ``photon/data/history`` from the raw fixtures in ``../shared/fixtures/history``.

    .venv/bin/python tools/make_history.py [RAW_DIR]

Cleans each raw file with the loaders in ``tools.history`` and writes the compact bundled
copies. The hourly crypto series keep only the last ``HOURLY_WINDOW`` before their newest complete
bar, which is enough for a replay and keeps the package small. The output is byte-for-byte
reproducible, so rerunning it on unchanged input leaves git clean.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from photon.market.replay.bundled import bundled_name, write_bundled  # noqa: E402
from tools.history import load_bokeh_csv, load_cryptodatadownload_csv  # noqa: E402

DEFAULT_RAW = ROOT.parent / "shared" / "fixtures" / "history"
OUT = ROOT / "photon" / "data" / "history"
HOURLY_WINDOW = pd.Timedelta(days=365)

# (ticker, interval, raw file, loader, keep only the recent window)
SERIES = [
    ("AAPL", "1d", "aapl_1d.csv", load_bokeh_csv, False),
    ("MSFT", "1d", "msft_1d.csv", load_bokeh_csv, False),
    ("IBM", "1d", "ibm_1d.csv", load_bokeh_csv, False),
    ("GOOG", "1d", "goog_1d.csv", load_bokeh_csv, False),
    ("BTCUSDT", "1h", "btcusdt_1h.csv", load_cryptodatadownload_csv, True),
    ("ETHUSDT", "1h", "ethusdt_1h.csv", load_cryptodatadownload_csv, True),
    ("BTCUSDT", "1d", "btcusdt_d.csv", load_cryptodatadownload_csv, False),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", nargs="?", type=Path, default=DEFAULT_RAW)
    args = parser.parse_args(argv)
    if not args.raw_dir.is_dir():
        parser.error(f"{args.raw_dir} is not a directory")

    OUT.mkdir(parents=True, exist_ok=True)
    for ticker, interval, filename, loader, windowed in SERIES:
        frame = loader(args.raw_dir / filename)
        print(frame.attrs["cleaning"].summary())
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
