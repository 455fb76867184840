"""Campaigns (webinars, trade shows, content, ads) and their members."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadops.models.base import Base, BigId, UTCDateTime

CAMPAIGN_TYPES = (
    "tradeshow",
    "content",
    "webinar",
    "inquiry_form",
    "call",
    "external_db",
    "bdr",
    "ads",
    "email",
)
MEMBER_STATUSES = (
    "sent",
    "registered",
    "attended",
    "no_show",
    "booth_visit",
    "downloaded",
    "responded",
)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    type: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str | None] = mapped_column(String(50))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    cost: Mapped[float | None] = mapped_column(Numeric(14, 2, asdecimal=False))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CampaignMember(Base):
    __tablename__ = "campaign_members"
    __table_args__ = (
        UniqueConstraint("campaign_id", "lead_id"),
        Index("ix_campaign_members_lead", "lead_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(30))
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
