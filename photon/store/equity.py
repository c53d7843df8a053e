"""The paper equity curve: snapshots of a portfolio's equity, written as it moves."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from photon.models import EquitySnapshot

# Quotes move equity every monitor cycle (every second in the demo); a point every 15 s is a
# smooth curve without a row per user per cycle.
EQUITY_EVERY = timedelta(seconds=15)


def record(
    session: Session, user_id: int, at: datetime, equity: float, cash: float, *, force: bool = False
) -> EquitySnapshot | None:
    """Add a snapshot unless the user's last one is younger than ``EQUITY_EVERY`` (a fill
    passes ``force``); the caller commits."""
    if not force:
        last = session.scalar(
            select(EquitySnapshot.ts)
            .where(EquitySnapshot.user_id == user_id)
            .order_by(EquitySnapshot.ts.desc())
            .limit(1)
        )
        if last is not None and at - last < EQUITY_EVERY:
            return None
    snapshot = EquitySnapshot(user_id=user_id, ts=at, equity=equity, cash=cash)
    session.add(snapshot)
    return snapshot


def curve(
    session: Session, user_id: int, start: datetime | None, end: datetime | None, limit: int
) -> list[EquitySnapshot]:
    """The newest ``limit`` snapshots in ``[start, end)``, oldest first."""
    query = select(EquitySnapshot).where(EquitySnapshot.user_id == user_id)
    if start is not None:
        query = query.where(EquitySnapshot.ts >= start)
    if end is not None:
        query = query.where(EquitySnapshot.ts < end)
    rows = session.scalars(query.order_by(EquitySnapshot.ts.desc()).limit(limit)).all()
    return list(reversed(rows))


def clear(session: Session, user_id: int) -> None:
    session.execute(delete(EquitySnapshot).where(EquitySnapshot.user_id == user_id))
