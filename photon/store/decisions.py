"""Stored decisions and decision models: pages and statistics scoped to the user, the model a
decision may use, and the decisions still waiting to be scored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Select, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from photon.errors import NotFound
from photon.models import DecisionModel, Symbol, TradingDecision
from photon.store import pagination
from photon.store import reliability as rel


def _filtered(
    user_id: int,
    symbol_id: int | None,
    action: str | None,
    start: datetime | None,
    end: datetime | None,
) -> Select:
    query = select(TradingDecision).where(TradingDecision.user_id == user_id)
    if symbol_id is not None:
        query = query.where(TradingDecision.symbol_id == symbol_id)
    if action is not None:
        query = query.where(TradingDecision.action == action)
    if start is not None:
        query = query.where(TradingDecision.created_at >= start)
    if end is not None:
        query = query.where(TradingDecision.created_at < end)
    return query


def page(
    session: Session, user_id: int, filters: dict, page: int, page_size: int
) -> tuple[list[TradingDecision], int]:
    return pagination.page(
        session,
        _filtered(user_id, **filters),
        (TradingDecision.created_at.desc(), TradingDecision.id.desc()),
        page,
        page_size,
    )


def get(session: Session, user_id: int, decision_id: int) -> TradingDecision:
    decision = session.scalars(
        select(TradingDecision).where(
            TradingDecision.id == decision_id, TradingDecision.user_id == user_id
        )
    ).first()
    if decision is None:
        raise NotFound(f"No decision with id {decision_id}")
    return decision


def decided_on(session: Session, user_id: int, symbol_id: int, bar_time: datetime) -> bool:
    """Whether the user already has a decision on this very bar of the symbol."""
    return (
        session.scalars(
            select(TradingDecision.id)
            .where(
                TradingDecision.user_id == user_id,
                TradingDecision.symbol_id == symbol_id,
                TradingDecision.bar_time == bar_time,
            )
            .limit(1)
        ).first()
        is not None
    )


def by_request(session: Session, request_id: str) -> TradingDecision | None:
    """The decision stored for ``request_id`` (see ``TradingDecision.request_id``), if any."""
    return session.scalars(
        select(TradingDecision).where(TradingDecision.request_id == request_id)
    ).one_or_none()


def add_new(session: Session, made: list[TradingDecision]) -> list[TradingDecision]:
    """Store and commit ``made``; of a decision whose ``request_id`` is stored already (a rerun,
    or a concurrent run that got there first), nothing is stored. Returns the ones stored."""
    session.add_all(made)
    try:
        session.commit()
        return made
    except IntegrityError:
        session.rollback()
    stored = []
    for row in made:
        try:
            with session.begin_nested():
                session.add(row)
            stored.append(row)
        except IntegrityError:
            pass  # the other run stored it; it announces it too
    session.commit()
    return stored


def decided_bars(session: Session, user_id: int, bar_times: dict[int, datetime]) -> set[int]:
    """Of ``{symbol_id: bar_time}``, the symbols the user already decided on that bar."""
    if not bar_times:
        return set()
    rows = session.execute(
        select(TradingDecision.symbol_id, TradingDecision.bar_time).where(
            TradingDecision.user_id == user_id,
            TradingDecision.symbol_id.in_(list(bar_times)),
            TradingDecision.bar_time.in_(set(bar_times.values())),
        )
    )
    return {symbol_id for symbol_id, at in rows if bar_times.get(symbol_id) == at}


def unscored(session: Session, limit: int) -> list[TradingDecision]:
    return list(
        session.scalars(
            select(TradingDecision)
            .where(TradingDecision.scored_at.is_(None), TradingDecision.bar_time.is_not(None))
            .order_by(TradingDecision.created_at)
            .limit(limit)
        )
    )


def latest_model(
    session: Session, symbol_id: int, interval: str, before: datetime
) -> DecisionModel | None:
    """The newest model whose training window ended at or before ``before`` (no lookahead)."""
    return session.scalars(
        select(DecisionModel)
        .where(
            DecisionModel.symbol_id == symbol_id,
            DecisionModel.interval == interval,
            DecisionModel.train_end <= before,
        )
        .order_by(DecisionModel.train_end.desc(), DecisionModel.id.desc())
        .limit(1)
    ).first()


def latest_models(
    session: Session, interval: str, before: dict[int, datetime]
) -> dict[int, DecisionModel]:
    """``latest_model`` for many symbols (``{symbol_id: bar time}``), one query per distinct
    bar time: usually one, since a batch decides on the same bar."""
    by_time: dict[datetime, list[int]] = {}
    for symbol_id, at in before.items():
        by_time.setdefault(at, []).append(symbol_id)
    out: dict[int, DecisionModel] = {}
    for at, ids in by_time.items():
        rank = (
            func.row_number()
            .over(
                partition_by=DecisionModel.symbol_id,
                order_by=(DecisionModel.train_end.desc(), DecisionModel.id.desc()),
            )
            .label("rank")
        )
        ranked = (
            select(DecisionModel.id, rank)
            .where(
                DecisionModel.symbol_id.in_(ids),
                DecisionModel.interval == interval,
                DecisionModel.train_end <= at,
            )
            .subquery()
        )
        rows = session.scalars(
            select(DecisionModel)
            .join(ranked, ranked.c.id == DecisionModel.id)
            .where(ranked.c.rank == 1)
        )
        out.update({row.symbol_id: row for row in rows})
    return out


def model_version(
    session: Session, symbol_id: int, interval: str, version: str
) -> DecisionModel | None:
    return session.scalars(
        select(DecisionModel).where(
            DecisionModel.symbol_id == symbol_id,
            DecisionModel.interval == interval,
            DecisionModel.version == version,
        )
    ).first()


def statistics(session: Session, user_id: int, filters: dict) -> dict:
    base = _filtered(user_id, **filters).subquery()
    correct = func.sum(case((base.c.outcome_correct.is_(True), 1), else_=0))
    scored = func.count(base.c.scored_at)
    by_action = {
        action: {
            "count": count,
            "mean_confidence": mean,
            "scored": n_scored,
            "hit_rate": (hits / n_scored) if n_scored else None,
        }
        for action, count, mean, n_scored, hits in session.execute(
            select(base.c.action, func.count(), func.avg(base.c.confidence), scored, correct)
            .group_by(base.c.action)
            .order_by(base.c.action)
        )
    }
    by_symbol = {
        ticker: {
            "count": count,
            "mean_confidence": mean,
            "scored": n_scored,
            "hit_rate": (hits / n_scored) if n_scored else None,
        }
        for ticker, count, mean, n_scored, hits in session.execute(
            select(Symbol.ticker, func.count(), func.avg(base.c.confidence), scored, correct)
            .join(Symbol, Symbol.id == base.c.symbol_id)
            .group_by(Symbol.ticker)
            .order_by(Symbol.ticker)
        )
    }
    total, mean, n_scored, hits = session.execute(
        select(func.count(), func.avg(base.c.confidence), scored, correct)
    ).one()
    by_model = {
        model: count
        for model, count in session.execute(
            select(base.c.model, func.count()).group_by(base.c.model).order_by(base.c.model)
        )
    }
    rows = session.execute(
        select(base.c.model, base.c.action, base.c.confidence, base.c.outcome_correct,
               base.c.base_rate, base.c.horizon_bars, base.c.interval)
        .where(base.c.outcome_correct.is_not(None))
        .order_by(base.c.model, base.c.action)
    ).all()  # fmt: skip
    return {
        "total": total,
        "mean_confidence": mean,
        "scored": n_scored,
        "hit_rate": (hits / n_scored) if n_scored else None,
        "by_action": by_action,
        "by_symbol": by_symbol,
        "by_model": by_model,
        **calibration(rows),
    }


def _judge(rows: list[Any]) -> dict[str, Any]:
    """Hit rate with its interval, mean confidence, ECE, Brier and the base-rate Brier."""
    conf = np.array([r.confidence for r in rows], dtype=np.float64)
    right = np.array([bool(r.outcome_correct) for r in rows])
    hits = int(right.sum())
    ci = rel.wilson(hits, len(rows))
    with_base = [r for r in rows if r.base_rate is not None]
    return {
        "n": len(rows),
        "hit_rate": hits / len(rows) if rows else None,
        "hit_rate_ci": list(ci) if ci else None,
        "mean_confidence": float(conf.mean()) if rows else None,
        "ece": rel.ece(conf, right),
        "brier": rel.brier(conf, right),
        # Decisions from before base rates were stored are left out of this one figure.
        "brier_base_rate": rel.brier(
            np.array([r.base_rate for r in with_base], dtype=np.float64),
            np.array([bool(r.outcome_correct) for r in with_base]),
        ),
        "n_base_rate": len(with_base),
        "horizons": sorted({f"{r.horizon_bars} x {r.interval}" for r in rows if r.horizon_bars}),
        "reliability": rel.reliability(conf, right),
    }


def calibration(rows: list[Any]) -> dict[str, Any]:
    """On scored decisions only: the pooled reliability table and figures, and the same per
    (model, action)."""
    pooled = _judge(rows)
    groups: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        groups.setdefault((r.model, r.action), []).append(r)
    return {
        "reliability": pooled.pop("reliability"),
        "calibration": pooled,
        "groups": [
            {"model": model, "action": action, **_judge(members)}
            for (model, action), members in groups.items()
        ],
    }
