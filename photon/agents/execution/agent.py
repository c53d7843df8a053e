"""Execution agent: turns BUY/SELL decisions into paper orders against a simulated portfolio.

**No code path here, or anywhere in Photon, sends an order to an exchange.** An order fills at
the latest *stored* quote, with fees and slippage, after the risk checks; a refused order is
stored too, with its reason.

One decision makes at most one order. The whole fill (order row, position, cash, agent status)
is one transaction taken under a lock on the user's portfolio row: ``SELECT ... FOR UPDATE`` on
PostgreSQL, and on SQLite an immediate write, which takes its one database-wide write lock. The
unique ``paper_orders.decision_id`` is the last guard: a rerun, a second worker or a worker
killed halfway all end with one order. The arithmetic lives in ``fills`` and ``risk``; the money
identity it keeps is ``fills.money_gap``.

Choices: the portfolio is in USD and quotes in USDT/USDC count as USD; other currencies are
rejected (no FX source). A SELL closes the whole position; nothing is ever shorted. When the daily
loss limit is hit, BUYs stop until the next UTC midnight (SELLs, which only reduce risk, still
fill); the agent stays ``running`` with ``last_error`` saying it is halted and
``counters.halted_until`` saying until when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from photon.agents.execution import books, fills, risk
from photon.agents.execution.settings import CURRENCY, PaperSettings
from photon.models import AgentStatus, TradingDecision
from photon.models.paper import PaperOrder, Portfolio, Position
from photon.models.types import utcnow
from photon.store import agent_status, equity, orders, quotes
from photon.types import ACTIVE_STATES, Action, Agent, OrderStatus

HALTED = "halted for the day"


@dataclass
class Outcome:
    order: PaperOrder | None
    created: bool  # False when the order already existed (a rerun) or nothing was done


def _lock(session: Session, user_id: int) -> Portfolio:
    if session.get_bind().dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE and reads outside a transaction; writing first takes the
        # database's write lock now, so no other writer can change cash between read and write.
        session.execute(
            update(Portfolio).where(Portfolio.user_id == user_id).values(updated_at=utcnow())
        )
    return session.scalars(
        select(Portfolio)
        .where(Portfolio.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def execute(
    session: Session, decision_id: int, settings: PaperSettings, now: datetime | None = None
) -> Outcome:
    """The decision's paper order, filled or rejected, stored and committed, and whether this
    call created it (jobs announce only then).

    No order for a HOLD, a missing decision, or a user whose paper execution is not running; an
    order that already exists for the decision is returned as it is.
    """
    now = (now or utcnow()).astimezone(UTC)  # days, and so halts, end at UTC midnight
    decision = session.get(TradingDecision, decision_id)
    if decision is None or decision.action not in (Action.BUY, Action.SELL):
        return Outcome(None, False)
    existing = orders.for_decision(session, decision_id)
    if existing is not None:
        return Outcome(existing, False)
    user_id = decision.user_id
    status = agent_status.get(session, user_id, Agent.EXECUTION)
    if status.state not in ACTIVE_STATES:
        session.commit()
        return Outcome(None, False)
    books.get_portfolio(session, user_id, settings)
    session.commit()

    portfolio = _lock(session, user_id)
    # Under the lock, the checks that count: a rerun, a stop or a reset may have just happened.
    session.refresh(status)
    existing = orders.for_decision(session, decision_id)
    if (
        existing is not None
        or status.state not in ACTIVE_STATES
        or (portfolio.reset_at and decision.created_at < portfolio.reset_at)
    ):
        session.rollback()
        return Outcome(existing, False)
    try:
        order, halt_reason = _fill_or_reject(
            session, portfolio, decision, books.effective_settings(portfolio, settings), now
        )
        _record(status, order, portfolio, halt_reason, now)
        session.commit()
    except IntegrityError:
        # Only reachable if something bypassed the lock: the unique decision_id still holds,
        # and the order that got in first stands.
        session.rollback()
        existing = orders.for_decision(session, decision_id)
        if existing is None:
            raise
        return Outcome(existing, False)
    return Outcome(order, True)


@dataclass
class _Fill:
    """What one execution works with, read under the portfolio lock."""

    session: Session
    portfolio: Portfolio
    decision: TradingDecision
    cfg: PaperSettings
    now: datetime
    positions: list[Position]
    position: Position | None
    equity: float
    halt_reason: str | None = None

    @property
    def ticker(self) -> str:
        return self.decision.symbol.ticker


def _fill_or_reject(
    session: Session,
    portfolio: Portfolio,
    decision: TradingDecision,
    cfg: PaperSettings,
    now: datetime,
) -> tuple[PaperOrder, str | None]:
    """Build the order and apply it; returns it with the daily-loss reason if that tripped."""
    symbol = decision.symbol
    quote = quotes.latest_quote(session, symbol.id)
    positions = list(session.scalars(select(Position).where(Position.user_id == decision.user_id)))
    marks = quotes.latest(session, [p.symbol_id for p in positions])
    fill = _Fill(
        session,
        portfolio,
        decision,
        cfg,
        now,
        positions,
        next((p for p in positions if p.symbol_id == symbol.id), None),
        portfolio.cash + sum(p.quantity * books.mark(p, marks) for p in positions),
    )
    _roll_day(fill)

    order = PaperOrder(
        user_id=decision.user_id,
        symbol_id=symbol.id,
        decision_id=decision.id,
        side=decision.action,
        status=OrderStatus.REJECTED,
        quantity=0.0,
        fee=0.0,
        created_at=now,
        quote_price=quote.price if quote else None,
        quote_ts=quote.ts if quote else None,
    )
    reason = (
        risk.tradeable(symbol.asset_class, symbol.ticker)
        or risk.quote_age(quote.ts if quote else None, now, cfg.max_quote_age, symbol.ticker)
        or risk.currency((quote.currency if quote else None) or symbol.currency, symbol.ticker)
    )
    if reason is None and quote is not None:
        order.price = fills.fill_price(order.side, quote.price, quote.bid, quote.ask, cfg.slippage)
        rate = fills.fee_rate(symbol.asset_class, cfg)
        if order.side == Action.BUY:
            reason = _buy(fill, order, quote.price, rate)
        else:
            reason = _sell(fill, order, rate)
    if reason is not None:
        order.reason, order.price = reason, None  # nothing filled, so no fill price
        session.add(order)
        session.flush()
    return order, fill.halt_reason


def _roll_day(fill: _Fill) -> None:
    """Start a new day's loss budget, lift a halt whose day is over, and halt if the loss
    since the day's start has reached the limit (checked before every fill)."""
    portfolio, now = fill.portfolio, fill.now
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if portfolio.day_started_at != today:
        portfolio.day_started_at, portfolio.day_start_equity = today, fill.equity
    if portfolio.halted_until is not None and now >= portfolio.halted_until:
        portfolio.halted_until = None
    if portfolio.halted_until is None:
        fill.halt_reason = risk.daily_loss(
            portfolio.day_start_equity, fill.equity, fill.cfg.daily_loss_pct
        )
        if fill.halt_reason:
            portfolio.halted_until = risk.next_midnight(now)


def _buy(fill: _Fill, order: PaperOrder, mark: float, rate: float) -> str | None:
    portfolio, position, cfg, decision = fill.portfolio, fill.position, fill.cfg, fill.decision
    reason = (
        fill.halt_reason
        or risk.halted(portfolio.halted_until, fill.now)
        or _cooldown(fill)
        or risk.max_positions(len(fill.positions), position is not None, cfg.max_positions)
    )
    if reason:
        return reason
    price = order.price
    assert price is not None
    target = fills.buy_notional(fill.equity, decision.confidence, cfg)
    step = fills.quantity_step(decision.symbol.asset_class)
    quantity = fills.buy_quantity(target, portfolio.cash, price, rate, step)
    if quantity <= 0:
        return (
            f"order too small: {target:.2f} {CURRENCY} at {price:g} buys less than "
            f"{step:g} {fill.ticker} (cash {portfolio.cash:.2f})"
        )
    current = position.quantity * mark if position else 0.0
    reason = risk.position_size(
        current, quantity * price, fill.equity, cfg.max_position_pct, fill.ticker
    )
    if reason:
        return reason
    held = fills.Holding(position.quantity, position.avg_price) if position else None
    ledger, holding, fee = fills.buy(books.ledger_of(portfolio), held, quantity, price, rate)
    order.status, order.quantity, order.fee = OrderStatus.FILLED, quantity, fee
    fill.session.add(order)
    fill.session.flush()  # the order row first: it is what makes a second run stop
    _store(portfolio, ledger)
    if position is None:
        fill.session.add(
            Position(
                user_id=portfolio.user_id,
                symbol_id=order.symbol_id,
                quantity=holding.quantity,
                avg_price=holding.avg_price,
                opened_at=fill.now,
                updated_at=fill.now,
            )
        )
    else:
        position.quantity, position.avg_price, position.updated_at = (
            holding.quantity,
            holding.avg_price,
            fill.now,
        )
    fill.session.flush()
    return None


def _sell(fill: _Fill, order: PaperOrder, rate: float) -> str | None:
    position = fill.position
    reason = risk.has_position(position.quantity if position else 0.0, fill.ticker) or _cooldown(
        fill
    )
    if reason:
        return reason
    assert position is not None and order.price is not None
    held = fills.Holding(position.quantity, position.avg_price)
    ledger, fee, pnl = fills.sell(books.ledger_of(fill.portfolio), held, order.price, rate)
    order.status, order.quantity, order.fee, order.realised_pnl = (
        OrderStatus.FILLED,
        held.quantity,
        fee,
        pnl,
    )
    fill.session.add(order)
    fill.session.flush()
    _store(fill.portfolio, ledger)
    fill.session.delete(position)  # SELL closes the whole position
    fill.session.flush()
    return None


def _cooldown(fill: _Fill) -> str | None:
    last = orders.last_fill_at(fill.session, fill.decision.user_id, fill.decision.symbol_id)
    return risk.cooldown(last, fill.now, fill.cfg.cooldown, fill.ticker)


def _store(portfolio: Portfolio, ledger: fills.Ledger) -> None:
    portfolio.cash = ledger.cash
    portfolio.realised_pnl = ledger.realised_pnl
    portfolio.fees_paid = ledger.fees_paid


def _record(
    status: AgentStatus,
    order: PaperOrder,
    portfolio: Portfolio,
    halt_reason: str | None,
    now: datetime,
) -> None:
    """Count the order on the agent status. A rejection is an outcome, not an agent fault, so
    it never degrades the agent; a daily-loss halt shows in ``last_error`` while it lasts."""
    counters = dict(status.counters or {})
    key = "orders_filled" if order.status == OrderStatus.FILLED else "orders_rejected"
    counters[key] = int(counters.get(key, 0)) + 1
    halted_until = portfolio.halted_until
    counters["halted_until"] = halted_until.isoformat() if halted_until else None
    agent_status.record_run(status, None, at=now, counters=counters)
    if halt_reason:
        status.last_error = f"{HALTED}: {halt_reason}"
    elif halted_until is None and (status.last_error or "").startswith(HALTED):
        status.last_error = None


# --- changing ------------------------------------------------------------------------------------


def reset(
    session: Session,
    user_id: int,
    starting_cash: float | None = None,
    settings: PaperSettings | None = None,
) -> Portfolio:
    """Start over: cash back to ``starting_cash`` (default: the user's current starting cash),
    no positions, no orders, no halt. Decisions made before the reset never fill afterwards."""
    books.get_portfolio(session, user_id, settings)
    session.commit()
    portfolio = _lock(session, user_id)
    session.execute(delete(Position).where(Position.user_id == user_id))
    session.execute(delete(PaperOrder).where(PaperOrder.user_id == user_id))
    equity.clear(session, user_id)
    cash = starting_cash if starting_cash is not None else portfolio.starting_cash
    portfolio.starting_cash = portfolio.cash = cash
    portfolio.realised_pnl = portfolio.fees_paid = 0.0
    portfolio.halted_until = portfolio.day_started_at = portfolio.day_start_equity = None
    portfolio.reset_at = utcnow()
    status = agent_status.get(session, user_id, Agent.EXECUTION)
    counters = dict(status.counters or {})
    counters.update(orders_filled=0, orders_rejected=0, halted_until=None)
    status.counters = counters
    if (status.last_error or "").startswith(HALTED):
        status.last_error = None
    session.commit()
    return portfolio


def configure(
    session: Session, user_id: int, overrides: dict[str, Any], settings: PaperSettings | None = None
) -> Portfolio:
    """Store per-user overrides of ``PaperSettings`` (merged into earlier ones)."""
    books.get_portfolio(session, user_id, settings)
    session.commit()
    portfolio = _lock(session, user_id)
    portfolio.settings = {**(portfolio.settings or {}), **overrides}
    session.commit()
    return portfolio
