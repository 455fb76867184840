"""Leads, their history of state changes, and routing decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadops.models.accounts import Account
from leadops.models.base import Base, BigId, Json, UTCDateTime

LIFECYCLE_STAGES = ("inquiry", "mql", "sql", "opportunity", "customer")
#: A lead's state: written only by the door (``leadops.lifecycle``), with an event for each change;
#: the ORM refuses to assign them (see ``_read_only``).
STATE_COLUMNS = frozenset(
    {
        "status",
        "status_reason",
        "status_changed_at",
        "lifecycle_stage",
        "touch_stage",
        "owner_id",
        "team_id",
        "assigned_at",
        "level",
        "temperature",
        "is_valid",
    }
)
TOUCH_STAGES = ("untouched", "touch_1", "touch_2", "touch_3", "touch_4", "connected")


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("crm_source", "crm_id"),
        Index("ix_leads_owner_status", "owner_id", "status"),
        Index("ix_leads_team_status", "team_id", "status"),
        Index("ix_leads_status_touch_stage", "status", "touch_stage"),
        Index("ix_leads_next_due_at", "next_due_at"),
        Index("ix_leads_source_created", "source", "created_at"),
        Index("ix_leads_phone_key", "phone_key"),
        Index("ix_leads_name_key", "name_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Normalized (NFKC, trimmed, lower case); unique. Leads from systems without e-mail have none.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    #: The lead's id in the system it came from (a CRM id, Olist's mql_id).
    crm_source: Mapped[str | None] = mapped_column(String(50))
    crm_id: Mapped[str | None] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    #: The name's reading in full-width katakana (姓・名のフリガナ), as typed on the lead page.
    last_name_kana: Mapped[str | None] = mapped_column(String(200))
    first_name_kana: Mapped[str | None] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(300))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    title: Mapped[str | None] = mapped_column(String(300))
    department: Mapped[str | None] = mapped_column(String(300))
    #: As given (03-1234-5678 内線12), for display; ``phone_key`` is what it matches on.
    phone: Mapped[str | None] = mapped_column(String(50))
    #: The phone normalized for matching: E.164 (+81312345678), ``;ext=12`` for an extension.
    phone_key: Mapped[str | None] = mapped_column(String(40))
    #: The person's name and company normalized for matching (``ingest.identity.name_key``):
    #: how a lead known by nothing else is found again.
    name_key: Mapped[str | None] = mapped_column(String(720))
    #: The full address as given (〒464-0084 愛知県名古屋市千種区…); its prefecture is read off it.
    address: Mapped[str | None] = mapped_column(String(300))
    prefecture: Mapped[str | None] = mapped_column(String(10))
    region: Mapped[str | None] = mapped_column(String(20))
    #: 経路: the last channel through which personal data came. NULL (blank) differs from "unknown".
    source: Mapped[str | None] = mapped_column(String(100))
    first_campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    custom: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    #: Data-quality flags raised on import (kept, never a reason to drop the lead).
    flags: Mapped[list[str]] = mapped_column(Json, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # Current state; every change to these is also a LeadEvent.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifecycle_stage: Mapped[str] = mapped_column(String(20), default="inquiry")
    status: Mapped[str] = mapped_column(String(40), default="new")
    status_reason: Mapped[str | None] = mapped_column(String(200))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    touch_stage: Mapped[str] = mapped_column(String(20), default="untouched")
    score: Mapped[int] = mapped_column(Integer, default=0)
    behavior_score: Mapped[int] = mapped_column(Integer, default=0)
    fit_score: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int | None] = mapped_column(Integer)
    temperature: Mapped[str] = mapped_column(String(10), default="cold")
    is_valid: Mapped[bool] = mapped_column(Boolean, default=True)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_touch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The cadence's next deadline (first touch, next touch, or the reply grace after touch 4).
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The deadline a reminder / an escalation was last sent for (so a sweep sends each once).
    reminded_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    #: Score per named group (behavior, fit, and any the rules add).
    group_scores: Mapped[dict[str, int]] = mapped_column(Json, default=dict)
    #: The scoring engine's memory for this lead (caps, once-per-lead rules, decay); a cache of the
    #: ledger under ``scored_version``, rebuilt by a rescore.
    score_state: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    scored_version: Mapped[int | None] = mapped_column(Integer)
    #: When the next decay or expiry line falls due (what the decay sweep looks for).
    score_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    #: Write-side links so a lead, its new account and its events flush in one go.
    account: Mapped[Account | None] = relationship(lazy="select")


class StateOutsideTheDoor(AttributeError):
    """A lead's state assigned on the ORM object: a programming error (use the door)."""


def _read_only(target: Lead, value: Any, old: Any, initiator: Any) -> Any:
    raise StateOutsideTheDoor(
        f"lead.{initiator.key} is the lead's state: change it through leadops.lifecycle's Door, "
        "which checks the move and records its event"
    )


for _name in sorted(STATE_COLUMNS):
    event.listen(getattr(Lead, _name), "set", _read_only)


#: The columns bulk writers fill for a lead event.
LEAD_EVENT_COLUMNS = (
    "lead_id",
    "at",
    "kind",
    "from_value",
    "to_value",
    "reason",
    "actor_kind",
    "actor_ref",
    "rules_version",
)


class LeadEvent(Base):
    """One change of a lead's state: dwell time, cohorts, recycle reasons and forecasts read
    these."""

    __tablename__ = "lead_events"
    __table_args__ = (
        Index("ix_lead_events_lead_at", "lead_id", "at"),
        Index("ix_lead_events_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    from_value: Mapped[str | None] = mapped_column(String(200))
    to_value: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_kind: Mapped[str] = mapped_column(String(10))
    #: A user id, a rule id, an import job id, depending on actor_kind.
    actor_ref: Mapped[str | None] = mapped_column(String(200))
    rules_version: Mapped[int | None] = mapped_column(Integer)

    lead: Mapped[Lead] = relationship(lazy="select")


class LeadAssignment(Base):
    """A routing decision: the rule, the strategy, the candidates and why each was passed over."""

    __tablename__ = "lead_assignments"
    __table_args__ = (Index("ix_lead_assignments_lead_at", "lead_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rule_id: Mapped[str | None] = mapped_column(String(200))
    strategy: Mapped[str | None] = mapped_column(String(50))
    reason: Mapped[str | None] = mapped_column(Text)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    actor_kind: Mapped[str] = mapped_column(String(10))
    actor_ref: Mapped[str | None] = mapped_column(String(200))


#: The key column of ``lead_search_keys``: compared byte by byte on PostgreSQL too ("C"), so a
#: prefix is a range of the index whatever the database's collation.
SEARCH_KEY = String(300).with_variant(String(300, collation="C"), "postgresql")


class LeadSearchKey(Base):
    """What a lead is found by in the search box (``leadops.search``): its e-mail, its name as
    written and in kana, its company and its phone, each normalized the way a query is, so that a
    search is a prefix range of one index. Written with the lead by the ingest services."""

    __tablename__ = "lead_search_keys"
    __table_args__ = (Index("ix_lead_search_keys_key", "key", "lead_id"),)

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(SEARCH_KEY, primary_key=True)
