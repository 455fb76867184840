"""Touches reps make, the tasks (approach requests) they work, and their qualifications."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadops.models.base import Base, BigId, UTCDateTime


class Touch(Base):
    __tablename__ = "touches"
    __table_args__ = (
        Index("ix_touches_lead_at", "lead_id", "at"),
        Index("ix_touches_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    #: The caller's id for this touch: logging it twice records it once.
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    #: The template or script used (a playbook's ``template``); None: none known.
    template: Mapped[str | None] = mapped_column(String(100))
    #: The touch stage the touch was made at (touch_1 … touch_4, or connected): its playbook's.
    stage: Mapped[str | None] = mapped_column(String(20))


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_state_due", "state", "due_at"),
        Index("ix_tasks_owner_state", "owner_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(30), default="approach_request")
    subject: Mapped[str] = mapped_column(String(300))
    rule_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10), default="open")
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What makes creating this task idempotent (e.g. the activity that triggered it).
    dedup_key: Mapped[str | None] = mapped_column(String(300), unique=True)


class Qualification(Base):
    """A rep's qualification of a lead (the IS qualification that makes it an SQL): the answers
    given (budget, authority, need, timing, a note) by whom and when."""

    __tablename__ = "qualifications"
    __table_args__ = (Index("ix_qualifications_lead_at", "lead_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    budget: Mapped[str | None] = mapped_column(String(500))
    authority: Mapped[str | None] = mapped_column(String(500))
    need: Mapped[str | None] = mapped_column(String(500))
    timing: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(Text)


class LeadNote(Base):
    """A note a person keeps on a lead, apart from any touch (what was learnt, what to say next
    time); shown on the lead's timeline with who wrote it and when."""

    __tablename__ = "lead_notes"
    __table_args__ = (Index("ix_lead_notes_lead_at", "lead_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(Text)


def follow_up_key(lead_id: int, assignee_id: int, due_at: datetime, note: str) -> str:
    """The key of an open follow-up: the same lead, assignee, due minute and note."""
    minute = due_at.replace(second=0, microsecond=0).isoformat()
    text = f"{lead_id}\x1f{assignee_id}\x1f{minute}\x1f{note}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class FollowUpTask(Base):
    """A follow-up a person schedules on a lead ("call back on the 5th at 10:00"): whose it is,
    when it is due and what to do; done or cancelled once, by whom and when. Not the lead's state:
    the lead's status and touch stage move only through the lifecycle's door."""

    __tablename__ = "follow_up_tasks"
    __table_args__ = (
        Index("ix_follow_up_tasks_assignee_state_due", "assignee_id", "state", "due_at"),
        Index("ix_follow_up_tasks_state_due", "state", "due_at"),
        Index("ix_follow_up_tasks_lead_state", "lead_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))
    #: open, done or cancelled.
    state: Mapped[str] = mapped_column(String(10), default="open")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The last time it was moved to another due time, by whom, and the due time it had first.
    moved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the assignee was told it is due (once per due time).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What makes scheduling it idempotent while it is open (the same lead, assignee, due time and
    #: note): sending it again finds this one. Cleared when it is done or cancelled.
    dedup_key: Mapped[str | None] = mapped_column(String(64), unique=True)
