"""The ``stream`` process: venue push feeds in, ``quote`` and ``bar`` events out at once, quotes
and closed bars stored, and the market monitor told what it need not poll.

Threads: the main loop (leases, health), a Redis pub/sub listener (watch-list changes, and
reading the watched set they call for), a writer (one transaction a second), and each venue
stream's own. Pushes arrive on the venue threads and are emitted there, so a push waits for
nothing but its own emit.

One process streams each venue: it holds that venue's lease (``Lease``) and stops streaming the
moment it cannot count on it. Other ``stream`` processes wait as standbys and take over within a
lease period when the holder dies.

The web and worker code never learn where a push came from: a replayed push takes the same path
as a venue's, and only the quote's ``source`` says ``replay``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import redis
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from photon.extensions import db
from photon.market.streams.base import Backoff, VenueStream, epoch_ms, not_newer
from photon.models import Symbol
from photon.realtime import announce
from photon.store import agent_status, watchlist
from photon.tasks.enqueue import queue_auto_decisions
from photon.tasks.stream import signals
from photon.tasks.stream.lease import Lease
from photon.tasks.stream.writer import StreamWriter, write
from photon.types import Agent, Bar, Quote, Source

log = logging.getLogger(__name__)

WRITE_PERIOD = 1.0  # seconds: quotes are stored a row per symbol per second
REPORT_EVERY = 60.0  # seconds between the log lines that say what each venue carried


class _VenueSink:
    """Where one venue's pushes land: checked, emitted, handed to the writer."""

    def __init__(self, service: StreamService, venue: VenueStream, lease: Lease) -> None:
        self.service, self.venue, self.lease = service, venue, lease
        self.marks: dict[str, int] = {}  # ticker -> venue time of the newest quote emitted
        self.closed: dict[tuple[str, str], int] = {}  # (ticker, interval) -> last closed open
        self.forming: dict[tuple[str, str], Bar] = {}
        self.emitted = self.duplicates = 0

    def _symbol(self, ticker: str) -> Symbol | None:
        symbol = self.service.symbols.get(ticker)
        if symbol is None or symbol.source not in self.venue.carries or not self.lease.valid():
            return None
        return symbol

    def quote(self, quote: Quote) -> None:
        symbol = self._symbol(quote.ticker)
        if symbol is None:
            return
        at = epoch_ms(quote.source_time)
        if not_newer(at, self.marks.get(quote.ticker)):
            self.duplicates += 1  # a snapshot repeated after a reconnect, say
            return
        if at is not None:
            self.marks[quote.ticker] = at
        announce.quote(symbol, quote, self.service.redis_url)
        self.emitted += 1
        self.service.writer.quote(symbol, quote, int(time.time() * 1000))

    def bar(self, bar: Bar, closed: bool) -> None:
        symbol = self._symbol(bar.ticker)
        if symbol is None:
            return
        key = (bar.ticker, bar.interval)
        opened = epoch_ms(bar.open_time)
        if not_newer(opened, self.closed.get(key)):
            # This bar closed already: a repeat of it (confirm true again after a reconnect)
            # or a late forming push is no news.
            self.duplicates += closed
            return
        previous = self.closed.get(key)
        if closed:
            self.closed[key] = opened
            self.forming.pop(key, None)
        elif self.forming.get(key) == bar:
            return
        else:
            self.forming[key] = bar
        announce.bar(symbol, bar, closed, self.service.redis_url)
        if closed and self.venue.own_bars:
            before = None if previous is None else datetime.fromtimestamp(previous / 1000, UTC)
            self.service.writer.bar(symbol, bar, before)


class StreamService:
    def __init__(
        self,
        app: Flask,
        venues: Sequence[VenueStream],
        *,
        lease_ttl: float = 10.0,
        owner: str | None = None,
    ) -> None:
        settings = app.config["PHOTON"]
        self.app = app
        self.redis_url = settings.effective_redis_url
        self.redis = redis.Redis.from_url(
            self.redis_url, socket_connect_timeout=1.0, socket_timeout=5.0
        )
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.venues = list(venues)
        self.leases = {
            v.source: Lease(self.redis, signals.LEASE_KEY.format(v.source), self.owner, lease_ttl)
            for v in self.venues
        }
        self.sinks = {v.source: _VenueSink(self, v, self.leases[v.source]) for v in self.venues}
        self.writer = StreamWriter()
        self.symbols: dict[str, Symbol] = {}  # ticker -> symbol, of every running monitor
        self.state_ttl = max(3.0, 3 * lease_ttl / 10)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._resync = threading.Event()
        self._threads: list[threading.Thread] = []

    @classmethod
    def from_app(cls, app: Flask) -> StreamService:
        """The venues the settings call for: Bybit and Yahoo live, or the replay."""
        settings = app.config["PHOTON"]
        if settings.data_source == "replay":
            from photon.market.streams.replay import ReplayStream
            from photon.providers import get_providers

            with app.app_context():
                provider = get_providers().for_source(Source.REPLAY)
            venues: list[VenueStream] = [
                ReplayStream(provider, settings.replay_subticks, settings.stream_silence)
            ]
        else:
            from photon.market.streams.bybit import BybitStream
            from photon.market.streams.yahoo import YahooStream

            venues = [
                BybitStream(settings.bybit_ws_url, silence=settings.stream_silence),
                YahooStream(
                    settings.yahoo_ws_url,
                    silence=settings.stream_silence,
                    exchange_zone=_yfinance_zones(os.path.join(app.instance_path, "yfinance-tz")),
                ),
            ]
        return cls(app, venues, lease_ttl=settings.stream_lease_ttl)

    # --- running -------------------------------------------------------------------------------

    def run(self) -> None:
        """Stream until ``stop``; then stop the venues, write what is left, give up the leases."""
        for target, name in ((self._listen, "stream-control"), (self._write_loop, "stream-db")):
            thread = threading.Thread(target=target, daemon=True, name=name)
            thread.start()
            self._threads.append(thread)
        poll = min(lease.poll for lease in self.leases.values())
        log.info("stream: %s for %s", self.owner, ", ".join(self.leases))
        reported = time.monotonic()
        try:
            while not self._stop.is_set():
                self._keep_leases()
                self._publish()
                if time.monotonic() - reported >= REPORT_EVERY:
                    reported = time.monotonic()
                    self._report()
                self._wake.wait(poll)
                self._wake.clear()
        finally:
            self._shutdown()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _keep_leases(self) -> None:
        for venue in self.venues:
            lease = self.leases[venue.source]
            if lease.held and not lease.keep():
                log.warning("stream: lost the %s lease; stopping that stream", venue.source)
                venue.stop()
            elif not lease.held and lease.acquire():
                log.info("stream: holding the %s lease; streaming it", venue.source)
                venue.set_symbols(self._tickers(venue))
                venue.start(self.sinks[venue.source])
                self._resync.set()

    def _sync_symbols(self) -> None:
        """Read the watched set (the union of running monitors' symbols) and hand each venue
        its share; the venue (un)subscribes the difference."""
        with self.app.app_context():
            try:
                users = agent_status.running_user_ids(db.session, Agent.MARKET_MONITOR)
                watched = watchlist.watchers(db.session, users)
                self.symbols = {s.ticker: s for group in watched.values() for s in group}
            except SQLAlchemyError as exc:
                log.warning("stream: could not read the watched symbols: %s", exc)
                self._resync.set()  # try again on the next round
                return
            finally:
                db.session.remove()
        for venue in self.venues:
            if self.leases[venue.source].held:
                venue.set_symbols(self._tickers(venue))

    def _report(self) -> None:
        """One line a venue and a minute: what it carried, and what it dropped as repeats."""
        for venue in self.venues:
            sink = self.sinks[venue.source]
            if self.leases[venue.source].held:
                health = venue.health(datetime.now(UTC))
                log.info(
                    "stream: %s %s, %d symbols, %d quotes emitted, %d repeats dropped",
                    venue.source,
                    health.state,
                    len(venue.wanted),
                    sink.emitted,
                    sink.duplicates,
                )
            sink.emitted = sink.duplicates = 0

    def _tickers(self, venue: VenueStream) -> list[str]:
        return [t for t, s in self.symbols.items() if s.source in venue.carries]

    def _publish(self, seen: dict[str, dict[str, tuple[int, int | None]]] | None = None) -> None:
        """Each carried source's state, and (from the writer) the tickers pushed meanwhile."""
        now = datetime.now(UTC)
        for venue in self.venues:
            if not self.leases[venue.source].held:
                continue
            # Coverage is published once a second: a push counts for its window plus that.
            health = venue.health(now)
            health = replace(health, window=health.window + WRITE_PERIOD)
            for source in venue.carries:
                try:
                    pushed = (seen or {}).get(source, {})
                    signals.publish(
                        self.redis, venue.source, source, health, pushed, self.state_ttl
                    )
                except redis.RedisError as exc:
                    log.warning("stream: could not publish the %s state: %s", source, exc)

    def _listen(self) -> None:
        """Watch-list changes from Redis, each burst read as one; after every (re)subscription
        the set is read anew, since pub/sub drops what was published while nobody listened.
        The database is read here, not in the main loop, so a slow read never delays a lease
        renewal."""
        channel = signals.control_channel(self.redis_url)
        backoff = Backoff(base=0.5, cap=10.0)
        while not self._stop.is_set():
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(channel)
                self._resync.set()
                backoff.reset()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.2)
                    while message is not None:
                        self._resync.set()
                        message = pubsub.get_message(timeout=0)
                    if self._resync.is_set():
                        self._resync.clear()
                        self._sync_symbols()
            except redis.RedisError as exc:
                log.warning("stream: control channel lost: %s", exc)
                self._stop.wait(backoff.next())
            finally:
                pubsub.close()

    def _write_loop(self) -> None:
        while not self._stop.is_set():
            # Just after each whole second: the quotes of the second that ended are complete.
            self._stop.wait(WRITE_PERIOD + 0.02 - time.time() % WRITE_PERIOD)
            self._flush()

    def _flush(self) -> None:
        batch = self.writer.take(datetime.now(UTC))
        if not batch:
            return
        written = None
        with self.app.app_context():
            try:
                written = write(db.session, batch)
                if written.decision_bars:
                    queue_auto_decisions(db.session, self.redis)
            except (SQLAlchemyError, redis.RedisError) as exc:
                db.session.rollback()
                self.writer.retry_bars(batch)
                log.warning("stream: could not store a second of pushes: %s", exc)
            finally:
                db.session.remove()
        if batch.seen:
            self._publish(batch.seen)

    def _shutdown(self) -> None:
        for venue in self.venues:
            venue.stop()
        self._flush()
        for venue in self.venues:
            lease = self.leases[venue.source]
            if lease.held:
                try:
                    for source in venue.carries:
                        signals.withdraw(self.redis, source)
                except redis.RedisError:
                    pass
                lease.release()
        for thread in self._threads:
            thread.join(timeout=5)
        log.info("stream: stopped")


def _yfinance_zones(cache_dir: str):
    """Exchange time zones from yfinance's own cache, which the Yahoo provider fills whenever
    it fetches a symbol's bars; None for a symbol it has not met yet."""
    from yfinance import cache

    cache.set_tz_cache_location(cache_dir)

    def zone(ticker: str) -> str | None:
        try:
            return cache.get_tz_cache().lookup(ticker)
        except Exception:
            return None

    return zone
