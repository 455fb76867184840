"""Opportunities (商談): created_at is the appointment; their history is kept as events (one per
change of stage, amount, expected close, owner or lost reason), and the monthly quotas of field and
inside sales are set against them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
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
#: What an opportunity event records: a change of one of these.
EVENT_KINDS = ("stage", "amount", "expected_close_on", "owner", "lost_reason")
QUOTA_MEASURES = ("appointments", "opportunities", "won_amount")
#: The activity targets a quota may also hold (the dashboard and kpis' attainment show them).
ACTIVITY_MEASURES = ("touches", "connects")
#: Every target of a quota, in the order people read them.
TARGET_MEASURES = ACTIVITY_MEASURES + QUOTA_MEASURES


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
    #: When the field-sales owner expects to close it (受注予定日).
    expected_close_on: Mapped[date | None] = mapped_column(Date)
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
    #: The stage after the event (a change other than of the stage leaves it as it was).
    to_stage: Mapped[str] = mapped_column(String(40))
    #: What changed (EVENT_KINDS); for ``stage`` the values are from_stage and to_stage.
    kind: Mapped[str] = mapped_column(String(20), default="stage", server_default="stage")
    from_value: Mapped[str | None] = mapped_column(String(300))
    to_value: Mapped[str | None] = mapped_column(String(300))
    reason: Mapped[str | None] = mapped_column(String(300))
    actor_kind: Mapped[str] = mapped_column(String(10))
    actor_ref: Mapped[str | None] = mapped_column(String(200))


class Quota(Base):
    """A monthly target (目標) of a team or of one member: touches logged, connects, appointments
    booked, opportunities owned, amount won. ``subject_key`` (``team:ID`` or ``member:ID``) makes
    one row per subject and month, so setting it again replaces it."""

    __tablename__ = "quotas"
    __table_args__ = (UniqueConstraint("month", "subject_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The first day of the month.
    month: Mapped[date] = mapped_column(Date)
    subject_key: Mapped[str] = mapped_column(String(40))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    touches: Mapped[int | None] = mapped_column(Integer)
    connects: Mapped[int | None] = mapped_column(Integer)
    appointments: Mapped[int | None] = mapped_column(Integer)
    opportunities: Mapped[int | None] = mapped_column(Integer)
    won_amount: Mapped[float | None] = mapped_column(Numeric(16, 2, asdecimal=False))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)
