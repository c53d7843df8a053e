"""The fake exchange itself: real wire formats, faults that behave like the real ones, counting."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from tests.fakes import FAULT_KINDS, FakeExchange

DATA = Path(__file__).parents[1] / "fakes" / "data"
SHARED = Path("/work/shared/fixtures")


def _get(fx: FakeExchange, path: str, **params: str) -> requests.Response:
    return requests.get(fx.url + path, params=params, timeout=5)


def test_copied_fixtures_are_byte_identical_to_the_shared_ones():
    if not SHARED.is_dir():
        pytest.skip("shared fixtures not mounted")
    for copy in DATA.rglob("*.json"):
        original = SHARED / copy.relative_to(DATA)
        assert copy.read_bytes() == original.read_bytes(), copy


# --- Bybit --------------------------------------------------------------------------------------


def test_tickers_in_the_recorded_format(fake_exchange):
    response = _get(fake_exchange, "/v5/market/tickers", category="spot")
    body = response.json()
    recorded = json.loads((DATA / "bybit" / "docs_tickers_spot_BTCUSDT.json").read_text())

    assert list(body) == ["retCode", "retMsg", "result", "retExtInfo", "time"]
    assert (body["retCode"], body["retMsg"], body["retExtInfo"]) == (0, "OK", {})
    rows = {row["symbol"]: row for row in body["result"]["list"]}
    assert set(rows) == {"BTCUSDT", "ETHUSDT", "BNBUSDT"}
    assert rows["BTCUSDT"] == recorded["result"]["list"][0]
    for row in rows.values():
        assert list(row) == list(recorded["result"]["list"][0])
        assert all(isinstance(v, str) for v in row.values())
    assert abs(body["time"] - time.time() * 1000) < 5000
    assert {"X-Bapi-Limit", "X-Bapi-Limit-Status", "X-Bapi-Limit-Reset-Timestamp"} <= set(
        response.headers
    )


def test_tickers_for_one_unknown_symbol_is_10001(fake_exchange):
    body = _get(fake_exchange, "/v5/market/tickers", category="spot", symbol="NOPEUSDT").json()
    assert (body["retCode"], body["retMsg"]) == (10001, "Not supported symbols")


def test_kline_honours_start_end_and_limit_newest_first(fake_exchange):
    hour = 3_600_000
    start, end = 1_700_000_000_000 // hour * hour, 1_700_000_000_000 // hour * hour + 10 * hour
    body = _get(
        fake_exchange,
        "/v5/market/kline",
        category="spot",
        symbol="ETHUSDT",
        interval="60",
        start=str(start),
        end=str(end),
        limit="4",
    ).json()
    rows = body["result"]["list"]

    assert [int(r[0]) for r in rows] == [end, end - hour, end - 2 * hour, end - 3 * hour]
    assert all(len(r) == 7 and all(isinstance(v, str) for v in r) for r in rows)
    assert body["result"]["symbol"] == "ETHUSDT" and body["result"]["category"] == "spot"
    everything = _get(
        fake_exchange,
        "/v5/market/kline",
        category="spot",
        symbol="ETHUSDT",
        interval="60",
        start=str(start),
        end=str(end),
    ).json()["result"]["list"]
    assert len(everything) == 11  # both ends inclusive, as Bybit does


def test_kline_serves_the_recorded_btc_daily_rows(fake_exchange):
    recorded = json.loads((DATA / "bybit" / "nautilus_kline_spot_BTCUSDT_D.json").read_text())
    body = _get(
        fake_exchange,
        "/v5/market/kline",
        category="spot",
        symbol="BTCUSDT",
        interval="D",
        start="1694476800000",
        end="1694649600000",
    ).json()
    assert body["result"]["list"] == recorded["result"]["list"]


def test_instruments_info(fake_exchange):
    btc = _get(fake_exchange, "/v5/market/instruments-info", category="spot", symbol="BTCUSDT")
    recorded = json.loads((DATA / "bybit" / "docs_instruments_info_spot_BTCUSDT.json").read_text())
    assert btc.json()["result"]["list"] == recorded["result"]["list"]
    nope = _get(fake_exchange, "/v5/market/instruments-info", category="spot", symbol="NOPEUSDT")
    assert nope.json()["retCode"] == 0 and nope.json()["result"]["list"] == []


def test_server_time(fake_exchange):
    result = _get(fake_exchange, "/v5/market/time").json()["result"]
    assert int(result["timeSecond"]) == pytest.approx(time.time(), abs=5)


def test_synthetic_pairs(fake_exchange):
    symbols = fake_exchange.add_synthetic_pairs(500)
    assert symbols[0] == "SYM0001USDT" and symbols[-1] == "SYM0500USDT"
    rows = _get(fake_exchange, "/v5/market/tickers", category="spot").json()["result"]["list"]
    assert len(rows) == 503


# --- Yahoo --------------------------------------------------------------------------------------


def test_chart_in_the_recorded_format(fake_exchange):
    recorded = json.loads(
        (DATA / "yahoo" / "chart_GOOG_1d_2020-01-01_to_2020-01-03.json").read_text()
    )
    body = _get(
        fake_exchange,
        "/v8/finance/chart/GOOG",
        period1="1577836800",
        period2="1578009600",
        interval="1d",
    ).json()
    result, want = body["chart"]["result"][0], recorded["chart"]["result"][0]

    assert body["chart"]["error"] is None
    assert set(result["meta"]) == set(want["meta"])
    assert result["timestamp"] == want["timestamp"]
    assert result["indicators"] == want["indicators"]


def test_chart_for_an_unknown_symbol_is_the_recorded_404(fake_exchange):
    response = _get(fake_exchange, "/v8/finance/chart/NOPE", range="5d", interval="1d")
    assert response.status_code == 404
    assert (
        response.content == (DATA / "yahoo" / "chart_SI_404_not_found_delisted.json").read_bytes()
    )


def test_chart_ranges_and_intraday(fake_exchange):
    daily = _get(fake_exchange, "/v8/finance/chart/MSFT", range="5d", interval="1d").json()
    assert len(daily["chart"]["result"][0]["timestamp"]) == 5
    now = int(time.time())
    minute = _get(
        fake_exchange,
        "/v8/finance/chart/MSFT",
        period1=str(now - 5 * 86400),
        period2=str(now),
        interval="5m",
    ).json()["chart"]["result"][0]
    assert "tradingPeriods" in minute["meta"] and "adjclose" not in minute["indicators"]
    assert all(t % 300 == 0 for t in minute["timestamp"])


def test_one_minute_limits_are_enforced_like_yahoo(fake_exchange):
    now = int(time.time())
    too_long = _get(
        fake_exchange,
        "/v8/finance/chart/MSFT",
        period1=str(now - 10 * 86400),
        period2=str(now),
        interval="1m",
    )
    assert too_long.status_code == 422
    assert "Only 8 days" in too_long.json()["chart"]["error"]["description"]


def test_session_endpoints(fake_exchange):
    cookie = _get(fake_exchange, "/")
    assert "A3=" in cookie.headers["Set-Cookie"]
    assert _get(fake_exchange, "/v1/test/getcrumb").text
    summary = _get(fake_exchange, "/v10/finance/quoteSummary/NOPE")
    assert summary.status_code == 404


# --- faults and counting ------------------------------------------------------------------------

RAW_FAULTS = {
    "http_500": (500, None),
    "http_502": (502, None),
    "http_403": (403, "access too frequent"),
    "http_429": (429, "Too Many Requests"),
    "bybit_10006": (200, '"retCode":10006'),
    "bybit_10016": (200, '"retCode":10016'),
    "garbage": (200, "<!DOCTYPE html>"),
    "unknown_symbol": (200, '"retCode":10001'),
    "truncated_json": (200, '{"retCode":0'),
}


@pytest.mark.parametrize("kind", sorted(RAW_FAULTS))
def test_fault_kinds_on_the_wire(fake_exchange, kind):
    status, snippet = RAW_FAULTS[kind]
    fake_exchange.fault(kind, path_prefix="/v5/market/tickers")
    response = _get(fake_exchange, "/v5/market/tickers", category="spot")
    assert response.status_code == status
    if snippet:
        assert snippet in response.text
    if kind == "truncated_json":
        with pytest.raises(ValueError):
            response.json()


def test_truncated_cuts_the_connection(fake_exchange):
    fake_exchange.fault("truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _get(fake_exchange, "/v5/market/tickers", category="spot")


def test_delay_is_counted_in_server_time(fake_exchange):
    fake_exchange.fault("delay", seconds=0.3, times=1)
    assert _get(fake_exchange, "/v5/market/time").status_code == 200
    assert fake_exchange.server_seconds >= 0.3
    fake_exchange.reset_calls()
    assert fake_exchange.server_seconds == 0


def test_times_prefix_and_clear(fake_exchange):
    fault = fake_exchange.fault("http_500", path_prefix="/v5/market/kline", times=2)
    assert _get(fake_exchange, "/v5/market/tickers", category="spot").status_code == 200
    assert _get(fake_exchange, "/v5/market/kline").status_code == 500
    assert _get(fake_exchange, "/v5/market/kline").status_code == 500
    assert _get(fake_exchange, "/v5/market/time").status_code == 200
    assert fault.hits == 2
    fake_exchange.fault("http_502")
    fake_exchange.clear_faults()
    assert _get(fake_exchange, "/v5/market/time").status_code == 200


def test_unknown_symbol_fault_on_yahoo_is_the_404(fake_exchange):
    fake_exchange.fault("unknown_symbol", path_prefix="/v8/finance/chart")
    assert _get(fake_exchange, "/v8/finance/chart/AAPL", range="1d").status_code == 404


def test_calls_are_counted_per_path(fake_exchange):
    _get(fake_exchange, "/v5/market/tickers", category="spot")
    _get(fake_exchange, "/v5/market/tickers", category="spot")
    _get(fake_exchange, "/v8/finance/chart/AAPL", range="1d", interval="1d")
    assert fake_exchange.calls("/v5/market/tickers") == 2
    assert fake_exchange.calls(prefix="/v8/finance/chart") == 1
    assert fake_exchange.calls() == 3
    assert fake_exchange.requests[-1].query == {"range": "1d", "interval": "1d"}


def test_unknown_fault_kind_is_refused(fake_exchange):
    with pytest.raises(ValueError):
        fake_exchange.fault("meteor")
    assert "delay" in FAULT_KINDS


def test_stop_does_not_wait_for_a_delayed_request():
    fx = FakeExchange().start()
    fx.fault("delay", seconds=30)
    with pytest.raises(requests.exceptions.Timeout):
        requests.get(fx.url + "/v5/market/time", timeout=0.2)
    started = time.monotonic()
    fx.stop()
    assert time.monotonic() - started < 2
