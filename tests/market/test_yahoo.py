"""YahooProvider against the fake exchange: real yfinance, real curl_cffi, real-format answers.

Quotes come from the v7 quote endpoint, ``QUOTE_CHUNK_SIZE`` symbols per request, with the crumb
yfinance adds. Against the fake (a non-yahoo.com base URL) yfinance cannot keep the A3 cookie in its
disk cache, so a provider's first call visits fc.yahoo.com's root (``/``) twice before asking for
the crumb; from then on ``keep_cookie`` lets each quote request go alone. Bars come from the chart
API: one request per symbol, plus a ``range=1d`` timezone probe the first time a symbol is seen.
A 4xx/5xx answer makes yfinance renew cookie and crumb and repeat the request once.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import requests
import yfinance as yf
from curl_cffi.requests import exceptions as curl_exc
from yfinance import exceptions as yf_exc

from photon.errors import Invalid, ProviderUnavailable, RateLimited, SymbolNotFound
from photon.market.yahoo.errors import NoPrices, QuoteAuthRefused, to_photon_error
from photon.market.yahoo.provider import YahooProvider
from photon.market.yahoo.quotes import QUOTE_CHUNK_SIZE, parse_response, to_quote
from photon.market.yahoo.session import BudgetExhausted, YahooSession
from photon.types import Bar, Quote
from tests.fakes import FAULT_KINDS
from tests.fakes.http import text_reply
from tests.fakes.yahoo_api import CRUMB, QUOTE_MAX_SYMBOLS, Stock
from tests.market.conftest import FAST

CHART = "/v8/finance/chart"
QUOTE = "/v7/finance/quote"
CRUMB_PATH = "/v1/test/getcrumb"
COLD = ["/", "/", CRUMB_PATH, QUOTE]  # cookie (twice, see above), crumb, then the quotes
GARBAGE = "garbage response"
DELISTED = "No data found, symbol may be delisted"
FIXTURES = Path(__file__).parents[1] / "fakes" / "data" / "yahoo"
NY = ZoneInfo("America/New_York")
WEDNESDAY_3PM = datetime(2025, 11, 19, 15, tzinfo=NY).timestamp()  # regular session
SATURDAY = datetime(2025, 11, 22, 12, tzinfo=NY).timestamp()


def _chart(fx, symbol: str, **params: str) -> dict:
    response = requests.get(f"{fx.url}{CHART}/{symbol}", params=params, timeout=5)
    return response.json()["chart"]["result"][0]


def _v7(fx, symbols: str, **params: str) -> requests.Response:
    params = {"symbols": symbols, "crumb": fx.yahoo.crumb, **params}
    return requests.get(f"{fx.url}{QUOTE}", params=params, timeout=5)


def _paths(fx) -> list[str]:
    return [r.path for r in fx.requests]


def _quote_symbols(fx) -> list[list[str]]:
    return [r.query["symbols"].split(",") for r in fx.requests if r.path == QUOTE]


# --- quotes -------------------------------------------------------------------------------------


def test_aapl_and_msft_quotes_are_normalised_from_v7(yahoo, fake_exchange):
    fake_exchange.yahoo.clock_s = lambda: WEDNESDAY_3PM
    quotes = yahoo.quotes(["AAPL", "MSFT"])

    rows = _v7(fake_exchange, "AAPL,MSFT").json()["quoteResponse"]["result"]
    assert [row["symbol"] for row in rows] == ["AAPL", "MSFT"]
    for row in rows:
        quote = quotes[row["symbol"]]
        assert isinstance(quote, Quote)
        assert quote.price == row["regularMarketPrice"]
        assert quote.change == row["regularMarketChange"]
        # Percent, as Bybit's price24hPcnt * 100: 0.53 means 0.53 %.
        assert quote.change_pct == row["regularMarketChangePercent"]
        assert quote.change_pct == pytest.approx(
            row["regularMarketChange"] / row["regularMarketPreviousClose"] * 100, abs=1e-4
        )
        assert quote.ts == datetime.fromtimestamp(row["regularMarketTime"], tz=UTC)
        assert quote.ts.tzinfo is UTC
        assert quote.volume == row["regularMarketVolume"]
        assert (quote.bid, quote.ask) == (row["bid"], row["ask"])
        assert quote.bid < quote.price < quote.ask
        assert (quote.currency, quote.source) == ("USD", "yahoo")


def test_no_bid_or_ask_while_the_market_is_closed(yahoo, fake_exchange):
    fake_exchange.yahoo.clock_s = lambda: SATURDAY
    quote = yahoo.quotes(["AAPL"])["AAPL"]
    assert quote.price > 0 and (quote.bid, quote.ask) == (None, None)  # Yahoo sends 0 for them


def test_currency_and_names_come_from_the_quote_row(yahoo, fake_exchange):
    fake_exchange.yahoo.add_stock(
        Stock("SAP.DE", "SAP SE", 200.0, exchange="GER", full_exchange="XETRA", currency="EUR")
    )
    assert yahoo.quotes(["SAP.DE"])["SAP.DE"].currency == "EUR"
    info = yahoo.describe("SAP.DE")
    assert (info.name, info.currency, info.exchange) == ("SAP SE", "EUR", "XETRA")


def test_three_tickers_cost_one_request_once_the_crumb_is_held(yahoo, fake_exchange):
    assert all(isinstance(q, Quote) for q in yahoo.quotes(["AAPL", "MSFT", "GOOG"]).values())
    assert _paths(fake_exchange) == COLD
    assert fake_exchange.requests[-1].query["crumb"] == CRUMB
    assert _quote_symbols(fake_exchange) == [["AAPL", "MSFT", "GOOG"]]

    for _ in range(3):  # every later cycle: the quote request alone
        fake_exchange.reset_calls()
        yahoo.quotes(["AAPL", "MSFT", "GOOG"])
        assert _paths(fake_exchange) == [QUOTE]


@pytest.mark.parametrize("n", [500, 1000])
def test_many_tickers_go_in_chunks(yahoo, fake_exchange, n):
    symbols = fake_exchange.add_synthetic_stocks(n)
    requests_needed = math.ceil(n / QUOTE_CHUNK_SIZE)  # 5 for 500, 10 for 1,000

    quotes = yahoo.quotes(symbols)
    assert fake_exchange.calls(QUOTE) == requests_needed
    assert fake_exchange.calls() == requests_needed + 3  # the first cycle's cookie and crumb
    assert sum(isinstance(q, Quote) for q in quotes.values()) == n
    assert [s for chunk in _quote_symbols(fake_exchange) for s in chunk] == symbols

    fake_exchange.reset_calls()
    started = time.monotonic()
    yahoo.quotes(symbols)
    assert _paths(fake_exchange) == [QUOTE] * requests_needed
    assert time.monotonic() - started < 2.0


def test_the_chunk_size_fits_what_yahoo_accepts(fake_exchange, yf_cache_dir):
    assert QUOTE_CHUNK_SIZE <= QUOTE_MAX_SYMBOLS
    too_big = YahooProvider(
        base_url=fake_exchange.url, tz_cache_dir=yf_cache_dir, quote_chunk=150, **FAST
    )
    with pytest.raises(ProviderUnavailable) as caught:
        too_big.quotes(fake_exchange.add_synthetic_stocks(150))
    assert caught.value.reason.startswith("Yahoo said: Connection is deallocated")


def test_an_unknown_ticker_inside_a_batch_does_not_fail_the_others(yahoo, fake_exchange):
    quotes = yahoo.quotes(["AAPL", "NOPE", "MSFT"])

    assert isinstance(quotes["NOPE"], SymbolNotFound) and quotes["NOPE"].symbol == "NOPE"
    assert isinstance(quotes["AAPL"], Quote) and isinstance(quotes["MSFT"], Quote)
    assert list(quotes) == ["AAPL", "NOPE", "MSFT"]
    assert fake_exchange.calls(QUOTE) == 1


def test_an_expired_crumb_is_renewed_once(yahoo, fake_exchange):
    yahoo.quotes(["AAPL"])
    fresh = fake_exchange.yahoo.expire_crumb()
    fake_exchange.reset_calls()

    assert isinstance(yahoo.quotes(["AAPL", "MSFT"])["MSFT"], Quote)
    # 401 "Invalid Crumb"; yfinance tries its consent flow (nothing to consent to here), takes a
    # new cookie and crumb, and repeats the request.
    assert _paths(fake_exchange) == [QUOTE, "/consent", "/", "/", CRUMB_PATH, QUOTE]
    quote_crumbs = [r.query["crumb"] for r in fake_exchange.requests if r.path == QUOTE]
    assert quote_crumbs == [CRUMB, fresh]

    fake_exchange.reset_calls()
    yahoo.quotes(["AAPL", "MSFT"])
    assert _paths(fake_exchange) == [QUOTE]


def test_a_new_session_does_not_reuse_another_sessions_crumb(yahoo, fake_exchange, yf_cache_dir):
    yahoo.quotes(["AAPL"])
    other = YahooProvider(base_url=fake_exchange.url, tz_cache_dir=yf_cache_dir, **FAST)
    fake_exchange.reset_calls()
    assert isinstance(other.quotes(["AAPL"])["AAPL"], Quote)
    assert _paths(fake_exchange) == COLD


def test_yfinance_prints_and_logs_nothing(yahoo, fake_exchange, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    yahoo.quotes(["AAPL", "NOPE"])
    fake_exchange.fault("http_502", path_prefix=QUOTE)
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
    end = datetime.now(UTC)
    yahoo.bars("MSFT", "1d", end - timedelta(days=3), end)  # the timezone probe is not counted
    fake_exchange.reset_calls()

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
    assert _paths(fake_exchange) == COLD  # one v7 quote request, no chart
    assert yahoo.describe("MSFT") is info
    assert fake_exchange.calls() == len(COLD)  # the second describe made no HTTP call


def test_describe_an_index(yahoo, fake_exchange):
    fake_exchange.yahoo.add_stock(Stock("^GSPC", "S&P 500", 5900.0, instrument_type="INDEX"))
    assert yahoo.describe("^GSPC").asset_class == "index"


def test_quotes_fill_the_describe_cache(yahoo, fake_exchange):
    yahoo.quotes(["GOOG"])
    fake_exchange.reset_calls()
    assert yahoo.describe("GOOG").name == "Alphabet Inc."
    assert fake_exchange.calls() == 0


def test_describe_an_unknown_ticker(yahoo):
    with pytest.raises(SymbolNotFound):
        yahoo.describe("NOPE")


def test_describe_falls_back_to_the_chart_when_quotes_refuse_the_crumb(yahoo, fake_exchange):
    fake_exchange.fault("http_403", path_prefix=QUOTE)
    info = yahoo.describe("MSFT")
    assert (info.name, info.currency, info.exchange) == ("Microsoft Corporation", "USD", "NasdaqGS")
    assert fake_exchange.calls(prefix=f"{CHART}/MSFT") >= 1
    with pytest.raises(SymbolNotFound):
        yahoo.describe("NOPE")


# --- errors -------------------------------------------------------------------------------------

FAULTS = {
    # kind: Photon error, its reason, quote requests (2 attempts; yfinance repeats a 4xx/5xx once)
    "http_500": (ProviderUnavailable, "HTTP 500", 4),
    "http_502": (ProviderUnavailable, "HTTP 502", 4),
    "http_403": (QuoteAuthRefused, "HTTP 403", 4),
    "http_429": (RateLimited, "rate limited", 2),  # 60 s to wait is beyond the budget: no retry
    "bybit_10006": (ProviderUnavailable, GARBAGE, 2),  # Bybit's JSON is garbage to Yahoo clients
    "bybit_10016": (ProviderUnavailable, GARBAGE, 2),
    "truncated": (ProviderUnavailable, GARBAGE, 2),
    "truncated_json": (ProviderUnavailable, GARBAGE, 2),
    "garbage": (ProviderUnavailable, GARBAGE, 2),
    "delay": (ProviderUnavailable, "timeout", 2),
}


def test_every_fault_kind_is_covered():
    assert set(FAULTS) | {"unknown_symbol"} == set(FAULT_KINDS)


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_each_fault_maps_to_a_photon_error_in_bounded_time(yahoo, fake_exchange, kind):
    error, reason, quote_requests = FAULTS[kind]
    yahoo.quotes(["AAPL"])  # warm: cookie and crumb in hand
    fake_exchange.reset_calls()
    fake_exchange.fault(kind, path_prefix=QUOTE, seconds=1.0)
    started = time.monotonic()

    with pytest.raises(error) as caught:
        yahoo.quotes(["AAPL", "MSFT"])

    assert time.monotonic() - started < FAST["budget"] + 0.5
    assert type(caught.value) is error
    assert (caught.value.provider, caught.value.reason) == ("yahoo", reason)
    assert fake_exchange.calls(QUOTE) == quote_requests


def test_unknown_symbol_fault_is_per_symbol(yahoo, fake_exchange):
    fake_exchange.fault("unknown_symbol", path_prefix=QUOTE)
    quotes = yahoo.quotes(["AAPL", "MSFT"])
    assert all(isinstance(quotes[t], SymbolNotFound) for t in ("AAPL", "MSFT"))


@pytest.mark.parametrize("kind", ["delay", "http_502"])
def test_faults_on_every_path_including_cookie_and_crumb(yahoo, fake_exchange, kind):
    fake_exchange.fault(kind, seconds=1.0)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        yahoo.quotes(["AAPL"])
    assert time.monotonic() - started < FAST["budget"] + 0.5


def test_the_budget_covers_all_chunks(fake_exchange, yf_cache_dir):
    settings = {**FAST, "budget": 1.0}
    provider = YahooProvider(
        base_url=fake_exchange.url, tz_cache_dir=yf_cache_dir, quote_chunk=1, **settings
    )
    provider.quotes(["AAPL"])
    fake_exchange.fault("delay", path_prefix=QUOTE, seconds=0.3)  # under the 0.5 s timeout
    symbols = fake_exchange.add_synthetic_stocks(20)
    started = time.monotonic()

    quotes = provider.quotes(symbols)

    assert time.monotonic() - started < settings["budget"] + 0.5
    assert isinstance(quotes[symbols[0]], Quote)
    assert quotes[symbols[-1]].reason.startswith("not tried after: timeout")


def test_a_transient_fault_is_retried_away(yahoo, fake_exchange):
    yahoo.quotes(["AAPL"])
    fake_exchange.fault("garbage", path_prefix=QUOTE, times=1)
    assert isinstance(yahoo.quotes(["AAPL"])["AAPL"], Quote)


@pytest.mark.parametrize(
    ("status", "failing", "rest"),
    [(500, {"MSFT", "GOOG"}, "not tried after: HTTP 500"), (429, {"MSFT"}, "rate limited")],
)
def test_a_failure_after_a_success_is_reported_per_ticker(
    fake_exchange, yf_cache_dir, monkeypatch, status, failing, rest
):
    provider = YahooProvider(
        base_url=fake_exchange.url, tz_cache_dir=yf_cache_dir, quote_chunk=1, **FAST
    )
    answer = fake_exchange.yahoo.quote

    def quote(query):
        if failing & set(query.get("symbols", "").split(",")):
            return text_reply(status, "<html>nope</html>")
        return answer(query)

    monkeypatch.setattr(fake_exchange.yahoo, "quote", quote)
    symbols = fake_exchange.add_synthetic_stocks(1)

    quotes = provider.quotes(["AAPL", "MSFT", "GOOG", *symbols])

    assert isinstance(quotes["AAPL"], Quote)
    assert quotes["MSFT"].reason == ("HTTP 500" if status == 500 else "rate limited")
    assert quotes[symbols[0]].reason == rest  # two failures in a row, or a rate limit: stop
    assert [symbols[0]] not in _quote_symbols(fake_exchange)


class _FailingQuotes(YahooSession):
    """A session whose quote requests raise ``exc`` before anything is sent."""

    def __init__(self, base_url: str, exc: Exception) -> None:
        super().__init__(base_url, timeout=FAST["timeout"])
        self.exc = exc

    def request(self, method: str, url: str, *args, **kwargs):
        if QUOTE in url:
            raise self.exc
        return super().request(method, url, *args, **kwargs)


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (curl_exc.DNSError("curl: (6) Could not resolve host", 6), "network error (DNSError)"),
        (curl_exc.ConnectionError("curl: (7) refused", 7), "network error (ConnectionError)"),
        (curl_exc.Timeout("curl: (28) timed out", 28), "timeout"),
        (curl_exc.IncompleteRead("curl: (18) partial", 18), GARBAGE),
    ],
)  # fmt: skip
def test_transport_errors_on_the_quote_path(fake_exchange, yf_cache_dir, exc, reason):
    session = _FailingQuotes(fake_exchange.url, exc)
    provider = YahooProvider(tz_cache_dir=yf_cache_dir, session=session, **FAST)
    with pytest.raises(ProviderUnavailable) as caught:
        provider.quotes(["AAPL"])
    assert caught.value.reason == reason and caught.value.__cause__ is exc


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


@pytest.mark.parametrize(
    ("status", "body", "expected", "reason"),
    [
        (429, b"Too Many Requests", RateLimited, "rate limited"),
        (401, b'{"finance":{"result":null,"error":{"code":"Unauthorized",'
              b'"description":"Invalid Crumb"}}}', QuoteAuthRefused, "HTTP 401"),
        (403, b"", QuoteAuthRefused, "HTTP 403"),
        (500, b"<html>500</html>", ProviderUnavailable, "HTTP 500"),
        (404, b'{"finance":{"error":{"code":"Not Found"}}}', ProviderUnavailable, "HTTP 404"),
        (200, b"<!DOCTYPE html><html>", ProviderUnavailable, GARBAGE),
        (200, b'{"quoteResponse":{"result":[{"symbol":"AAPL",', ProviderUnavailable, GARBAGE),
        (200, b'{"chart":{}}', ProviderUnavailable, GARBAGE),
        (200, b'{"quoteResponse":{"result":[],"error":{"code":"internal-error",'
              b'"description":"Connection is deallocated"}}}', ProviderUnavailable,
         "Yahoo said: Connection is deallocated"),
    ],
)  # fmt: skip
def test_quote_answers_map_to_photon_errors(status, body, expected, reason):
    with pytest.raises(expected) as caught:
        parse_response(status, body)
    assert type(caught.value) is expected and caught.value.reason == reason


def test_quote_answer_rows_by_symbol():
    assert parse_response(200, b'{"quoteResponse":{"result":null,"error":null}}') == {}
    rows = parse_response(200, b'{"quoteResponse":{"result":[{"symbol":"brk-b"}],"error":null}}')
    assert rows == {"BRK-B": {"symbol": "brk-b"}}


def test_quote_row_normalisation():
    row = {
        "symbol": "AAPL", "currency": "USD", "regularMarketPrice": 227.48,
        "regularMarketChange": 1.2, "regularMarketChangePercent": 0.53,
        "regularMarketVolume": 40000000, "regularMarketTime": 1732050000,
        "bid": 0, "ask": 227.5,
    }  # fmt: skip
    quote = to_quote("AAPL", row)
    assert quote == Quote(
        ticker="AAPL", price=227.48, ts=datetime(2024, 11, 19, 21, 0, tzinfo=UTC), source="yahoo",
        change=1.2, change_pct=0.53, volume=40000000.0, bid=None, ask=227.5, currency="USD",
        source_time=datetime(2024, 11, 19, 21, 0, tzinfo=UTC),
    )  # fmt: skip
    assert isinstance(to_quote("DEAD", {"symbol": "DEAD", "currency": "USD"}), SymbolNotFound)


# --- the fake's v7 quote endpoint ---------------------------------------------------------------


def test_fake_quote_needs_the_crumb(fake_exchange):
    for params in ({}, {"crumb": "stale"}):
        response = requests.get(f"{fake_exchange.url}{QUOTE}?symbols=AAPL", params=params)
        assert response.status_code == 401
        error = {"code": "Unauthorized", "description": "Invalid Crumb"}
        assert response.json() == {"finance": {"result": None, "error": error}}
    assert _v7(fake_exchange, "AAPL").status_code == 200


def test_fake_quote_rows_and_fields(fake_exchange):
    full = _v7(fake_exchange, "AAPL,NOPE,MSFT").json()["quoteResponse"]
    assert full["error"] is None and [r["symbol"] for r in full["result"]] == ["AAPL", "MSFT"]
    assert {"language", "region", "quoteType", "shortName", "regularMarketPreviousClose", "bidSize",
            "askSize", "marketState", "exchangeTimezoneName"} <= set(full["result"][0])  # fmt: skip
    trimmed = _v7(fake_exchange, "AAPL", fields="regularMarketPrice,currency").json()
    row = trimmed["quoteResponse"]["result"][0]
    assert {"regularMarketPrice", "currency", "symbol", "marketState"} <= set(row)
    assert "regularMarketPreviousClose" not in row and "bid" not in row


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
