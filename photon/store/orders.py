"""Stored paper orders, scoped to their user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from photon.errors import NotFound
from photon.models import PaperOrder
from photon.store import pagination
from photon.types import OrderStatus


def _filtered(
    user_id: int,
    symbol_id: int | None = None,
    side: str | None = None,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Select:
    query = select(PaperOrder).where(PaperOrder.user_id == user_id)
    for column, value in (
        (PaperOrder.symbol_id, symbol_id),
        (PaperOrder.side, side),
        (PaperOrder.status, status),
    ):
        if value is not None:
            query = query.where(column == value)
    if start is not None:
        query = query.where(PaperOrder.created_at >= start)
    if end is not None:
        query = query.where(PaperOrder.created_at < end)
    return query


NEWEST_FIRST = (PaperOrder.created_at.desc(), PaperOrder.id.desc())


def page(
    session: Session, user_id: int, filters: dict, page: int, page_size: int
) -> tuple[list[PaperOrder], int]:
    return pagination.page(session, _filtered(user_id, **filters), NEWEST_FIRST, page, page_size)


def newest(session: Session, user_id: int, limit: int) -> list[PaperOrder]:
    if limit <= 0:
        return []
    return list(session.scalars(_filtered(user_id).order_by(*NEWEST_FIRST).limit(limit)))


def get(session: Session, user_id: int, order_id: int) -> PaperOrder:
    order = session.scalars(
        select(PaperOrder).where(PaperOrder.id == order_id, PaperOrder.user_id == user_id)
    ).first()
    if order is None:
        raise NotFound(f"No order with id {order_id}")
    return order


def for_decision(session: Session, decision_id: int) -> PaperOrder | None:
    return session.scalars(select(PaperOrder).where(PaperOrder.decision_id == decision_id)).first()


def last_fill_at(session: Session, user_id: int, symbol_id: int) -> datetime | None:
    return session.scalar(
        select(func.max(PaperOrder.created_at)).where(
            PaperOrder.user_id == user_id,
            PaperOrder.symbol_id == symbol_id,
            PaperOrder.status == OrderStatus.FILLED,
        )
    )
