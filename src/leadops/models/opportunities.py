"""Opportunities (商談): created_at is the appointment; stage history is kept as events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadops.models.base import Base, BigId, Json, UTCDateTime

DEFAULT_STAGES = (
    "to_contact",
    "contacted",
    "follow_up",
    "proposal_draft",
    "proposal_sent",
    "won",
    "lost",
)
CLOSED_STAGES = ("won", "lost")


class Opportunity(Base):
    __tablename__ = "opportunities"
    __table_args__ = (
        UniqueConstraint("crm_source", "crm_id"),
        Index("ix_opportunities_stage", "stage"),
        Index("ix_opportunities_created_at", "created_at"),
        Index("ix_opportunities_closed_at", "closed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The inside-sales rep who set the appointment.
    sdr_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str | None] = mapped_column(String(300))
    stage: Mapped[str] = mapped_column(String(40))
    amount: Mapped[float | None] = mapped_column(Numeric(16, 2, asdecimal=False))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stage_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lost_reason: Mapped[str | None] = mapped_column(String(300))
    crm_source: Mapped[str | None] = mapped_column(String(50))
    crm_id: Mapped[str | None] = mapped_column(String(200))
    custom: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    flags: Mapped[list[str]] = mapped_column(Json, default=list)


class OpportunityEvent(Base):
    __tablename__ = "opportunity_events"
    __table_args__ = (Index("ix_opportunity_events_opp_at", "opportunity_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_stage: Mapped[str | None] = mapped_column(String(40))
    to_stage: Mapped[str] = mapped_column(String(40))
    actor_kind: Mapped[str] = mapped_column(String(10))
    actor_ref: Mapped[str | None] = mapped_column(String(200))
