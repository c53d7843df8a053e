"""YahooProvider against the fake exchange: real yfinance, real curl_cffi, real-format charts.

Call counts below are what yfinance 1.7.0 makes against Yahoo's chart API, which takes one symbol
per request: one chart request per ticker, plus a ``range=1d`` timezone probe the first time a
ticker is seen (then cached on disk). A 4xx/5xx answer makes yfinance renew cookie and crumb and
repeat the request once. Against a non-yahoo.com base URL yfinance cannot keep the A3 cookie (it
only persists cookies of yahoo domains), so it asks fc.yahoo.com's root (``/``) before each request.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import yfinance as yf
from curl_cffi.requests import exceptions as curl_exc
from yfinance import exceptions as yf_exc

from photon.errors import Invalid, ProviderUnavailable, RateLimited, SymbolNotFound
from photon.market.types import Bar, Quote
from photon.market.yahoo import YahooProvider
from photon.market.yahoo_errors import NoPrices, to_photon_error
from photon.market.yahoo_session import BudgetExhausted, YahooSession
from tests.fakes.yahoo_api import Stock
from tests.market.conftest import FAST

CHART = "/v8/finance/chart"
GARBAGE = "garbage response"
DELISTED = "No data found, symbol may be delisted"
FIXTURES = Path(__file__).parents[1] / "fakes" / "data" / "yahoo"


def _chart(fx, symbol: str, **params: str) -> dict:
    response = requests.get(f"{fx.url}{CHART}/{symbol}", params=params, timeout=5)
    return response.json()["chart"]["result"][0]


def _fresh(fx, n: int) -> list[str]:
    """Stocks yfinance has never seen, so its timezone probe is certain to run."""
    symbols = [f"C{uuid.uuid4().hex[:6].upper()}" for _ in range(n)]
    for sym in symbols:
        fx.yahoo.add_stock(Stock(sym, f"Cold {sym}", 50.0))
    return symbols


# --- quotes -------------------------------------------------------------------------------------


def test_aapl_and_msft_quotes_are_normalised_from_the_chart(yahoo, fake_exchange):
    quotes = yahoo.quotes(["AAPL", "MSFT"])

    for symbol in ("AAPL", "MSFT"):
        chart = _chart(fake_exchange, symbol, range="5d", interval="1d")
        meta, closes = chart["meta"], chart["indicators"]["quote"][0]["close"]
        quote = quotes[symbol]
        assert isinstance(quote, Quote)
        assert quote.price == meta["regularMarketPrice"]
        assert quote.change == pytest.approx(meta["regularMarketPrice"] - closes[-2])
        assert quote.change_pct == pytest.approx(quote.change / closes[-2] * 100)
        assert quote.ts == datetime.fromtimestamp(meta["regularMarketTime"], tz=UTC)
        assert quote.volume == meta["regularMarketVolume"]
        assert (quote.bid, quote.ask) == (None, None)  # not in the chart API
        assert (quote.currency, quote.source) == ("USD", "yahoo")


def test_currency_comes_from_the_chart_meta(yahoo, fake_exchange):
    fake_exchange.yahoo.add_stock(
        Stock("SAP.DE", "SAP SE", 200.0, exchange="GER", full_exchange="XETRA", currency="EUR")
    )
    assert yahoo.quotes(["SAP.DE"])["SAP.DE"].currency == "EUR"
    info = yahoo.describe("SAP.DE")
    assert (info.name, info.currency, info.exchange) == ("SAP SE", "EUR", "XETRA")


def test_three_tickers_cold_then_warm_call_counts(yahoo, fake_exchange):
    symbols = _fresh(fake_exchange, 3)

    assert all(isinstance(q, Quote) for q in yahoo.quotes(symbols).values())
    charts = [r.query for r in fake_exchange.requests if r.path.startswith(CHART)]
    assert len(charts) == 6  # per ticker: the timezone probe, then the 5-day chart
    assert sorted(q["range"] for q in charts) == ["1d"] * 3 + ["5d"] * 3

    fake_exchange.reset_calls()
    yahoo.quotes(symbols)
    assert fake_exchange.calls(prefix=CHART) == 3  # the timezone is cached now: one each
    assert fake_exchange.calls("/") == 3  # the cookie visit before each request
    assert fake_exchange.calls() == 6


def test_an_unknown_ticker_inside_a_batch_does_not_fail_the_others(yahoo):
    quotes = yahoo.quotes(["AAPL", "NOPE", "MSFT"])

    assert isinstance(quotes["NOPE"], SymbolNotFound) and quotes["NOPE"].symbol == "NOPE"
    assert isinstance(quotes["AAPL"], Quote) and isinstance(quotes["MSFT"], Quote)
    assert list(quotes) == ["AAPL", "NOPE", "MSFT"]


def test_yfinance_prints_and_logs_nothing(yahoo, fake_exchange, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    yahoo.quotes(["AAPL", "NOPE"])
    fake_exchange.fault("http_502", path_prefix=CHART)
    with pytest.raises(ProviderUnavailable):
        yahoo.quotes(["MSFT"])

    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert not [r for r in caplog.records if r.name.startswith("yfinance")]


# --- bars ---------------------------------------------------------------------------------------


def test_daily_bars_match_the_recorded_aapl_chart(yahoo):
    recorded = json.loads((FIXTURES / "chart_AAPL_1d_2020-08-31_to_2020-11-07.json").read_text())
    q = recorded["chart"]["result"][0]["indicators"]["quote"][0]

    bars = yahoo.bars(
        "AAPL", "1d", datetime(2020, 8, 31, tzinfo=UTC), datetime(2020, 11, 7, tzinfo=UTC)
    )

    assert len(bars) == 49
    # yfinance labels daily bars with the exchange's midnight: 00:00 New York is 04:00 UTC (EDT).
    assert bars[0] == Bar(
        ticker="AAPL",
        interval="1d",
        open_time=datetime(2020, 8, 31, 4, tzinfo=UTC),
        open=q["open"][0],
        high=q["high"][0],
        low=q["low"][0],
        close=q["close"][0],  # unadjusted, as traded
        volume=q["volume"][0],
    )
    assert bars[-1].open_time == datetime(2020, 11, 6, 5, tzinfo=UTC)  # EST by then
    assert [b.close for b in bars] == q["close"]


def test_the_recorded_goog_bar(yahoo):
    bars = yahoo.bars(
        "GOOG", "1d", datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 3, tzinfo=UTC)
    )
    assert [(b.open_time.date().isoformat(), b.close) for b in bars] == [
        ("2020-01-02", 68.36849975585938)
    ]


@pytest.mark.parametrize(("interval", "days", "step"), [("5m", 3, 300), ("1h", 10, 3600)])
def test_intraday_bars(yahoo, interval, days, step):
    end = datetime.now(UTC)
    bars = yahoo.bars("MSFT", interval, end - timedelta(days=days), end)

    assert bars and all(b.interval == interval for b in bars)
    assert all(end - timedelta(days=days) <= b.open_time < end for b in bars)
    times = [b.open_time for b in bars]
    assert times == sorted(set(times))
    assert all(int(t.timestamp()) % step == 1800 % step for t in times)  # session opens at :30


def test_one_minute_bars_are_fetched_a_week_at_a_time(yahoo, fake_exchange):
    yahoo.quotes(["MSFT"])  # the timezone probe is not what this test counts
    fake_exchange.reset_calls()
    end = datetime.now(UTC)

    bars = yahoo.bars("MSFT", "1m", end - timedelta(days=10), end)

    assert len({b.open_time.date() for b in bars}) >= 6  # weekdays in ten days
    assert fake_exchange.calls(prefix=CHART) == 2  # Yahoo allows 8 days of 1m per request


def test_a_window_without_trading_is_empty(yahoo):
    # Recorded: Yahoo answers a weekend 1m window with HTTP 200 and no bars.
    end = datetime.now(UTC)
    saturday = (end - timedelta(days=(end.weekday() - 5) % 7 or 7)).replace(hour=1, minute=0)
    assert yahoo.bars("MSFT", "1m", saturday, saturday + timedelta(hours=20)) == []


def test_bars_for_an_unknown_ticker(yahoo):
    end = datetime.now(UTC)
    with pytest.raises(SymbolNotFound):
        yahoo.bars("NOPE", "1d", end - timedelta(days=10), end)


def test_bars_reject_an_unknown_interval(yahoo, fake_exchange):
    end = datetime.now(UTC)
    with pytest.raises(Invalid):
        yahoo.bars("AAPL", "4h", end - timedelta(days=1), end)
    assert fake_exchange.calls() == 0


# --- describe -----------------------------------------------------------------------------------


def test_describe_and_its_cache(yahoo, fake_exchange):
    info = yahoo.describe("MSFT")

    assert (info.ticker, info.asset_class, info.source) == ("MSFT", "stock", "yahoo")
    assert (info.name, info.currency, info.exchange) == ("Microsoft Corporation", "USD", "NasdaqGS")
    calls = fake_exchange.calls()
    assert yahoo.describe("MSFT") is info
    assert fake_exchange.calls() == calls  # the second describe made no HTTP call


def test_quotes_fill_the_describe_cache(yahoo, fake_exchange):
    yahoo.quotes(["GOOG"])
    fake_exchange.reset_calls()
    assert yahoo.describe("GOOG").name == "Alphabet Inc."
    assert fake_exchange.calls() == 0


def test_describe_an_unknown_ticker(yahoo):
    with pytest.raises(SymbolNotFound):
        yahoo.describe("NOPE")


# --- errors -------------------------------------------------------------------------------------

FAULTS = [
    # kind, Photon error, its reason, chart requests (2 attempts; yfinance repeats a 4xx/5xx once)
    ("http_500", ProviderUnavailable, "HTTP 500", 4),
    ("http_502", ProviderUnavailable, "HTTP 502", 4),
    ("http_429", RateLimited, "rate limited", 2),  # 60 s to wait is beyond the budget: no retry
    ("truncated", ProviderUnavailable, "garbage response", 2),
    ("truncated_json", ProviderUnavailable, "garbage response", 2),
    ("garbage", ProviderUnavailable, "garbage response", 2),
    ("delay", ProviderUnavailable, "timeout", 2),
]


@pytest.mark.parametrize(("kind", "error", "reason", "charts"), FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_maps_to_a_photon_error_in_bounded_time(
    yahoo, fake_exchange, kind, error, reason, charts
):
    yahoo.quotes(["AAPL"])  # warm: timezone known, cookie and crumb in hand
    fake_exchange.reset_calls()
    fake_exchange.fault(kind, path_prefix=CHART, seconds=1.0)
    started = time.monotonic()

    with pytest.raises(error) as caught:
        yahoo.quotes(["AAPL", "MSFT"])

    assert time.monotonic() - started < FAST["budget"] + 0.5
    assert (caught.value.provider, caught.value.reason) == ("yahoo", reason)
    assert caught.value.__cause__ is not None
    assert fake_exchange.calls(prefix=CHART) == charts  # MSFT is not tried once AAPL failed


def test_unknown_symbol_fault_is_per_symbol(yahoo, fake_exchange):
    # Both places yfinance may ask about MSFT: the chart and, when its timezone is not cached
    # yet, the quoteSummary fallback.
    fake_exchange.fault("unknown_symbol", path_prefix=f"{CHART}/MSFT")
    fake_exchange.fault("unknown_symbol", path_prefix="/v10/finance/quoteSummary/MSFT")
    quotes = yahoo.quotes(["AAPL", "MSFT"])
    assert isinstance(quotes["AAPL"], Quote) and isinstance(quotes["MSFT"], SymbolNotFound)


@pytest.mark.parametrize("kind", ["delay", "http_502"])
def test_faults_on_every_path_including_cookie_and_crumb(yahoo, fake_exchange, kind):
    fake_exchange.fault(kind, seconds=1.0)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        yahoo.quotes(["AAPL"])
    assert time.monotonic() - started < FAST["budget"] + 0.5


def test_a_transient_fault_is_retried_away(yahoo, fake_exchange):
    yahoo.quotes(["AAPL"])
    fake_exchange.fault("garbage", path_prefix=CHART, times=1)
    assert isinstance(yahoo.quotes(["AAPL"])["AAPL"], Quote)


def test_a_failure_after_a_success_is_reported_per_ticker(yahoo, fake_exchange):
    symbols = fake_exchange.add_synthetic_stocks(1)
    fake_exchange.fault("http_500", path_prefix=f"{CHART}/MSFT")
    fake_exchange.fault("http_500", path_prefix=f"{CHART}/GOOG")

    quotes = yahoo.quotes(["AAPL", "MSFT", "GOOG", *symbols])

    assert isinstance(quotes["AAPL"], Quote)
    assert quotes["MSFT"].reason == "HTTP 500" and quotes["GOOG"].reason == "HTTP 500"
    # Two failures in a row: the rest of the batch is not tried.
    assert quotes[symbols[0]].reason == "not tried after: HTTP 500"
    assert fake_exchange.calls(f"{CHART}/{symbols[0]}") == 0


def test_default_hosts_without_network_fail_fast(yf_cache_dir):
    if "127.0.0.1" not in os.environ.get("HTTPS_PROXY", ""):
        pytest.skip("needs the root conftest's dead loopback proxy to stay off the internet")
    provider = YahooProvider(tz_cache_dir=yf_cache_dir, **FAST)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as caught:
        provider.quotes(["AAPL"])
    assert caught.value.reason.startswith("network error")
    assert time.monotonic() - started < FAST["budget"] + 0.5


@pytest.mark.parametrize(
    ("exc", "expected", "reason"),
    [
        (curl_exc.DNSError("curl: (6) Could not resolve host", 6), ProviderUnavailable, None),
        (curl_exc.ConnectTimeout("curl: (28) timed out", 28), ProviderUnavailable, "timeout"),
        (curl_exc.Timeout("curl: (28) timed out", 28), ProviderUnavailable, "timeout"),
        (curl_exc.IncompleteRead("curl: (18) partial", 18), ProviderUnavailable, GARBAGE),
        (yf_exc.YFRateLimitError(), RateLimited, "rate limited"),
        (yf_exc.YFTzMissingError("NOPE"), SymbolNotFound, None),
        (yf_exc.YFPricesMissingError("X", "", DELISTED), SymbolNotFound, None),
        (yf_exc.YFPricesMissingError("X", "", "1m data not available"), ProviderUnavailable, None),
        (yf_exc.YFPricesMissingError("X", "(1d)"), NoPrices, None),
        (json.JSONDecodeError("Expecting value", "<html>", 0), ProviderUnavailable, GARBAGE),
        (KeyError("chart"), ProviderUnavailable, GARBAGE),
    ],
)  # fmt: skip
def test_vendor_errors_map_to_photon_errors(exc, expected, reason):
    error = to_photon_error("X", exc, None)
    assert type(error) is expected
    if reason:
        assert error.reason == reason


def test_http_errors_from_the_quote_summary_fallback():
    def http_error(status: int, path: str) -> curl_exc.HTTPError:
        response = SimpleNamespace(
            status_code=status, url=f"https://query2.finance.yahoo.com{path}"
        )
        return curl_exc.HTTPError(f"HTTP Error {status}", 0, response=response)

    summary = "/v10/finance/quoteSummary/NOPE?modules=quoteType"
    assert type(to_photon_error("NOPE", http_error(404, summary), 404)) is SymbolNotFound
    assert type(to_photon_error("NOPE", http_error(401, summary), 401)) is SymbolNotFound
    assert type(to_photon_error("NOPE", http_error(429, summary), 429)) is RateLimited
    other = to_photon_error("NOPE", http_error(401, "/v7/finance/quote"), 401)
    assert (type(other), other.reason) == (ProviderUnavailable, "HTTP 401")


def test_dns_error_reason():
    error = to_photon_error("AAPL", curl_exc.DNSError("no host", 6), None)
    assert error.reason == "network error (DNSError)"


# --- session and settings -----------------------------------------------------------------------


def test_session_rewrites_every_yahoo_host_onto_the_base_url():
    session = YahooSession("http://127.0.0.1:8123/yahoo/", timeout=1)
    for host in ("query1", "query2", "fc", "finance", "guce", "consent"):
        url = f"https://{host}.yahoo.com/v8/finance/chart/AAPL?range=5d"
        assert session.rewrite(url) == "http://127.0.0.1:8123/yahoo/v8/finance/chart/AAPL?range=5d"
    assert session.rewrite("https://fc.yahoo.com") == "http://127.0.0.1:8123/yahoo/"
    assert session.rewrite("https://example.org/x") == "https://example.org/x"
    assert YahooSession(None).rewrite("https://fc.yahoo.com") == "https://fc.yahoo.com"


def test_session_caps_timeouts_and_honours_the_deadline():
    session = YahooSession(None, timeout=2.0)
    assert session._bounded_timeout(30) == 2.0
    assert session._bounded_timeout(0.5) == 0.5
    with session.deadline(time.monotonic() + 1.0):
        assert session._bounded_timeout(30) <= 1.0
    with session.deadline(time.monotonic() - 1), pytest.raises(BudgetExhausted):
        session.get("https://query2.finance.yahoo.com/v8/finance/chart/AAPL")


def test_tz_cache_location_is_set_when_given(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(yf, "set_tz_cache_location", seen.append)
    YahooProvider(tz_cache_dir=str(tmp_path))
    YahooProvider()
    assert seen == [str(tmp_path)]
