"""Decision-Making agent: bars from the database in, stored, explained decisions out.

The computation lives in ``photon.agents.decision.core`` (pure, no DB); this module feeds it
stored bars, picks the newest model trained before each decision's bar, stores the results,
trains models as bars accumulate, and scores old decisions once their horizon has passed.

Every decision goes through ``decide_stored``: one query for the bars of all symbols, one for
their models, one batched ``decide_many`` and one commit, whether it decides one symbol (a
user's "decide now") or every symbol with a fresh bar (auto-decide).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from photon.agents.backfill import backfill
from photon.agents.decision import rules
from photon.agents.decision.core import Decision, decide_many
from photon.agents.decision.features import MIN_BARS, WINDOW
from photon.agents.decision.model import FORMAT, ModelConfig, TrainedModel, train
from photon.agents.decision.scoring import score
from photon.errors import Conflict, Invalid, PhotonError, ProviderError
from photon.market.registry import Providers
from photon.models import Bar, DecisionModel, Symbol, TradingDecision
from photon.models.types import utcnow
from photon.store import bars as stored
from photon.store import decisions, watchlist
from photon.types import COST, INTERVAL_SECONDS, AssetClass

log = logging.getLogger(__name__)

HORIZON_BARS = {"1h": 24, "1d": 5}
# Retraining is counted in bars, so a replay at one bar a second and a live feed age a model
# alike: weekly on hourly bars, monthly on daily ones.
RETRAIN_EVERY_BARS = {"1h": 168, "1d": 21}
# Bars fetched before deciding: a model reads WINDOW, the rules calibrate on LOOKBACK.
DECIDE_LOOKBACK = max(WINDOW, rules.LOOKBACK) + 44
TRAIN_LOOKBACK = 3000  # bars fetched before training


def decision_interval(symbol: Symbol) -> str:
    # Crypto trades around the clock, so hourly bars carry signal; stocks decide on daily bars.
    return "1h" if symbol.asset_class == AssetClass.CRYPTO else "1d"


def bars(interval: str, count: int) -> timedelta:
    """The time ``count`` bars of ``interval`` span."""
    return timedelta(seconds=INTERVAL_SECONDS[interval] * count)


def completed_until(now: datetime, interval: str) -> datetime:
    """The open time of the bar still forming at ``now``: bars before it are complete."""
    seconds = INTERVAL_SECONDS[interval]
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, UTC)


def frame_from_rows(rows: list[tuple]) -> pd.DataFrame:
    """A bars frame from ``store.bars.windows`` rows (``OHLCV`` tuples, oldest first)."""
    columns = dict(zip(stored.OHLCV, zip(*rows, strict=True), strict=True))
    return pd.DataFrame(
        {
            "open_time": pd.DatetimeIndex(columns["open_time"]).tz_convert("UTC"),
            **{name: np.array(columns[name], dtype=np.float64) for name in stored.OHLCV[1:]},
        }
    )


def frame(rows: list[Bar]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "open_time": pd.to_datetime([b.open_time for b in rows], utc=True),
            "open": [b.open for b in rows],
            "high": [b.high for b in rows],
            "low": [b.low for b in rows],
            "close": [b.close for b in rows],
            "volume": [b.volume for b in rows],
        }
    )


def refresh_bars(
    session: Session, providers: Providers, symbol: Symbol, count: int, now: datetime
) -> ProviderError | None:
    """Back-fill the last ``count`` complete bars; a provider fault is returned, not raised, so
    the caller can still work from what is stored."""
    interval = decision_interval(symbol)
    end = completed_until(now, interval)
    try:
        backfill(
            session,
            providers.for_source(symbol.source),
            symbol,
            interval,
            end - bars(interval, count),
            end,
            memo=providers.memo,
        )
    except ProviderError as exc:
        session.rollback()
        log.warning("bars for %s not refreshed: %s", symbol.ticker, exc)
        return exc
    return None


def decide_now(
    session: Session,
    providers: Providers,
    user_id: int,
    symbol_id: int,
    now: datetime | None = None,
    request_id: str | None = None,
) -> TradingDecision | None:
    """Decide now for one watched symbol at ``now`` (default: the market's now) and store it;
    ``Conflict`` when it has too few complete bars. None when a decision for ``request_id`` was
    stored meanwhile (by a concurrent run of the same request)."""
    symbol = watchlist.watched_symbol(session, user_id, symbol_id)
    now = now or providers.market_now(symbol.source, symbol.ticker)
    fault = refresh_bars(session, providers, symbol, DECIDE_LOOKBACK, now)
    made, problems = decide_stored(
        session,
        user_id,
        [symbol],
        {symbol.id: now},
        {symbol.id: fault} if fault else None,
        request_ids={symbol.id: request_id} if request_id else None,
    )
    if problems:
        raise problems[symbol.id]
    return made[0] if made else None


def decide_fresh(
    session: Session, providers: Providers, user_id: int, now: datetime | None = None
) -> tuple[list[TradingDecision], list[str]]:
    """Decide for each watched symbol whose newest complete bar has no decision yet."""
    symbols = watchlist.watched_symbols(session, user_id)
    nows, faults = {}, {}
    for symbol in symbols:
        nows[symbol.id] = now or providers.market_now(symbol.source, symbol.ticker)
        fault = refresh_bars(session, providers, symbol, DECIDE_LOOKBACK, nows[symbol.id])
        if fault:
            faults[symbol.id] = fault
    newest = {
        s.id: at for s in symbols if (at := newest_complete_bar(session, s, nows[s.id])) is not None
    }
    # Decided on this very bar already: deciding again would repeat it. (Not "on a later bar":
    # a replay that wraps, or starts again, brings earlier bars back.)
    done = decisions.decided_bars(session, user_id, newest)
    due = [s for s in symbols if s.id not in done]
    # Keyed by the bar, so two runs racing for one user store each decision once.
    keys = {
        s.id: f"auto:{user_id}:{s.id}:{newest[s.id].isoformat()}" for s in due if s.id in newest
    }
    made, problems = decide_stored(session, user_id, due, nows, faults, request_ids=keys)
    by_id = {s.id: s.ticker for s in symbols}
    return made, [f"{by_id[i]}: {exc.message}" for i, exc in problems.items()]


def decide_stored(
    session: Session,
    user_id: int,
    symbols: Iterable[Symbol],
    nows: dict[int, datetime],
    faults: dict[int, ProviderError] | None = None,
    request_ids: dict[int, str] | None = None,
) -> tuple[list[TradingDecision], dict[int, PhotonError]]:
    """From stored bars to stored decisions, batched, for ``symbols`` at their ``nows``.

    Returns the decisions made (committed) and, per symbol that could not be decided, why. A
    decision whose ``request_ids`` entry is stored already is neither stored nor returned.
    """
    faults = faults or {}
    request_ids = request_ids or {}
    groups: dict[tuple[str, datetime], list[Symbol]] = defaultdict(list)
    for symbol in symbols:
        interval = decision_interval(symbol)
        groups[(interval, completed_until(nows[symbol.id], interval))].append(symbol)
    made: list[TradingDecision] = []
    problems: dict[int, PhotonError] = {}
    for (interval, end), group in groups.items():
        windows = stored.windows(session, [s.id for s in group], interval, end, WINDOW)
        ready = []
        for symbol in group:
            rows = windows[symbol.id]
            if len(rows) < MIN_BARS:
                fault = faults.get(symbol.id)
                why = f"; the provider failed: {fault.message}" if fault else ""
                problems[symbol.id] = Conflict(
                    f"{symbol.ticker} has {len(rows)} complete {interval} bars; a decision "
                    f"needs {MIN_BARS}{why}",
                    errors={"bars": [len(rows)], "min_bars": [MIN_BARS]},
                )
                continue
            ready.append(symbol)
        # The newest model trained before each symbol's last bar: no lookahead.
        stored_models = decisions.latest_models(
            session, interval, {s.id: windows[s.id][-1][0] for s in ready}
        )
        models = {s.ticker: load_model(stored_models.get(s.id)) for s in ready}
        # The rules calibrate on their own longer look-back: read it for those symbols only.
        longer = stored.windows(
            session, [s.id for s in ready if models[s.ticker] is None], interval, end,
            rules.LOOKBACK,
        )  # fmt: skip
        frames = {s.ticker: frame_from_rows(longer.get(s.id) or windows[s.id]) for s in ready}
        results = decide_many(frames, models, costs=COST, horizon=HORIZON_BARS[interval])
        for symbol in ready:
            result = results[symbol.ticker]
            if isinstance(result, PhotonError):
                problems[symbol.id] = result
                continue
            row = stored_decision(result, user_id, symbol, interval)
            row.request_id = request_ids.get(symbol.id)
            made.append(row)
    return decisions.add_new(session, made), problems


def load_model(row: DecisionModel | None) -> TrainedModel | None:
    """The stored model, or None (the rules decide) when there is none or it predates the
    current format (it is retrained: ``training_due``)."""
    if row is None:
        return None
    try:
        return TrainedModel.from_bytes(row.blob)
    except Invalid as exc:
        log.info("model %s not used: %s", row.version, exc.message)
        return None


def stored_decision(
    result: Decision, user_id: int, symbol: Symbol, interval: str
) -> TradingDecision:
    """The row for a core ``Decision``: every number it carries, and where its bars began."""
    probs = result.probabilities
    return TradingDecision(
        user_id=user_id,
        symbol_id=symbol.id,
        action=result.action,
        confidence=result.confidence,
        reasoning=result.reasoning,
        signals=result.signals,
        model=result.model,
        model_version=result.version,
        price=result.price,
        bar_time=result.bar_time,
        horizon_bars=result.horizon,
        interval=interval,
        cost=result.cost,
        p_up=probs["up"],
        p_down=probs["down"],
        p_flat=probs["flat"],
        base_rate=result.base_rate,
        window_start=result.window_start,
        created_at=utcnow(),
        symbol=symbol,
    )


def newest_complete_bar(session: Session, symbol: Symbol, now: datetime) -> datetime | None:
    """Open time of the newest stored complete bar of ``symbol``'s decision interval."""
    interval = decision_interval(symbol)
    newest = stored.stored_bars(
        session, symbol.id, interval, end=completed_until(now, interval), limit=1
    )
    return newest[0].open_time if newest else None


def training_due(session: Session, symbol: Symbol, now: datetime) -> bool:
    """Whether ``symbol`` has no model for its newest complete bar, or one trained
    ``RETRAIN_EVERY_BARS`` or more bars before it. Reads stored bars only."""
    interval = decision_interval(symbol)
    newest = newest_complete_bar(session, symbol, now)
    if newest is None:
        return False
    model = decisions.latest_model(session, symbol.id, interval, newest)
    if model is None or (model.metrics or {}).get("format") != FORMAT:
        return True  # none yet, or one of a retired format that decisions no longer load
    return newest - model.train_end >= bars(interval, RETRAIN_EVERY_BARS[interval])


def retrain(
    session: Session, providers: Providers, symbol: Symbol, now: datetime | None = None
) -> DecisionModel | None:
    """Train on every complete stored bar (back-filled first); None when there is too little
    history."""
    now = now or providers.market_now(symbol.source, symbol.ticker)
    interval = decision_interval(symbol)
    refresh_bars(session, providers, symbol, TRAIN_LOOKBACK, now)
    rows = stored.stored_bars(session, symbol.id, interval, end=completed_until(now, interval))
    config = ModelConfig(horizon=HORIZON_BARS[interval], cost=COST)
    try:
        trained = train(frame(rows), config=config) if rows else None
    except Conflict as exc:
        log.info("no model for %s yet: %s", symbol.ticker, exc.message)
        return None
    if trained is None:
        return None
    existing = decisions.model_version(session, symbol.id, interval, trained.version)
    if existing:
        return existing
    row = DecisionModel(
        symbol_id=symbol.id,
        interval=interval,
        name=trained.name,
        version=trained.version,
        train_start=trained.train_start,
        train_end=trained.train_end,
        metrics=trained.metrics,
        blob=trained.to_bytes(),
    )
    session.add(row)
    session.commit()
    return row


def score_due(session: Session, limit: int = 1000, now: datetime | None = None) -> int:
    """Score decisions whose horizon has passed, from stored bars; each is scored once.

    The horizon is counted in bars, as the labels count it: the outcome is the close of the
    ``horizon_bars``-th stored bar after the decision's bar, once that bar is complete at
    ``now`` (the wall clock by default). ``scoring.score`` says whether the action was right.
    """
    now = now or utcnow()
    scored = 0
    for decision in decisions.unscored(session, limit):
        interval = decision.interval or decision_interval(decision.symbol)
        horizon = decision.horizon_bars or HORIZON_BARS[interval]
        after = session.scalars(
            select(Bar)
            .where(
                Bar.symbol_id == decision.symbol_id,
                Bar.interval == interval,
                Bar.open_time > decision.bar_time,
            )
            .order_by(Bar.open_time)
            .offset(horizon - 1)
            .limit(1)
        ).first()
        if after is None or after.open_time + bars(interval, 1) > now:
            continue
        cost = decision.cost if decision.cost is not None else COST
        decision.outcome_return = after.close / decision.price - 1.0
        decision.outcome_correct = score(decision.action, decision.price, after.close, cost)
        decision.scored_at = utcnow()
        scored += 1
    session.commit()
    return scored
