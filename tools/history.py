"""Real price history: cleaning loaders for the raw formats, and the series bundled with Photon.

Every loader returns one normalised frame: ``open_time`` (tz-aware UTC), ``open``, ``high``,
``low``, ``close``, ``volume`` (in base units: shares, BTC, ETH), oldest first, unique times. The
copies in ``photon/data/history`` (written by ``bench/make_history.py``) are already clean and in
that shape, gzip-compressed, with ``open_time`` as ISO 8601 UTC.

CryptoDataDownload exports (Binance spot candles) are messy, and ``read_cryptodatadownload_csv``
cleans them:

* Rows run newest first: sorted oldest first.
* Two exports are glued together. ``unix`` is in milliseconds in the newer one and float seconds in
  the older; the unit is told by magnitude, so both land on the same calendar.
* The exports overlap (2,649 hours in the hourly files), interleaved row by row. The
  millisecond row wins: it has full-precision volume and a ``tradecount``. The older row's open
  often differs by a few cents, and its newest row (2020-11-20 07:00) was caught mid-hour
  (close 18143.03 where the complete bar, confirmed by the next open, closes at 18212.00).
* ``date`` is ``%Y-%m-%d %H:%M:%S`` in the newer export, ``%Y-%m-%d %I-%p`` (or ``%Y-%m-%d``) in the
  older. ``unix`` is the truth: in 91 hourly rows (2017-09-22 to 26) ``date`` is four hours behind
  it, and aggregating those hours by ``unix`` reproduces the daily file's bars while by ``date``
  it does not. Mismatches are counted, not used.
* Gaps (8 in the hourly files, 16 missing hours, the longest 5 h) stay gaps: no bar is invented.
  They are listed in the report.
* The newest row is the candle that was still open when the file was exported (798 BTC in the
  hour against ~5,000 usually); it is dropped when its volume is under a quarter of the median of
  the 24 bars before it.
* Impossible prices are repaired by ``repair_ohlc`` (the first hourly bar opens at 16199.91 when
  BTC traded at 4,300), and each repair is listed.
* ``tradecount`` is ``NULL`` in the older export; it is not part of the output.
* Flat zero-volume bars (O=H=L=C, 117 in the BTC hourly file) mark exchange maintenance: the
  exchange printed them, so they are kept, and counted.

The bokeh daily stock files are clean; ``load_bokeh_csv`` keeps their raw prices, which are NOT
split-adjusted (AAPL halves on 2000-06-21 and 2005-02-28, MSFT on 2003-02-18). Those are the
prices that really traded on each day, which is what a replayed live feed must show; ``adj_close``
is dropped because it rewrites the past with later splits and dividends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from os import PathLike

import numpy as np
import pandas as pd

from photon.market.replay.bundled import COLUMNS, epoch_seconds
from photon.types import INTERVAL_SECONDS, Bar

log = logging.getLogger(__name__)

PRICES = ["open", "high", "low", "close"]

# Repair thresholds, chosen from the seven real files. No genuine open is more than 1.11x from the
# nearer of its own close and the previous close (and likewise no close from its open and the next
# open); the bad first prints are 3.76x (BTC) and 2.17x (ETH). The wildest genuine wick is ETH's
# flash crash from 280 to 144 (1.94x) on 2017-08-22.
BODY_RATIO = 1.5
WICK_RATIO = 2.5
PARTIAL_VOLUME_RATIO = 0.25
PARTIAL_LOOKBACK = 24

# An epoch in milliseconds passes 1e11 in 1973; one in seconds not until the year 5138.
_MS_THRESHOLD = 1e11
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %I-%p", "%Y-%m-%d")


@dataclass(frozen=True)
class Gap:
    """Bars missing between two consecutive bars: ``after`` and ``before`` are their open times."""

    after: datetime
    before: datetime
    missing: int


@dataclass(frozen=True)
class Repair:
    open_time: datetime
    field: str
    old: float
    new: float
    reason: str


@dataclass(frozen=True)
class CleaningReport:
    source: str
    interval: str | None
    rows_read: int
    rows_out: int
    millisecond_rows: int = 0
    second_rows: int = 0
    duplicates_dropped: int = 0
    duplicates_disagreeing: int = 0
    date_mismatches: int = 0
    unparsed_dates: int = 0
    missing_tradecount: int = 0
    invalid_rows_dropped: int = 0
    zero_volume_bars: int = 0
    partial_last_dropped: datetime | None = None
    repairs: tuple[Repair, ...] = ()
    gaps: tuple[Gap, ...] = field(default=())

    @property
    def missing_bars(self) -> int:
        return sum(gap.missing for gap in self.gaps)

    def summary(self) -> str:
        longest = max((gap.missing for gap in self.gaps), default=0)
        return (
            f"{self.source}: {self.rows_read} rows read, {self.rows_out} kept; "
            f"{self.duplicates_dropped} duplicates dropped ({self.duplicates_disagreeing} "
            f"disagreeing), {self.invalid_rows_dropped} invalid rows dropped, "
            f"{len(self.repairs)} prices repaired, {len(self.gaps)} gaps "
            f"({self.missing_bars} bars missing, at most {longest} in a row), "
            f"{self.date_mismatches} date/unix mismatches, "
            f"{self.zero_volume_bars} zero-volume bars, "
            f"partial last bar dropped: {self.partial_last_dropped or 'no'}"
        )


def read_cryptodatadownload_csv(
    path: str | PathLike[str], *, drop_partial_last: bool = True
) -> tuple[pd.DataFrame, CleaningReport]:
    """Clean a CryptoDataDownload export; returns the frame and what was done to it."""
    raw = pd.read_csv(path, dtype={"unix": str, "date": str, "symbol": str}, na_values=["NULL"])
    unix = pd.to_numeric(raw["unix"]).to_numpy(dtype="float64")
    is_ms = unix > _MS_THRESHOLD
    seconds = np.rint(np.where(is_ms, unix / 1000.0, unix)).astype("int64")
    open_time = pd.Series(pd.to_datetime(seconds, unit="s", utc=True), index=raw.index)

    stated = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[s, UTC]")
    for fmt in _DATE_FORMATS:
        parsed = pd.to_datetime(raw["date"], format=fmt, errors="coerce", utc=True)
        stated = stated.fillna(parsed.dt.as_unit("s"))

    base = str(raw["symbol"].dropna().iloc[0]).split("/")[0]
    volume_column = f"Volume {base}"
    if volume_column not in raw.columns:
        raise ValueError(f"{path}: no base-asset volume column {volume_column!r}")
    frame = pd.DataFrame(
        {
            "open_time": open_time,
            **{col: _numbers(raw[col]) for col in PRICES},
            "volume": _numbers(raw[volume_column]),
            "_precise": is_ms,
        }
    )
    # Stable sort puts the older export's row first at a shared hour, so keep="last" keeps the
    # millisecond row.
    frame = frame.sort_values(["open_time", "_precise"], kind="stable")
    duplicate = frame.duplicated("open_time", keep="last")
    kept = frame[~duplicate]
    dropped = frame[duplicate].merge(kept, on="open_time", suffixes=("", "_kept"))
    disagreeing = np.zeros(len(dropped), dtype=bool)
    for col in PRICES:
        disagreeing |= ~np.isclose(dropped[col], dropped[f"{col}_kept"], rtol=0, atol=1e-9)

    clean, invalid = _drop_invalid(kept[COLUMNS])
    step = _infer_step(clean)
    partial = None
    if drop_partial_last and len(clean) > PARTIAL_LOOKBACK:
        recent = clean["volume"].iloc[-PARTIAL_LOOKBACK - 1 : -1].median()
        if clean["volume"].iloc[-1] < PARTIAL_VOLUME_RATIO * recent:
            partial = clean["open_time"].iloc[-1].to_pydatetime()
            clean = clean.iloc[:-1]
    clean, repairs = repair_ohlc(clean)
    gaps = find_gaps(clean, step) if step else []

    report = CleaningReport(
        source=str(path),
        interval=_interval_name(step),
        rows_read=len(raw),
        rows_out=len(clean),
        millisecond_rows=int(is_ms.sum()),
        second_rows=int((~is_ms).sum()),
        duplicates_dropped=int(duplicate.sum()),
        duplicates_disagreeing=int(disagreeing.sum()),
        date_mismatches=int((stated.notna() & (stated != open_time)).sum()),
        unparsed_dates=int(stated.isna().sum()),
        missing_tradecount=int(raw["tradecount"].isna().sum()) if "tradecount" in raw else 0,
        invalid_rows_dropped=invalid,
        zero_volume_bars=int((clean["volume"] == 0).sum()),
        partial_last_dropped=partial,
        repairs=tuple(repairs),
        gaps=tuple(gaps),
    )
    return clean, report


def load_cryptodatadownload_csv(
    path: str | PathLike[str], *, drop_partial_last: bool = True
) -> pd.DataFrame:
    """The frame of ``read_cryptodatadownload_csv``, with its report in ``attrs["cleaning"]``."""
    frame, report = read_cryptodatadownload_csv(path, drop_partial_last=drop_partial_last)
    log.info("%s", report.summary())
    frame.attrs["cleaning"] = report
    return frame


def load_bokeh_csv(path: str | PathLike[str]) -> pd.DataFrame:
    """A bokeh sample-data daily stock file, raw (unadjusted) prices; ``open_time`` is midnight
    UTC of the trading date. The report is in ``attrs["cleaning"]``."""
    raw = pd.read_csv(path)
    frame = pd.DataFrame(
        {
            "open_time": pd.to_datetime(raw["date"], format="%Y-%m-%d", utc=True),
            **{col: _numbers(raw[col]) for col in PRICES},
            "volume": _numbers(raw["volume"]),
        }
    )
    frame = frame.sort_values("open_time", kind="stable")
    duplicate = frame.duplicated("open_time", keep="last")
    clean, invalid = _drop_invalid(frame[~duplicate])
    clean, repairs = repair_ohlc(clean)
    report = CleaningReport(
        source=str(path),
        interval="1d",
        rows_read=len(raw),
        rows_out=len(clean),
        duplicates_dropped=int(duplicate.sum()),
        invalid_rows_dropped=invalid,
        repairs=tuple(repairs),
    )
    log.info("%s", report.summary())
    clean.attrs["cleaning"] = report
    return clean


def repair_ohlc(
    frame: pd.DataFrame, *, body_ratio: float = BODY_RATIO, wick_ratio: float = WICK_RATIO
) -> tuple[pd.DataFrame, list[Repair]]:
    """Repair impossible prices in an oldest-first frame; returns a new frame and the repairs.

    * An open more than ``body_ratio`` away from its own close and from the previous close is a
      bad print: it becomes the previous close (the bar's close when there is none). A close far
      from its open and from the next open is treated the same way. Requiring both keeps real
      moves: a gap open agrees with its own close, a crash day's close with the next open.
    * A high or low equal to a bad print was set by it, so it becomes the body's edge.
    * A wick more than ``wick_ratio`` beyond the body is clipped to the body.
    * A high below the body or a low above it (inconsistent bars) is widened to the body, because
      open and close are the prices more often right.
    """
    out = frame.reset_index(drop=True).copy()
    o, h, lo, c = (out[col].to_numpy(dtype="float64", copy=True) for col in PRICES)
    times = out["open_time"]
    n = len(out)
    repairs: list[Repair] = []
    if n == 0:
        return out, repairs

    def far(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.abs(np.log(a / b)) > np.log(body_ratio)

    prev_c = np.r_[np.nan, c[:-1]]
    next_o = np.r_[o[1:], np.nan]
    open_jumps, close_jumps = far(o, prev_c), far(c, next_o)
    # With no neighbour to compare against, the other end of the body decides: the first bar's
    # open is bad when its close is confirmed by the next open, and vice versa for the last bar.
    first, last = np.arange(n) == 0, np.arange(n) == n - 1
    bad_o = far(o, c) & np.where(first, ~last & ~close_jumps, open_jumps)
    bad_c = far(c, o) & np.where(last, ~first & ~open_jumps, close_jumps)

    def note(i: int, name: str, old: float, new: float, reason: str) -> None:
        repairs.append(Repair(times.iloc[i].to_pydatetime(), name, float(old), float(new), reason))

    for i in np.flatnonzero(bad_o | bad_c):
        bad_prints = []
        if bad_o[i]:
            bad_prints.append(o[i])
            o[i] = prev_c[i] if i > 0 and not bad_c[i - 1] else c[i]
            note(
                i, "open", bad_prints[-1], o[i], "bad print: far from its close and previous close"
            )
        if bad_c[i]:
            bad_prints.append(c[i])
            c[i] = next_o[i] if i < n - 1 and not bad_o[i + 1] else o[i]
            note(i, "close", bad_prints[-1], c[i], "bad print: far from its open and next open")
        for name, arr, edge in (("high", h, max(o[i], c[i])), ("low", lo, min(o[i], c[i]))):
            if arr[i] in bad_prints:
                note(i, name, arr[i], edge, "was set by the bad print")
                arr[i] = edge

    top, bottom = np.maximum(o, c), np.minimum(o, c)
    for i in np.flatnonzero(h > top * wick_ratio):
        note(i, "high", h[i], top[i], f"wick over {wick_ratio}x the body")
        h[i] = top[i]
    for i in np.flatnonzero(lo < bottom / wick_ratio):
        note(i, "low", lo[i], bottom[i], f"wick under 1/{wick_ratio} of the body")
        lo[i] = bottom[i]
    for i in np.flatnonzero(h < top):
        note(i, "high", h[i], top[i], "below max(open, close)")
        h[i] = top[i]
    for i in np.flatnonzero(lo > bottom):
        note(i, "low", lo[i], bottom[i], "above min(open, close)")
        lo[i] = bottom[i]

    for col, arr in zip(PRICES, (o, h, lo, c), strict=True):
        out[col] = arr
    return out, repairs


def find_gaps(frame: pd.DataFrame, step_seconds: int) -> list[Gap]:
    """Where consecutive bars of an oldest-first frame are more than one step apart."""
    seconds = epoch_seconds(frame["open_time"])
    jumps = np.diff(seconds)
    return [
        Gap(
            after=datetime.fromtimestamp(int(seconds[i]), UTC),
            before=datetime.fromtimestamp(int(seconds[i + 1]), UTC),
            missing=int(jumps[i] // step_seconds) - 1,
        )
        for i in np.flatnonzero(jumps > step_seconds)
    ]


def frame_to_bars(ticker: str, interval: str, frame: pd.DataFrame) -> list[Bar]:
    """One ``Bar`` per row of a normalised frame."""
    seconds = epoch_seconds(frame["open_time"])
    columns = [frame[col].to_numpy(dtype="float64") for col in [*PRICES, "volume"]]
    return [
        Bar(
            ticker=ticker,
            interval=interval,
            open_time=datetime.fromtimestamp(int(t), UTC),
            open=float(o),
            high=float(h),
            low=float(lo),
            close=float(c),
            volume=float(v),
        )
        for t, o, h, lo, c, v in zip(seconds, *columns, strict=True)
    ]


def _numbers(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column, errors="coerce").astype("float64")


def _drop_invalid(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    ok = frame[[*PRICES, "volume"]].notna().all(axis=1)
    ok &= (frame[PRICES] > 0).all(axis=1) & (frame["volume"] >= 0)
    return frame[ok].reset_index(drop=True), int((~ok).sum())


def _infer_step(frame: pd.DataFrame) -> int | None:
    if len(frame) < 2:
        return None
    return int(np.median(np.diff(epoch_seconds(frame["open_time"]))))


def _interval_name(step: int | None) -> str | None:
    if step is None:
        return None
    names = {seconds: name for name, seconds in INTERVAL_SECONDS.items()}
    return names.get(step, f"{step}s")
