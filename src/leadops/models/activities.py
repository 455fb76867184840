"""What leads do (activities) and the score ledger that explains every point."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadops.models.base import Base, BigId, Json, UTCDateTime

ACTIVITY_TYPES = (
    "page_view",
    "form_submit",
    "content_download",
    "email_open",
    "email_click",
    "email_bounce",
    "unsubscribe",
    "webinar_register",
    "webinar_attend",
    "webinar_no_show",
    "survey_answer",
    "tradeshow_attend",
    "booth_visit",
    "trial_signup",
)


class ActivityType(Base):
    """The activity types that may be ingested: the defaults above plus the users' own."""

    __tablename__ = "activity_types"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    label_ja: Mapped[str | None] = mapped_column(String(100))
    label_en: Mapped[str | None] = mapped_column(String(100))
    builtin: Mapped[bool] = mapped_column(default=False)


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (
        # Re-sending the same event changes nothing: (source system, external id) is the identity.
        UniqueConstraint("source_system", "external_id"),
        Index("ix_activities_lead_occurred", "lead_id", "occurred_at"),
        Index("ix_activities_type_occurred", "type", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(50))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(50))
    properties: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    source_system: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str] = mapped_column(String(200))


class ScoreLedger(Base):
    """Every score change. The score at any moment is the sum of the ledger up to it."""

    __tablename__ = "score_ledger"
    __table_args__ = (
        # One line per (lead, rules version, rule, cause): a retried sweep or rescore cannot add it
        # twice.
        UniqueConstraint("lead_id", "rules_version", "rule_id", "line_key"),
        Index("ix_score_ledger_lead_at", "lead_id", "at"),
        Index("ix_score_ledger_version_at", "rules_version", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL")
    )
    rule_id: Mapped[str] = mapped_column(String(200))
    rules_version: Mapped[int] = mapped_column(Integer)
    score_group: Mapped[str] = mapped_column(String(50), default="behavior")
    delta: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(300))
    #: What caused the line: a:ACTIVITY, d:DECAY-STEP, x:EXPIRY, f:FIT-CHANGE.
    line_key: Mapped[str] = mapped_column(String(200))
