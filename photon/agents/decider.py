"""Decision-Making agent: bars from the database in, a stored, explained decision out.

The computation lives in ``photon.agents.decision`` (pure, no DB); this module feeds it stored
bars, picks the newest model trained before the decision's bar, stores the result, retrains
models and scores old decisions once their horizon has passed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from photon import marketdata
from photon.agents.decision import MIN_BARS, ModelConfig, TrainedModel, decide, score, train
from photon.agents.decision.features import WINDOW
from photon.errors import Conflict, NotFound, ProviderError
from photon.market.registry import Providers
from photon.market.types import CRYPTO, INTERVAL_SECONDS
from photon.models import Bar, DecisionModel, Symbol, TradingDecision, Watch
from photon.models.types import utcnow

log = logging.getLogger(__name__)

HORIZON_BARS = {"1h": 24, "1d": 5}
# Retraining is counted in bars, so a replay at one bar a second and a live feed age a model
# alike: weekly on hourly bars, monthly on daily ones.
RETRAIN_EVERY_BARS = {"1h": 168, "1d": 21}
COST = 0.004  # round trip: fees both ways plus spread, as a fraction of price
DECIDE_LOOKBACK = WINDOW + 44  # bars fetched before deciding
TRAIN_LOOKBACK = 3000  # bars fetched before training


def decision_interval(symbol: Symbol) -> str:
    # Crypto trades around the clock, so hourly bars carry signal; stocks decide on daily bars.
    return "1h" if symbol.asset_class == CRYPTO else "1d"


def _step(interval: str) -> timedelta:
    return timedelta(seconds=INTERVAL_SECONDS[interval])


def bars(interval: str, count: int) -> timedelta:
    """The time ``count`` bars of ``interval`` span."""
    return _step(interval) * count


def completed_until(now: datetime, interval: str) -> datetime:
    """The open time of the bar still forming at ``now``: bars before it are complete."""
    seconds = INTERVAL_SECONDS[interval]
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, UTC)


def frame(bars: list[Bar]) -> pd.DataFrame:
    return pd.DataFrame({
        "open_time": pd.to_datetime([b.open_time for b in bars], utc=True),
        "open": [b.open for b in bars], "high": [b.high for b in bars],
        "low": [b.low for b in bars], "close": [b.close for b in bars],
        "volume": [b.volume for b in bars],
    })


def watched_symbol(session: Session, user_id: int, symbol_id: int) -> Symbol:
    symbol = session.scalars(
        select(Symbol).join(Watch, Watch.symbol_id == Symbol.id)
        .where(Watch.user_id == user_id, Symbol.id == symbol_id)
    ).first()
    if symbol is None:
        raise NotFound(f"You do not watch a symbol with id {symbol_id}")
    return symbol


def refresh_bars(session: Session, providers: Providers, symbol: Symbol, interval: str,
                 bars: int, now: datetime) -> ProviderError | None:
    """Back-fill the last ``bars`` complete bars; a provider fault is returned, not raised, so
    the caller can still work from what is stored."""
    end = completed_until(now, interval)
    try:
        marketdata.backfill(session, providers.for_source(symbol.source), symbol, interval,
                            end - _step(interval) * bars, end, memo=providers.memo)
    except ProviderError as exc:
        session.rollback()
        log.warning("bars for %s not refreshed: %s", symbol.ticker, exc)
        return exc
    return None


def latest_model(session: Session, symbol_id: int, interval: str, before: datetime
                 ) -> DecisionModel | None:
    """The newest model whose training window ended at or before ``before`` (no lookahead)."""
    return session.scalars(
        select(DecisionModel)
        .where(DecisionModel.symbol_id == symbol_id, DecisionModel.interval == interval,
               DecisionModel.train_end <= before)
        .order_by(DecisionModel.train_end.desc(), DecisionModel.id.desc()).limit(1)
    ).first()


def decide_for(session: Session, providers: Providers, user_id: int, symbol_id: int,
               now: datetime | None = None) -> TradingDecision:
    """Decide for one watched symbol at ``now`` (default: the market's now) and store it."""
    symbol = watched_symbol(session, user_id, symbol_id)
    now = now or providers.market_now(symbol.source, symbol.ticker)
    interval = decision_interval(symbol)
    fault = refresh_bars(session, providers, symbol, interval, DECIDE_LOOKBACK, now)
    return _decide(session, user_id, symbol, interval, now, fault)


def newest_complete_bar(session: Session, symbol: Symbol, now: datetime) -> datetime | None:
    """Open time of the newest stored complete bar of ``symbol``'s decision interval."""
    interval = decision_interval(symbol)
    newest = marketdata.stored_bars(session, symbol.id, interval,
                                    end=completed_until(now, interval), limit=1)
    return newest[0].open_time if newest else None


def training_due(session: Session, symbol: Symbol, now: datetime) -> bool:
    """Whether ``symbol`` has no model for its newest complete bar, or one trained
    ``RETRAIN_EVERY_BARS`` or more bars before it. Reads stored bars only."""
    interval = decision_interval(symbol)
    newest = newest_complete_bar(session, symbol, now)
    if newest is None:
        return False
    model = latest_model(session, symbol.id, interval, newest)
    return model is None or newest - model.train_end >= bars(interval,
                                                              RETRAIN_EVERY_BARS[interval])


def _decide(session: Session, user_id: int, symbol: Symbol, interval: str, now: datetime,
            fault: ProviderError | None) -> TradingDecision:
    """Decide on the complete bars stored for ``symbol`` (already refreshed) and store it."""
    end = completed_until(now, interval)
    bars = marketdata.stored_bars(session, symbol.id, interval, end=end, limit=WINDOW)
    if len(bars) < MIN_BARS:
        why = f"; the provider failed: {fault.message}" if fault else ""
        raise Conflict(
            f"{symbol.ticker} has {len(bars)} complete {interval} bars; a decision needs "
            f"{MIN_BARS}{why}",
            errors={"bars": [len(bars)], "min_bars": [MIN_BARS]},
        )
    stored = latest_model(session, symbol.id, interval, bars[-1].open_time)
    model = TrainedModel.from_bytes(stored.blob) if stored else None
    result = decide(frame(bars), model=model, costs=COST)
    decision = TradingDecision(
        user_id=user_id, symbol_id=symbol.id, action=result.action,
        confidence=result.confidence, reasoning=result.reasoning,
        signals=result.to_dict()["signals"], model=result.model, model_version=result.version,
        price=result.price, bar_time=result.bar_time,
        # A model carries the horizon it was trained for; rules are scored on the interval's.
        horizon_bars=result.horizon if model else HORIZON_BARS[interval],
        interval=interval, cost=result.cost, created_at=utcnow(),
    )
    session.add(decision)
    session.commit()
    return decision


def retrain(session: Session, providers: Providers, symbol: Symbol,
            now: datetime | None = None) -> DecisionModel | None:
    """Train on every complete stored bar (back-filled first); None when there is too little
    history."""
    now = now or providers.market_now(symbol.source, symbol.ticker)
    interval = decision_interval(symbol)
    refresh_bars(session, providers, symbol, interval, TRAIN_LOOKBACK, now)
    bars = marketdata.stored_bars(session, symbol.id, interval,
                                  end=completed_until(now, interval))
    config = ModelConfig(horizon=HORIZON_BARS[interval], cost=COST)
    try:
        trained = train(frame(bars), config=config) if bars else None
    except Conflict as exc:
        log.info("no model for %s yet: %s", symbol.ticker, exc.message)
        return None
    if trained is None:
        return None
    existing = session.scalars(select(DecisionModel).where(
        DecisionModel.symbol_id == symbol.id, DecisionModel.interval == interval,
        DecisionModel.version == trained.version)).first()
    if existing:
        return existing
    row = DecisionModel(
        symbol_id=symbol.id, interval=interval, name=trained.name, version=trained.version,
        train_start=trained.train_start, train_end=trained.train_end,
        metrics=trained.metrics, blob=trained.to_bytes(),
    )
    session.add(row)
    session.commit()
    return row


def score_due(session: Session, limit: int = 1000) -> int:
    """Score decisions whose horizon has passed, from stored bars; each is scored once."""
    pending = session.scalars(
        select(TradingDecision).where(TradingDecision.scored_at.is_(None),
                                      TradingDecision.bar_time.is_not(None))
        .order_by(TradingDecision.created_at).limit(limit)
    ).all()
    scored = 0
    for decision in pending:
        interval = decision.interval or decision_interval(decision.symbol)
        horizon = decision.horizon_bars or HORIZON_BARS[interval]
        target = decision.bar_time + _step(interval) * horizon
        after = session.scalars(
            select(Bar).where(Bar.symbol_id == decision.symbol_id, Bar.interval == interval,
                              Bar.open_time >= target).order_by(Bar.open_time).limit(1)
        ).first()
        if after is None:
            continue
        cost = decision.cost if decision.cost is not None else COST
        decision.outcome_return = after.close / decision.price - 1.0
        decision.outcome_correct = score(decision.action, decision.price, after.close, cost)
        decision.scored_at = utcnow()
        scored += 1
    session.commit()
    return scored


def auto_decide(session: Session, providers: Providers, user_id: int,
                now: datetime | None = None) -> tuple[list[TradingDecision], list[str]]:
    """Decide for each watched symbol that has a complete bar newer than its last decision."""
    made: list[TradingDecision] = []
    problems: list[str] = []
    symbols = session.scalars(
        select(Symbol).join(Watch, Watch.symbol_id == Symbol.id)
        .where(Watch.user_id == user_id).order_by(Symbol.id)
    ).all()
    for symbol in symbols:
        interval = decision_interval(symbol)
        at = now or providers.market_now(symbol.source, symbol.ticker)
        fault = refresh_bars(session, providers, symbol, interval, DECIDE_LOOKBACK, at)
        newest = marketdata.stored_bars(session, symbol.id, interval,
                                        end=completed_until(at, interval), limit=1)
        # Decided on this very bar already: deciding again would repeat it. (Not "on a later
        # bar": a replay that wraps, or starts again, brings earlier bars back.)
        if newest and session.scalars(
            select(TradingDecision.id).where(
                TradingDecision.user_id == user_id, TradingDecision.symbol_id == symbol.id,
                TradingDecision.bar_time == newest[0].open_time).limit(1)
        ).first():
            continue
        try:
            made.append(_decide(session, user_id, symbol, interval, at, fault))
        except (Conflict, ProviderError) as exc:
            session.rollback()
            problems.append(f"{symbol.ticker}: {exc.message}")
    return made, problems
