"""The history loaders clean every quirk of the real raw files, and the bundled series load.

The excerpts in ``tests/tools/data`` are verbatim raw lines (see its README). The full raw files
in ``../shared/fixtures/history`` are used too when they exist, to pin the real counts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from photon.errors import SymbolNotFound
from photon.market.replay.bundled import (
    COLUMNS,
    bundled_series,
    load_bundled,
    read_bundled_file,
    write_bundled,
)
from tools.history import (
    CleaningReport,
    find_gaps,
    frame_to_bars,
    load_bokeh_csv,
    load_cryptodatadownload_csv,
    read_cryptodatadownload_csv,
    repair_ohlc,
)

DATA = Path(__file__).parent / "data"
EXCERPT = DATA / "btcusdt_1h_excerpt.csv"
RAW = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "history"
needs_raw = pytest.mark.skipif(not RAW.is_dir(), reason=f"raw fixtures not at {RAW}")

HEADER = "unix,date,symbol,open,high,low,close,Volume BTC,Volume USDT,tradecount\n"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def row(frame: pd.DataFrame, when: datetime) -> pd.Series:
    match = frame[frame["open_time"] == pd.Timestamp(when)]
    assert len(match) == 1, f"{len(match)} bars at {when}"
    return match.iloc[0]


def assert_normalised(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == COLUMNS
    assert str(frame["open_time"].dt.tz) == "UTC"
    assert frame["open_time"].is_monotonic_increasing
    assert frame["open_time"].is_unique
    assert not frame.isna().any().any()
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()


@pytest.fixture(scope="module")
def excerpt() -> tuple[pd.DataFrame, CleaningReport]:
    return read_cryptodatadownload_csv(EXCERPT)


# CryptoDataDownload excerpt: one test per quirk.


def test_excerpt_comes_out_normalised_oldest_first(excerpt):
    frame, report = excerpt
    assert_normalised(frame)
    assert frame["open_time"].iloc[0] == pd.Timestamp(utc(2017, 8, 17, 4))
    assert report.interval == "1h"
    assert report.rows_read == 217
    assert report.rows_out == len(frame) == 217 - report.duplicates_dropped - 1


def test_overlapping_exports_are_deduplicated_keeping_the_millisecond_row(excerpt):
    frame, report = excerpt
    assert report.duplicates_dropped == 24
    # The two exports disagree here: ms row open 11783.31, seconds row 11783.30.
    assert row(frame, utc(2020, 8, 1, 23))["open"] == 11783.31
    # Full-precision volume comes from the ms row, not the 2-decimal seconds row (2194.60).
    assert row(frame, utc(2020, 8, 1, 23))["volume"] == 2194.598589
    # The older export's newest row was caught mid-hour (close 18143.03); the ms row is complete
    # and the next bar opens at 18210.00.
    assert row(frame, utc(2020, 11, 20, 7))["close"] == 18212.0


def test_millisecond_and_second_epochs_land_on_the_same_calendar(tmp_path):
    raw = tmp_path / "mixed.csv"
    raw.write_text(
        HEADER + "1596330000000,2020-08-02 01:00:00,BTC/USDT,11782.63,11942.55,11772.13,11942.55,"
        "3707.136801,44004710.0,55304\n"
        + "1596330000.0,2020-08-02 01-AM,BTC/USDT,11782.63,11942.55,11772.13,11942.55,3707.14,"
        "44004710.0,NULL\n"
        + "1596326400.0,2020-08-02 12-AM,BTC/USDT,11801.17,11857,11740,11782.63,2872.64,"
        "33906620.0,NULL\n"
    )
    frame, report = read_cryptodatadownload_csv(raw, drop_partial_last=False)
    assert list(frame["open_time"]) == [
        pd.Timestamp(utc(2020, 8, 2, 0)),
        pd.Timestamp(utc(2020, 8, 2, 1)),
    ]
    assert (report.millisecond_rows, report.second_rows, report.duplicates_dropped) == (1, 2, 1)
    # "12-AM" is midnight: the 12-hour date text agrees with the epoch.
    assert report.date_mismatches == 0


def test_unix_wins_where_the_date_column_is_four_hours_off(excerpt):
    frame, report = excerpt
    assert report.date_mismatches == 17
    # Raw row: unix 1506448800.0 (18:00 UTC) but date "2017-09-26 02-PM".
    assert row(frame, utc(2017, 9, 26, 18))["open"] == 3891.03
    # ...and 14:00 UTC holds the row dated "10-AM", not the one dated "02-PM".
    assert row(frame, utc(2017, 9, 26, 14))["open"] == 3928.33


def test_bogus_first_bar_is_repaired_and_reported(excerpt):
    frame, report = excerpt
    first = frame.iloc[0]
    # Raw: open 16199.91, high 16199.91, low 4261.32, close 4308.83; BTC traded near 4,300.
    assert (first["open"], first["high"], first["low"], first["close"]) == (
        4308.83,
        4308.83,
        4261.32,
        4308.83,
    )
    assert {(r.field, r.old, r.new) for r in report.repairs} == {
        ("open", 16199.91, 4308.83),
        ("high", 16199.91, 4308.83),
    }
    assert frame["high"].max() < 50_000


def test_gaps_stay_gaps_and_are_reported(excerpt):
    frame, report = excerpt
    gaps = {(g.after, g.before): g.missing for g in report.gaps}
    # Real exchange outages inside the excerpt's slices (the rest are where slices join).
    assert gaps[(utc(2020, 12, 21, 14), utc(2020, 12, 21, 18))] == 3
    assert gaps[(utc(2017, 9, 22, 19), utc(2017, 9, 23, 0))] == 4
    hours = frame["open_time"]
    assert not (
        (hours > pd.Timestamp(utc(2020, 12, 21, 14)))
        & (hours < pd.Timestamp(utc(2020, 12, 21, 18)))
    ).any()


def test_partial_candle_of_the_export_is_dropped(excerpt):
    frame, report = excerpt
    assert report.partial_last_dropped == utc(2021, 6, 10)
    assert frame["open_time"].iloc[-1] == pd.Timestamp(utc(2021, 6, 9, 23))
    kept = load_cryptodatadownload_csv(EXCERPT, drop_partial_last=False)
    assert kept["open_time"].iloc[-1] == pd.Timestamp(utc(2021, 6, 10))
    assert kept.attrs["cleaning"].partial_last_dropped is None


def test_null_tradecount_and_zero_volume_maintenance_bars(excerpt):
    frame, report = excerpt
    assert report.missing_tradecount == report.second_rows == 114
    maintenance = row(frame, utc(2020, 12, 21, 14))
    assert maintenance["volume"] == 0 and maintenance["open"] == maintenance["close"] == 22646.53
    assert report.zero_volume_bars == 1


def test_base_asset_volume_is_used(excerpt):
    frame, _ = excerpt
    # Raw: "Volume BTC" 4701.451279, "Volume USDT" 175453443.09 for 2021-06-09 23:00.
    assert row(frame, utc(2021, 6, 9, 23))["volume"] == 4701.451279


# OHLC repair on synthetic bars: what is repaired and, as important, what is not.


def bars(*ohlc: tuple[float, float, float, float]) -> pd.DataFrame:
    times = pd.date_range("2021-01-01", periods=len(ohlc), freq="1h", tz="UTC")
    frame = pd.DataFrame(ohlc, columns=["open", "high", "low", "close"], dtype="float64")
    frame.insert(0, "open_time", times)
    frame["volume"] = 1.0
    return frame


def test_inconsistent_high_and_low_are_widened_to_the_body():
    fixed, repairs = repair_ohlc(bars((100, 99, 98, 101), (101, 103, 102, 100)))
    assert list(fixed["high"]) == [101, 103]
    assert list(fixed["low"]) == [98, 100]
    assert len(repairs) == 2


def test_absurd_wick_is_clipped_but_a_flash_crash_is_kept():
    fixed, repairs = repair_ohlc(bars((100, 900, 99, 101), (280, 309, 144.21, 287)))
    assert fixed["high"].iloc[0] == 101
    assert fixed["low"].iloc[1] == 144.21  # ETH 2017-08-22 04:00, a real flash crash
    assert [r.field for r in repairs] == ["high"]


def test_real_gaps_and_crashes_are_not_repaired():
    gap_down = bars((53, 54, 52, 53.5), (28.19, 29, 25, 25.75))  # AAPL 2000-09-29, -50% open
    crash = bars((101, 102, 99, 100), (100, 100, 38, 40), (40, 42, 39, 41))  # -60%, confirmed
    for frame in (gap_down, crash):
        fixed, repairs = repair_ohlc(frame)
        assert repairs == []
        pd.testing.assert_frame_equal(fixed, frame)


def test_bad_close_print_is_repaired_from_the_next_open():
    fixed, repairs = repair_ohlc(bars((100, 500, 99, 500), (101, 102, 100, 101)))
    assert (fixed["close"].iloc[0], fixed["high"].iloc[0]) == (101, 101)
    assert {r.field for r in repairs} == {"close", "high"}


def test_find_gaps_counts_missing_bars():
    frame = bars(*[(1, 1, 1, 1)] * 5).drop(index=[1, 2]).reset_index(drop=True)
    (gap,) = find_gaps(frame, 3600)
    assert (gap.after, gap.before, gap.missing) == (utc(2021, 1, 1, 0), utc(2021, 1, 1, 3), 2)


# Bokeh daily stock files.


def test_bokeh_file_keeps_raw_split_unadjusted_prices():
    frame = load_bokeh_csv(DATA / "aapl_1d_excerpt.csv")
    assert_normalised(frame)
    assert len(frame) == 80
    assert frame["open_time"].iloc[0] == pd.Timestamp(utc(2000, 3, 1))
    # The 2:1 split on 2000-06-21 shows as it traded, not as adj_close rewrites it.
    assert row(frame, utc(2000, 6, 20))["close"] == 101.25
    assert row(frame, utc(2000, 6, 21))["open"] == 50.5
    assert frame.attrs["cleaning"].repairs == ()


# The full raw files: the real counts.


@needs_raw
@pytest.mark.parametrize("name", ["btcusdt_1h.csv", "ethusdt_1h.csv"])
def test_full_hourly_files(name):
    frame, report = read_cryptodatadownload_csv(RAW / name)
    assert_normalised(frame)
    assert (report.rows_read, report.millisecond_rows, report.second_rows) == (36062, 7478, 28584)
    assert report.duplicates_dropped == 2649
    assert report.date_mismatches == 91
    assert report.partial_last_dropped == utc(2021, 6, 10)
    assert report.rows_out == 36062 - 2649 - 1 == 33412
    assert [(g.after, g.missing) for g in report.gaps] == [
        (utc(2017, 9, 22, 19), 4),
        (utc(2020, 11, 30, 5), 1),
        (utc(2020, 12, 21, 14), 3),
        (utc(2020, 12, 25, 1), 1),
        (utc(2021, 2, 11, 3), 1),
        (utc(2021, 3, 6, 1), 1),
        (utc(2021, 4, 20, 1), 2),
        (utc(2021, 4, 25, 4), 3),
    ]
    assert report.missing_bars == 16
    assert {(r.open_time, r.field) for r in report.repairs} == {
        (utc(2017, 8, 17, 4), "open"),
        (utc(2017, 8, 17, 4), "high"),
    }
    hours = frame.set_index("open_time")
    assert (
        len(hours) + report.missing_bars
        == (hours.index[-1] - hours.index[0]).total_seconds() / 3600 + 1
    )


@needs_raw
def test_full_daily_file_and_hourly_agree_where_unix_and_date_disagree():
    daily, report = read_cryptodatadownload_csv(RAW / "btcusdt_d.csv")
    assert_normalised(daily)
    assert (report.duplicates_dropped, report.gaps, report.rows_out) == (1, (), 1394)
    assert report.partial_last_dropped == utc(2021, 6, 11)
    hourly = load_cryptodatadownload_csv(RAW / "btcusdt_1h.csv").set_index("open_time")
    by_day = hourly.resample("1D").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last"}
    )
    daily = daily.set_index("open_time")
    for day in pd.date_range("2017-09-23", "2017-09-26", tz="UTC"):
        assert by_day.loc[day].tolist() == daily.loc[day, ["open", "high", "low", "close"]].tolist()
    # The repaired first hour no longer pokes above the day's real high.
    assert by_day.loc[pd.Timestamp("2017-08-17", tz="UTC"), "high"] <= daily["high"].iloc[0]


@needs_raw
def test_bundled_series_match_a_fresh_cleaning():
    cleaned = load_cryptodatadownload_csv(RAW / "btcusdt_1h.csv")
    window = cleaned[cleaned["open_time"] > cleaned["open_time"].iloc[-1] - pd.Timedelta(days=365)]
    pd.testing.assert_frame_equal(load_bundled("BTCUSDT", "1h"), window.reset_index(drop=True))
    pd.testing.assert_frame_equal(
        load_bundled("GOOG", "1d"), load_bokeh_csv(RAW / "goog_1d.csv"), check_like=True
    )


# The bundled series.


def test_bundled_series_are_listed():
    assert bundled_series() == [
        ("AAPL", "1d"),
        ("BTCUSDT", "1d"),
        ("BTCUSDT", "1h"),
        ("ETHUSDT", "1h"),
        ("GOOG", "1d"),
        ("IBM", "1d"),
        ("MSFT", "1d"),
    ]


@pytest.mark.parametrize("ticker, interval", bundled_series())
def test_every_bundled_series_loads_clean(ticker, interval):
    frame = load_bundled(ticker, interval)
    assert_normalised(frame)
    assert (frame[["open", "high", "low", "close"]] > 0).all().all()
    assert len(frame) > 1000


def test_bundled_hourly_crypto_is_the_last_year_with_its_gaps():
    for ticker in ("BTCUSDT", "ETHUSDT"):
        frame = load_bundled(ticker, "1h")
        assert len(frame) == 8748
        assert frame["open_time"].iloc[0] == pd.Timestamp(utc(2020, 6, 10))
        assert frame["open_time"].iloc[-1] == pd.Timestamp(utc(2021, 6, 9, 23))
        gaps = find_gaps(frame, 3600)
        assert (len(gaps), sum(g.missing for g in gaps)) == (7, 12)


def test_bundled_stock_history_sizes():
    assert {t: len(load_bundled(t, "1d")) for t in ("AAPL", "MSFT", "IBM", "GOOG")} == {
        "AAPL": 3270,
        "MSFT": 3270,
        "IBM": 3270,
        "GOOG": 2148,
    }


def test_load_bundled_returns_a_private_copy():
    mine = load_bundled("AAPL", "1d")
    mine["close"] = -1.0
    assert (load_bundled("AAPL", "1d")["close"] > 0).all()


def test_unknown_bundled_series_is_symbol_not_found():
    with pytest.raises(SymbolNotFound, match="have: AAPL 1d"):
        load_bundled("TSLA", "1d")
    with pytest.raises(SymbolNotFound):
        load_bundled("AAPL", "1h")


def test_write_bundled_round_trips_byte_for_byte(tmp_path):
    frame = load_bundled("BTCUSDT", "1h").iloc[:50]
    first, second = tmp_path / "a.csv.gz", tmp_path / "b.csv.gz"
    write_bundled(frame, first)
    write_bundled(frame, second)
    assert first.read_bytes() == second.read_bytes()
    pd.testing.assert_frame_equal(read_bundled_file(first), frame)


def test_frame_to_bars():
    frame = load_bundled("BTCUSDT", "1h").iloc[-2:]
    first, last = frame_to_bars("BTCUSDT", "1h", frame)
    assert last.open_time == utc(2021, 6, 9, 23)
    assert last.open_time.tzinfo is not None
    assert (last.ticker, last.interval, last.close) == ("BTCUSDT", "1h", 37388.05)
    assert first.open_time < last.open_time
    assert np.isclose(last.volume, frame["volume"].iloc[-1])
