from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from photon.extensions import db
from photon.models.types import UTCDateTime, utcnow
from photon.types import AgentState


class AgentStatus(db.Model):
    """One row per (user, agent): what the agent is doing for that user."""

    __tablename__ = "agent_status"
    __table_args__ = (UniqueConstraint("user_id", "agent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    agent: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(10), default=AgentState.STOPPED)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    cycles: Mapped[int] = mapped_column(default=0)
    counters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
