"""BybitProvider against the fake exchange: real pybit, real HTTP, real-format bodies."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from photon.errors import Invalid, ProviderUnavailable, RateLimited, SymbolNotFound
from photon.market.bybit import BybitProvider
from photon.types import Bar, Quote
from tests.fakes import FakeExchange
from tests.market.conftest import FAST

TICKERS = "/v5/market/tickers"
KLINE = "/v5/market/kline"
INSTRUMENTS = "/v5/market/instruments-info"
FIXTURES = Path(__file__).parents[1] / "fakes" / "data" / "bybit"


# --- quotes -------------------------------------------------------------------------------------


def test_btcusdt_quote_is_normalised_from_the_recorded_ticker():
    recorded = json.loads((FIXTURES / "docs_tickers_spot_BTCUSDT.json").read_text())
    with FakeExchange(clock=lambda: recorded["time"] / 1000) as fx:
        quote = BybitProvider(endpoint=fx.url, **FAST).quotes(["BTCUSDT"])["BTCUSDT"]

    assert quote == Quote(
        ticker="BTCUSDT",
        price=20533.13,
        ts=datetime(2023, 1, 16, 8, 51, 27, 947000, tzinfo=UTC),
        source="bybit",
        change=139.65,  # lastPrice 20533.13 - prevPrice24h 20393.48
        change_pct=0.68,  # price24hPcnt "0.0068"
        volume=11801.27771,
        bid=20517.96,
        ask=20527.77,
        currency="USDT",
        source_time=datetime(2023, 1, 16, 8, 51, 27, 947000, tzinfo=UTC),
    )


def test_three_quotes_cost_one_tickers_call(bybit, fake_exchange):
    quotes = bybit.quotes(["BTCUSDT", "ETHUSDT", "BNBUSDT"])

    assert fake_exchange.calls(TICKERS) == 1
    assert fake_exchange.calls() == 1
    assert all(isinstance(q, Quote) for q in quotes.values())
    eth = quotes["ETHUSDT"]
    assert 1000 < eth.price < 2000 and eth.bid < eth.price < eth.ask
    assert eth.ts.tzinfo is UTC and eth.currency == "USDT" and eth.source == "bybit"


def test_five_hundred_quotes_cost_one_tickers_call(bybit, fake_exchange):
    symbols = fake_exchange.add_synthetic_pairs(500)

    quotes = bybit.quotes(symbols)

    assert fake_exchange.calls(TICKERS) == 1
    assert len(quotes) == 500
    assert all(isinstance(q, Quote) for q in quotes.values())
    assert quotes["SYM0500USDT"].price > quotes["SYM0001USDT"].price


def test_an_unknown_pair_inside_a_batch_does_not_fail_the_others(bybit, fake_exchange):
    quotes = bybit.quotes(["BTCUSDT", "NOPEUSDT", "ETHUSDT"])

    assert isinstance(quotes["NOPEUSDT"], SymbolNotFound)
    assert quotes["NOPEUSDT"].symbol == "NOPEUSDT"
    assert isinstance(quotes["BTCUSDT"], Quote) and isinstance(quotes["ETHUSDT"], Quote)
    assert fake_exchange.calls(TICKERS) == 1


def test_no_tickers_means_no_call(bybit, fake_exchange):
    assert bybit.quotes([]) == {}
    assert fake_exchange.calls() == 0


# --- bars ---------------------------------------------------------------------------------------


def test_bars_page_backwards_over_a_long_range(bybit, fake_exchange):
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    start = end - timedelta(days=3)  # 4,320 one-minute bars: five pages of at most 1,000

    bars = bybit.bars("ETHUSDT", "1m", start, end)

    assert len(bars) == 4320
    assert bars[0].open_time == start and bars[-1].open_time == end - timedelta(minutes=1)
    steps = {b.open_time - a.open_time for a, b in zip(bars, bars[1:], strict=False)}
    assert steps == {timedelta(minutes=1)}  # oldest first, no gap, no duplicate
    pages = [r.query for r in fake_exchange.requests if r.path == KLINE]
    assert len(pages) == 5
    ends = [int(p["end"]) for p in pages]
    assert ends == sorted(ends, reverse=True)  # each page ends before the previous one
    assert {p["limit"] for p in pages} == {"1000"} and {p["interval"] for p in pages} == {"1"}
    assert {p["start"] for p in pages} == {str(int(start.timestamp() * 1000))}


def test_bars_are_half_open_and_typed(bybit):
    end = datetime(2024, 3, 1, tzinfo=UTC)
    bars = bybit.bars("BTCUSDT", "1h", end - timedelta(hours=5), end)

    assert [b.open_time.hour for b in bars] == [19, 20, 21, 22, 23]
    assert all(isinstance(b, Bar) and b.interval == "1h" and b.low <= b.high for b in bars)


def test_daily_bars_match_the_recorded_klines(bybit):
    bars = bybit.bars(
        "BTCUSDT", "1d", datetime(2023, 9, 12, tzinfo=UTC), datetime(2023, 9, 15, tzinfo=UTC)
    )

    assert [b.open_time.day for b in bars] == [12, 13, 14]
    assert bars[1] == Bar(
        ticker="BTCUSDT",
        interval="1d",
        open_time=datetime(2023, 9, 13, tzinfo=UTC),
        open=18979.62,
        high=25000.0,
        low=18580.75,
        close=19289.27,
        volume=59221.813269,
    )


def test_bars_stop_paging_when_the_history_runs_out(bybit, fake_exchange):
    # The fake lists pairs from 2020-01-01: asking from 2019 returns a short last page.
    bars = bybit.bars(
        "BNBUSDT", "1d", datetime(2019, 1, 1, tzinfo=UTC), datetime(2023, 1, 1, tzinfo=UTC)
    )

    assert bars[0].open_time == datetime(2020, 1, 1, tzinfo=UTC)
    assert len(bars) == (datetime(2023, 1, 1) - datetime(2020, 1, 1)).days
    assert fake_exchange.calls(KLINE) == 2


def test_bars_for_an_unknown_pair(bybit, fake_exchange):
    end = datetime.now(UTC)
    with pytest.raises(SymbolNotFound):
        bybit.bars("NOPEUSDT", "1h", end - timedelta(hours=3), end)
    assert fake_exchange.calls(KLINE) == 1  # not retried


def test_bars_reject_an_unknown_interval_and_naive_datetimes(bybit, fake_exchange):
    end = datetime.now(UTC)
    with pytest.raises(Invalid):
        bybit.bars("BTCUSDT", "4h", end - timedelta(days=1), end)
    with pytest.raises(Invalid):
        bybit.bars("BTCUSDT", "1h", datetime(2024, 1, 1), datetime(2024, 1, 2))
    assert fake_exchange.calls() == 0


# --- describe -----------------------------------------------------------------------------------


def test_describe_and_its_cache(bybit, fake_exchange):
    info = bybit.describe("ETHUSDT")

    assert (info.ticker, info.asset_class, info.source) == ("ETHUSDT", "crypto", "bybit")
    assert (info.name, info.currency, info.exchange) == ("ETH/USDT", "USDT", "Bybit")
    assert bybit.describe("ETHUSDT") is info
    assert fake_exchange.calls(INSTRUMENTS) == 1  # the second describe made no HTTP call
    assert fake_exchange.requests[0].query == {"category": "spot", "symbol": "ETHUSDT"}


def test_describe_cache_expires(fake_exchange):
    now = [1000.0]
    provider = BybitProvider(
        endpoint=fake_exchange.url, describe_ttl=60, clock=lambda: now[0], **FAST
    )
    provider.describe("BTCUSDT")
    now[0] += 61
    provider.describe("BTCUSDT")
    assert fake_exchange.calls(INSTRUMENTS) == 2


def test_describe_an_unknown_pair(bybit):
    # instruments-info answers an unknown symbol with retCode 0 and an empty list.
    with pytest.raises(SymbolNotFound) as caught:
        bybit.describe("NOPEUSDT")
    assert caught.value.symbol == "NOPEUSDT"


# --- errors -------------------------------------------------------------------------------------

FAULTS = [
    # kind, Photon error, its reason, HTTP calls made (attempts; 3 when retried)
    ("http_500", ProviderUnavailable, "HTTP 500", 3),
    ("http_502", ProviderUnavailable, "HTTP 502", 3),
    ("http_429", RateLimited, "rate limited", 3),
    ("http_403", RateLimited, "rate limited", 1),  # an IP ban outlasts any budget: no retry
    ("bybit_10006", RateLimited, "rate limited", 3),
    ("bybit_10016", ProviderUnavailable, "server timeout (retCode 10016)", 3),
    ("truncated", ProviderUnavailable, "garbage response", 3),
    ("truncated_json", ProviderUnavailable, "garbage response", 3),
    ("garbage", ProviderUnavailable, "garbage response", 3),
    ("delay", ProviderUnavailable, "timeout", 3),
]


@pytest.mark.parametrize(("kind", "error", "reason", "calls"), FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_maps_to_a_photon_error_in_bounded_time(
    bybit, fake_exchange, kind, error, reason, calls
):
    fake_exchange.fault(kind, seconds=1.0)
    started = time.monotonic()

    with pytest.raises(error) as caught:
        bybit.quotes(["BTCUSDT"])

    assert time.monotonic() - started < FAST["budget"] + 0.5
    assert caught.value.reason == reason
    assert caught.value.provider == "bybit"
    assert caught.value.__cause__ is not None  # raised "from" the vendor error
    assert fake_exchange.calls(TICKERS) == calls


def test_unknown_symbol_from_kline_is_symbol_not_found(bybit, fake_exchange):
    fake_exchange.fault("unknown_symbol", path_prefix=KLINE)
    end = datetime.now(UTC)
    with pytest.raises(SymbolNotFound):
        bybit.bars("BTCUSDT", "1h", end - timedelta(hours=3), end)


def test_a_transient_fault_is_retried_away(bybit, fake_exchange):
    fake_exchange.fault("http_502", path_prefix=TICKERS, times=2)

    quotes = bybit.quotes(["BTCUSDT"])

    assert isinstance(quotes["BTCUSDT"], Quote)
    assert fake_exchange.calls(TICKERS) == 3


def test_rate_limit_waits_for_the_reset_header(fake_exchange):
    slept: list[float] = []
    provider = BybitProvider(
        endpoint=fake_exchange.url, timeout=0.5, max_delay=2.0, sleep=slept.append
    )
    fake_exchange.fault("bybit_10006", times=1, reset_ms=800)

    assert isinstance(provider.quotes(["BTCUSDT"])["BTCUSDT"], Quote)
    assert len(slept) == 1 and 0.5 < slept[0] < 0.85  # X-Bapi-Limit-Reset-Timestamp - now


def test_pybit_does_not_retry_or_sleep_on_its_own(fake_exchange):
    provider = BybitProvider(endpoint=fake_exchange.url, retries=1, timeout=0.5)
    fake_exchange.fault("bybit_10006", reset_ms=2000)
    started = time.monotonic()

    with pytest.raises(RateLimited):
        provider.quotes(["BTCUSDT"])

    assert fake_exchange.calls(TICKERS) == 1
    assert time.monotonic() - started < 1.0  # pybit would have slept until the reset


def test_a_closed_port_is_provider_unavailable(fake_exchange):
    provider = BybitProvider(endpoint="http://127.0.0.1:9", **FAST)
    with pytest.raises(ProviderUnavailable) as caught:
        provider.quotes(["BTCUSDT"])
    assert caught.value.reason == "network error (ConnectionError)"


def test_endpoint_defaults_to_the_real_host_and_is_configurable(fake_exchange):
    assert BybitProvider().endpoint == "https://api.bybit.com"
    assert BybitProvider(endpoint=fake_exchange.url + "/").endpoint == fake_exchange.url
