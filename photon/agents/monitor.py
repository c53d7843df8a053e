"""Market Monitoring agent: fetch quotes for many symbols in one batch per source, and store them.

It takes a session, a provider registry and symbols, so a job, a view or a test can call it.
Fetching happens before any write, and all quotes of a cycle are written in one transaction: a
fault mid-cycle leaves nothing half-written.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from photon.errors import PhotonError, ProviderError, SymbolNotFound
from photon.market.registry import Providers
from photon.market.streams.base import epoch_ms, not_newer
from photon.models import AgentStatus, Symbol
from photon.store import agent_status, quotes, watchlist
from photon.types import Agent, Quote

log = logging.getLogger(__name__)


@dataclass
class SymbolResult:
    symbol: Symbol
    quote: Quote | None = None
    error: PhotonError | None = None


@dataclass(frozen=True)
class StreamView:
    """What the stream process says about one source (``photon.tasks.stream.signals``).

    ``covered``: the tickers its stream pushed recently, which polling leaves alone. ``marks``:
    the venue time (epoch ms) of the newest quote it delivered per ticker; a polled quote no
    newer adds nothing and is dropped, so nothing is delivered twice when polling takes over.
    ``problem`` says which stream is not working and why (silent, down), for the monitor's
    status.
    """

    problem: str | None = None
    covered: frozenset[str] = frozenset()
    marks: Mapping[str, int] = field(default_factory=dict)


@dataclass
class CycleResult:
    results: list[SymbolResult] = field(default_factory=list)
    source_errors: dict[str, ProviderError] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    rows_written: int = 0

    @property
    def quotes(self) -> list[SymbolResult]:
        return [r for r in self.results if r.quote is not None]


def fetch_and_store(
    session: Session,
    providers: Providers,
    symbols: Sequence[Symbol],
    *,
    commit: bool = True,
    marks: Mapping[str, Mapping[str, int]] | None = None,
) -> CycleResult:
    """``marks``, by source then ticker, are the streamed quotes' venue times: a polled quote
    no newer is left out (its result has neither quote nor error)."""
    result = CycleResult()
    marks = marks or {}
    by_source: dict[str, list[Symbol]] = defaultdict(list)
    for symbol in symbols:
        by_source[symbol.source].append(symbol)
    for source, group in by_source.items():
        provider = providers.for_source(source)
        result.calls[source] = result.calls.get(source, 0) + 1
        try:
            fetched = provider.quotes([s.ticker for s in group])
        except ProviderError as exc:
            log.warning("monitor: %s failed for %d symbols: %s", source, len(group), exc)
            result.source_errors[source] = exc
            result.results.extend(SymbolResult(s, error=exc) for s in group)
            continue
        for symbol in group:
            got = fetched.get(symbol.ticker) or SymbolNotFound(symbol.ticker)
            mark = marks.get(source, {}).get(symbol.ticker)
            if isinstance(got, Quote) and not_newer(epoch_ms(got.source_time), mark):
                result.results.append(SymbolResult(symbol))
            elif isinstance(got, Quote):
                result.results.append(SymbolResult(symbol, quote=got))
            else:
                result.results.append(SymbolResult(symbol, error=got))
    rows = [(r.symbol.id, r.quote) for r in result.quotes]
    try:
        result.rows_written = quotes.upsert_quotes(session, rows)
        if commit:
            session.commit()
    except Exception:
        session.rollback()
        raise
    return result


@dataclass
class MonitorRun:
    cycle: CycleResult
    statuses: dict[int, AgentStatus]  # as this cycle wrote them (snapshots)
    symbols_by_user: dict[int, list[Symbol]]


def run_cycle(
    session: Session,
    providers: Providers,
    user_ids: Sequence[int] | None = None,
    streams: Mapping[str, StreamView] | None = None,
) -> MonitorRun:
    """One monitoring cycle for the users whose monitor runs (or ``user_ids``).

    Symbols are fetched once however many users watch them; each user's status then reflects
    only the sources their own symbols use. ``streams`` (by source) say which symbols a stream
    carries: those are not polled, and a stream's problem degrades the status of its users.
    """
    streams = streams or {}
    if user_ids is None:
        user_ids = agent_status.running_user_ids(session, Agent.MARKET_MONITOR)
    symbols_by_user = watchlist.watchers(session, user_ids)
    unique = {s.id: s for symbols in symbols_by_user.values() for s in symbols}
    polled = [s for s in unique.values() if not _streamed(s, streams)]
    marks = {source: view.marks for source, view in streams.items()}
    # One transaction for quotes and statuses; a commit in between would expire every symbol and
    # cost a query each to read them again.
    cycle = fetch_and_store(session, providers, polled, commit=False, marks=marks)
    # Locked until the commit: a user's cycle and the periodic one count two runs, not one.
    statuses = agent_status.of_users(session, user_ids, Agent.MARKET_MONITOR, lock=True)
    written = {}
    for user_id in user_ids:
        status = statuses.get(user_id) or agent_status.get(
            session, user_id, Agent.MARKET_MONITOR, lock=True
        )
        watched = symbols_by_user.get(user_id, [])
        sources = {s.source for s in watched}
        errors = [
            f"{streams[src].problem}; polling covers it"
            for src in sorted(sources)
            if src in streams and streams[src].problem
        ] + [
            f"{src}: {cycle.source_errors[src].message}"
            for src in sorted(sources)
            if src in cycle.source_errors
        ]
        agent_status.record_run(
            status,
            "; ".join(errors) or None,
            counters={
                "symbols_watched": len(watched),
                "symbols_streamed": sum(_streamed(s, streams) for s in watched),
            },
        )
        written[user_id] = agent_status.snapshot(status)
    session.commit()
    return MonitorRun(cycle, written, symbols_by_user)


def _streamed(symbol: Symbol, streams: Mapping[str, StreamView]) -> bool:
    view = streams.get(symbol.source)
    return view is not None and symbol.ticker in view.covered


def refresh(
    session: Session, providers: Providers, user_id: int, symbol_ids: list[int] | None = None
) -> CycleResult:
    """Fetch and store quotes now for the user's symbols (or the given ones, all watched)."""
    symbols = watchlist.watched_symbols(session, user_id)
    if symbol_ids is not None:
        wanted = {watchlist.watched_symbol(session, user_id, i).id for i in symbol_ids}
        symbols = [s for s in symbols if s.id in wanted]
    return fetch_and_store(session, providers, symbols)
