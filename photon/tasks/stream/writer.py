"""What the stream stores: quotes coalesced to at most one row per symbol per second, and closed
bars, in one transaction a second. Every push still reaches Socket.IO at once (the service emits
before it hands the push here); only the database is spared a row per push.

A symbol's row for a second is its last quote of that second, kept with its own time, and written
once the second is over, so two flushes never write the same symbol's second twice.

A closed bar is stored only where it continues the stored series (or starts one): the newest
stored bar is the one just before it, or the previous bar this stream closed (markets close at
night and at weekends, so "just before" is not always one interval back). After a gap (the stream
was down when bars closed) it is left to the back-fill, which fetches everything after the newest
stored bar, gap included; storing it would hide the gap from the back-fill, which chases only what
lies outside the stored span. Auto-decide hears of every closed bar of a decision interval.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from photon.agents.decision.agent import decision_interval
from photon.market.streams.base import epoch_ms
from photon.models import Symbol
from photon.store import bars, quotes
from photon.types import INTERVAL_SECONDS, Bar, Quote

log = logging.getLogger(__name__)


@dataclass
class Batch:
    quotes: list[tuple[Symbol, Quote]] = field(default_factory=list)
    # (symbol, closed bar, open time of the bar this stream closed before it, if any)
    bars: list[tuple[Symbol, Bar, datetime | None]] = field(default_factory=list)
    # source -> ticker -> (pushed at, wall-clock ms; venue time of the quote, ms)
    seen: dict[str, dict[str, tuple[int, int | None]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.quotes or self.bars or self.seen)


@dataclass
class Written:
    quotes: int = 0
    bars: list[Bar] = field(default_factory=list)
    skipped_bars: list[Bar] = field(default_factory=list)
    decision_bars: int = 0  # closed bars of a decision interval: auto-decide has news


class StreamWriter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[int, Symbol, Quote]] = {}  # id -> (second, symbol, quote)
        self._batch = Batch()

    def quote(self, symbol: Symbol, quote: Quote, now_ms: int) -> None:
        second = int(quote.ts.timestamp())
        with self._lock:
            held = self._pending.get(symbol.id)
            if held is not None and held[0] < second:
                self._batch.quotes.append(held[1:])
            self._pending[symbol.id] = (second, symbol, quote)
            seen = self._batch.seen.setdefault(symbol.source, {})
            seen[symbol.ticker] = (now_ms, epoch_ms(quote.source_time))

    def bar(self, symbol: Symbol, bar: Bar, previous: datetime | None) -> None:
        with self._lock:
            self._batch.bars.append((symbol, bar, previous))

    def take(self, now: datetime) -> Batch:
        """Everything due at ``now``: the quotes of seconds that are over, bars, coverage."""
        current = int(now.timestamp())
        with self._lock:
            batch, self._batch = self._batch, Batch()
            for symbol_id, (second, symbol, quote) in list(self._pending.items()):
                if second < current:
                    batch.quotes.append((symbol, quote))
                    del self._pending[symbol_id]
        return batch

    def retry_bars(self, batch: Batch) -> None:
        """A failed write: the closed bars go round again (quotes are snapshots; the next
        second has newer ones)."""
        with self._lock:
            self._batch.bars[:0] = batch.bars


def write(session: Session, batch: Batch) -> Written:
    """Store ``batch`` and commit."""
    written = Written()
    written.quotes = quotes.upsert_quotes(session, [(s.id, q) for s, q in batch.quotes])
    for symbol, bar, previous in batch.bars:
        written.decision_bars += bar.interval == decision_interval(symbol)
        newest = bars.stored_bars(session, symbol.id, bar.interval, limit=1)
        step = timedelta(seconds=INTERVAL_SECONDS[bar.interval])
        if newest and not (
            newest[0].open_time >= bar.open_time - step or newest[0].open_time == previous
        ):
            written.skipped_bars.append(bar)
            continue
        bars.upsert_bars(session, symbol.id, [bar], source=symbol.source)
        written.bars.append(bar)
    session.commit()
    if written.skipped_bars:
        shown = ", ".join(
            f"{b.ticker} {b.interval} {b.open_time:%Y-%m-%d %H:%M}" for b in written.skipped_bars
        )
        log.debug("stream: closed bars after a gap, left to the back-fill: %s", shown)
    return written
