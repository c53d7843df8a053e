"""The real price history bundled in ``photon/data/history``: one normalised gzip CSV per
series, written by ``tools/make_history.py`` from the raw exports."""

from __future__ import annotations

import functools
import gzip
import re
from importlib import resources
from importlib.resources.abc import Traversable
from os import PathLike
from typing import BinaryIO

import numpy as np
import pandas as pd

from photon.errors import SymbolNotFound

COLUMNS = ["open_time", "open", "high", "low", "close", "volume"]
_EPOCH = pd.Timestamp(0, tz="UTC")
_BUNDLED_NAME = re.compile(r"(?P<ticker>[A-Z0-9^.=\-]+)_(?P<interval>\w+)\.csv\.gz")


def bundled_series() -> list[tuple[str, str]]:
    """``(ticker, interval)`` of every series in ``photon/data/history``, sorted."""
    directory = _bundled_dir()
    if not directory.is_dir():
        return []
    found = (_BUNDLED_NAME.fullmatch(entry.name) for entry in directory.iterdir())
    return sorted((m["ticker"], m["interval"]) for m in found if m)


def load_bundled(ticker: str, interval: str) -> pd.DataFrame:
    """A bundled series as a normalised frame (a copy: callers may modify it)."""
    return _read_bundled(ticker, interval).copy()


def bundled_name(ticker: str, interval: str) -> str:
    return f"{ticker}_{interval}.csv.gz"


def write_bundled(frame: pd.DataFrame, path: str | PathLike[str]) -> None:
    """Write a normalised frame in the bundled format, byte-for-byte reproducibly."""
    out = frame[COLUMNS].copy()
    out["open_time"] = out["open_time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = out.to_csv(index=False, lineterminator="\n")
    # mtime=0 and no file name in the header, so regenerating unchanged data changes no bytes.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(text.encode("ascii"))


def read_bundled_file(source: str | PathLike[str] | BinaryIO) -> pd.DataFrame:
    """Read one file in the bundled format (``write_bundled``'s output)."""
    frame = pd.read_csv(source, compression="gzip", dtype=dict.fromkeys(COLUMNS[1:], "float64"))
    frame["open_time"] = pd.to_datetime(frame["open_time"], format="ISO8601", utc=True)
    return frame[COLUMNS]


def _bundled_dir() -> Traversable:
    return resources.files("photon").joinpath("data", "history")


@functools.cache
def _read_bundled(ticker: str, interval: str) -> pd.DataFrame:
    if (ticker, interval) not in bundled_series():
        known = ", ".join(f"{t} {i}" for t, i in bundled_series())
        raise SymbolNotFound(ticker, f"No bundled {interval} history for {ticker!r}; have: {known}")
    with _bundled_dir().joinpath(bundled_name(ticker, interval)).open("rb") as fh:
        return read_bundled_file(fh)


def epoch_seconds(times: pd.Series) -> np.ndarray:
    """Whole epoch seconds of a tz-aware series, whatever its datetime resolution."""
    return ((times - _EPOCH) // pd.Timedelta(seconds=1)).to_numpy(dtype="int64")
