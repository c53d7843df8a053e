"""Yahoo's streamer through yfinance's ``AsyncWebSocket``: one connection for every watched stock,
pushes are base64 ``PricingData`` protobufs.

yfinance does the protocol: the ``{"subscribe": [...]}`` message, repeated every 15 s as the
heartbeat Yahoo expects (its ``_periodic_subscribe``), ``{"unsubscribe": [...]}``, and decoding
each push with its own ``PricingData`` class. Its ``listen`` loop is replaced (``_YahooSocket``):
on a closed connection it spins without reconnecting, and a frame that is not JSON stalls it for
3 s. Here a bad frame is logged and skipped, and a closed connection ends the session, so that
``VenueStream`` reconnects with jittered backoff and resubscribes everything.

Yahoo's streamer has no candles: bars are built from the ticks (``TickBars``, 1m and 5m) and the
day's bar from the day's open, high, low and volume each push carries, dated at midnight in the
exchange's time zone as Yahoo's own daily bars are (when that zone is known). Only regular-session
pushes feed the bars, as only they feed Yahoo's.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from yfinance import AsyncWebSocket

from photon.market.streams.bars import TickBars
from photon.market.streams.base import Backoff, VenueStream
from photon.types import Bar, Quote, Source

log = logging.getLogger(__name__)

DEFAULT_URL = "wss://streamer.finance.yahoo.com/?version=2"
HEARTBEAT = 15.0  # seconds; what yfinance repeats the subscription at
REGULAR_MARKET = 1  # PricingData.market_hours
NEW_YORK = ZoneInfo("America/New_York")


class _YahooSocket(AsyncWebSocket):
    def __init__(self, url: str, heartbeat: float) -> None:
        super().__init__(url=url, verbose=False)
        self._subscription_interval = heartbeat
        # yfinance logs every failed connect and undecodable frame at ERROR with a traceback;
        # this stream reports both itself, in one line. The logger is process-wide, and the
        # stream process runs no Yahoo provider whose messages this would hide.
        logging.getLogger("yfinance").setLevel(logging.CRITICAL)

    async def listen(self, message_handler: Callable[[dict], None] | None = None) -> None:
        """Decode frames until the connection ends (then return, or raise if it broke)."""
        async for frame in self._ws:
            try:
                decoded = self._decode_message(json.loads(frame)["message"])
                if "error" in decoded:
                    raise ValueError(decoded["error"])
            except Exception as exc:
                log.warning(
                    "yahoo stream: skipped a frame it could not read (%s: %s): %.200r",
                    type(exc).__name__,
                    exc,
                    frame,
                )
                continue
            if message_handler is None:
                continue
            try:
                message_handler(decoded)
            except Exception:
                log.exception("yahoo stream: a push could not be handled: %.200r", decoded)


def us_session_open(now: datetime) -> bool:
    """New York's regular session, Monday to Friday 09:30-16:00 (holidays not known)."""
    local = now.astimezone(NEW_YORK)
    return local.weekday() < 5 and time(9, 30) <= local.time() < time(16, 0)


class YahooStream(VenueStream):
    source = Source.YAHOO
    own_bars = False

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        silence: float = 10.0,
        heartbeat: float = HEARTBEAT,
        exchange_zone: Callable[[str], str | None] = lambda _ticker: None,
        session_open: Callable[[datetime], bool] = us_session_open,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(silence, backoff)
        self.url = url
        self.heartbeat = heartbeat
        self._exchange_zone = exchange_zone
        self._zones: dict[str, ZoneInfo | None] = {}
        self._session_open = session_open
        self._bars = TickBars()
        self._days: dict[str, Bar] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None

    def expected_silence(self, now: datetime) -> float | None:
        # Yahoo pushes a stock only while it trades: a closed market is quiet, not broken.
        return self.silence if self._session_open(now) else None

    def _wake(self) -> None:
        loop, changed = self._loop, self._changed
        if loop is not None and changed is not None:
            try:
                loop.call_soon_threadsafe(changed.set)
            except RuntimeError:
                pass  # the session's loop just closed; the next one reads ``wanted`` anew

    def _session(self) -> None:
        asyncio.run(self._connection())

    async def _connection(self) -> None:
        self._loop, self._changed = asyncio.get_running_loop(), asyncio.Event()
        client = _YahooSocket(self.url, self.heartbeat)
        listener = closer = None
        try:
            await client._connect()
            self._connected_now()
            self._bars.reset()
            listener = asyncio.create_task(client.listen(self._on_pricing))
            closer = asyncio.create_task(self._expire_bars())
            while not self._stop.is_set() and self.wanted:
                self._changed.clear()
                await self._follow(client)
                changed = asyncio.create_task(self._changed.wait())
                done, _ = await asyncio.wait(
                    {listener, changed}, return_when=asyncio.FIRST_COMPLETED
                )
                changed.cancel()
                if listener in done:
                    listener.result()  # raises if the connection broke
                    return
        finally:
            for task in (listener, closer):
                if task is not None:
                    task.cancel()
            self._loop = self._changed = None
            await client.close()

    async def _follow(self, client: _YahooSocket) -> None:
        wanted, have = self.wanted, set(client._subscriptions)
        if wanted - have:
            await client.subscribe(sorted(wanted - have))
        if have - wanted:
            await client.unsubscribe(sorted(have - wanted))

    async def _expire_bars(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            # A little after the end: the venue's clock may run behind ours.
            for bar in self._bars.expire(datetime.now(UTC) - timedelta(seconds=2)):
                self._bar(bar, True)

    def _on_pricing(self, data: dict[str, Any]) -> None:
        quote = pricing_quote(data, datetime.now(UTC))
        if quote is None or quote.ticker not in self.wanted:
            return
        self._quote(quote)
        if data.get("market_hours", 0) != REGULAR_MARKET or quote.source_time is None:
            return
        volume = _float(data.get("day_volume"))
        for bar, closed in self._bars.tick(quote.ticker, quote.source_time, quote.price, volume):
            self._bar(bar, closed)
        day = self._day_bar(quote, data)
        if day is not None:
            self._bar(day, False)

    def _day_bar(self, quote: Quote, data: dict[str, Any]) -> Bar | None:
        zone = self._zone(quote.ticker)
        if zone is None or quote.source_time is None:
            return None
        local = quote.source_time.astimezone(zone)
        opened = datetime.combine(local.date(), time(0), zone).astimezone(UTC)
        previous = self._days.get(quote.ticker)
        if previous is not None and previous.open_time < opened:
            self._bar(previous, True)
        price = quote.price
        bar = Bar(
            ticker=quote.ticker,
            interval="1d",
            open_time=opened,
            open=_float(data.get("open_price")) or price,
            high=max(_float(data.get("day_high")) or price, price),
            low=min(_float(data.get("day_low")) or price, price),
            close=price,
            volume=_float(data.get("day_volume")) or 0.0,
        )
        self._days[quote.ticker] = bar
        return bar

    def _zone(self, ticker: str) -> ZoneInfo | None:
        if ticker not in self._zones:
            name = self._exchange_zone(ticker)
            try:
                self._zones[ticker] = ZoneInfo(name) if name else None
            except (KeyError, ValueError):
                self._zones[ticker] = None
        return self._zones[ticker]


def pricing_quote(data: dict[str, Any], now: datetime) -> Quote | None:
    """A decoded push as a Quote, in the REST quote's terms: ``change`` and ``change_pct``
    against the previous close, ``volume`` the day's. None for a push without id or price."""
    ticker, price = data.get("id"), _float(data.get("price"))
    if not ticker or price is None:
        return None
    stamp = _float(data.get("time"))
    return Quote(
        ticker=str(ticker).upper(),
        price=price,
        ts=now,
        source=Source.YAHOO,
        change=_float(data.get("change")),
        change_pct=_float(data.get("change_percent")),
        volume=_float(data.get("day_volume")),
        bid=_float(data.get("bid")) or None,
        ask=_float(data.get("ask")) or None,
        currency=data.get("currency") or "USD",
        source_time=datetime.fromtimestamp(stamp / 1000, UTC) if stamp else None,
    )


def _float(value: Any) -> float | None:
    # protobuf's JSON form sends 64-bit integers as strings.
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
