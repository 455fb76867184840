"""Notes people keep on a lead, apart from touches: what was learnt, what to say next time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.errors import FieldError, NotFound, ValidationFailed
from leadops.models import Lead, LeadNote, User

#: The longest note kept.
NOTE_BODY_LENGTH = 2_000


def add_note(
    session: Session, lead_id: int, *, user_id: int | None, body: str, now: datetime
) -> LeadNote:
    """Keep a note on a live lead, written by ``user_id`` now (a blank note is refused)."""
    text = body.strip()
    if not text:
        raise ValidationFailed([FieldError("body", "write the note")])
    if len(text) > NOTE_BODY_LENGTH:
        message = f"a note holds at most {NOTE_BODY_LENGTH:,} characters"
        raise ValidationFailed([FieldError("body", message)])
    lead = session.get(Lead, lead_id)
    if lead is None or lead.merged_into_id is not None:
        raise NotFound(f"no lead {lead_id}")
    note = LeadNote(lead_id=lead_id, user_id=user_id, at=now, body=text)
    session.add(note)
    session.flush()
    return note


def notes_of(session: Session, lead_id: int, limit: int = 300) -> list[tuple[LeadNote, str]]:
    """A lead's notes, newest first, each with its author's name."""
    stmt = (
        select(LeadNote, User.name)
        .outerjoin(User, User.id == LeadNote.user_id)
        .where(LeadNote.lead_id == lead_id)
        .order_by(LeadNote.at.desc(), LeadNote.id.desc())
        .limit(limit)
    )
    return [(note, name or "") for note, name in session.execute(stmt)]
