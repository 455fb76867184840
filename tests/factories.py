"""Keyword-only factories for tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from leadops.ingest.context import IngestContext
from leadops.ingest.leads import LeadWriter, validate_lead
from leadops.lifecycle.door import Actor, Door
from leadops.models import Lead, User
from leadops.models.base import table_of
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from tests.conftest import NOW


def ingest_context(session: Session, runtime: Runtime, **kwargs: Any) -> IngestContext:
    return IngestContext.from_settings(session, runtime.settings, runtime.clock.now(), **kwargs)


def make_lead(
    session: Session, runtime: Runtime, *, email: str | None = "taro@example.co.jp", **fields: Any
) -> Lead:
    ctx = ingest_context(session, runtime)
    item, errors = validate_lead({"email": email, **fields}, ctx)
    assert item is not None, errors
    writer = LeadWriter(ctx)
    writer.preload([item])
    outcome = writer.upsert(item)
    assert outcome.lead is not None, outcome.refused
    lead = outcome.lead
    writer.finish()
    session.refresh(lead)
    return lead


def give(session: Session, runtime: Runtime, lead: Lead, *, owner_id: int, team_id: int) -> None:
    """Through the door: the lead is owned by this user in this team, and worked (status lead)."""
    now = runtime.clock.now()
    door = Door(session, active_rules(session, now), now, Actor("system"))
    door.lock([lead.id])
    door.move(lead.id, "team", team_id)
    door.move(lead.id, "owner", owner_id)
    door.move(lead.id, "status", "lead")
    door.flush()


def force_state(session: Session, lead: Lead, **columns: Any) -> None:
    """Columns of a lead's state written as they are, without an event: for report tests that
    build a history of their own, the way an import of old data would leave it."""
    table = table_of(Lead)
    session.execute(update(table).where(table.c.id == lead.id).values(**columns))
    session.expire(lead)


def make_user(
    session: Session,
    *,
    email: str,
    role: str = "member",
    team_id: int | None = None,
    name: str | None = None,
) -> User:
    """An active user (no password: tests sign in with a session or a token)."""
    user = User(
        email=email,
        name=name or email.split("@")[0],
        role=role,
        team_id=team_id,
        active=True,
        routing_weight=1.0,
        locale="en",
        created_at=NOW,
    )
    session.add(user)
    session.flush()
    return user
