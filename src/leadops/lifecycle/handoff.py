"""Giving leads to people through the door: routing decisions carried out, a manager's
reassignment, and routing every open lead that has no owner yet."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from leadops.db import run_in_transaction
from leadops.errors import FieldError, Forbidden, NotFound, ValidationFailed
from leadops.lifecycle.door import Actor, Door
from leadops.models import Lead, LeadAssignment, Team, User
from leadops.notify import Note, enqueue
from leadops.routing.service import RouteOutcome, ToRoute, decide, needs_owner, to_route
from leadops.rules.service import active_rules


def route(
    door: Door,
    items: Sequence[ToRoute],
    *,
    actor_kind: str = "rule",
    actor_ref: str | None = None,
) -> RouteOutcome:
    """Route these leads (locked by ``door``) and give each to the owner and team chosen; the
    moves are written by the door's next flush."""
    outcome, decisions = decide(
        door.session, door.rules, door.now, items, actor_kind=actor_kind, actor_ref=actor_ref
    )
    for decision in decisions:
        who = Actor("rule", decision.rule_id)
        door.move(decision.lead_id, "team", decision.team_id, reason=decision.reason, actor=who)
        door.move(decision.lead_id, "owner", decision.owner_id, reason=decision.reason, actor=who)
    return outcome


def route_unassigned(
    factory: sessionmaker[Session],
    now: datetime,
    *,
    chunk: int = 1000,
    actor_kind: str = "system",
    actor_ref: str | None = None,
) -> RouteOutcome:
    """Route every open lead that has no owner (after an import without routing, or `org apply`),
    a chunk per transaction."""
    total = RouteOutcome()
    with factory() as session:
        rules = active_rules(session, now)
        unowned = (
            select(Lead.id)
            .where(
                Lead.owner_id.is_(None),
                Lead.merged_into_id.is_(None),
                Lead.status.not_in(rules.closed_statuses),
            )
            .order_by(Lead.id)
        )
        ids = list(session.scalars(unowned))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]

        def work(session: Session, part: list[int] = part) -> RouteOutcome:
            rules = active_rules(session, now)
            door = Door(session, rules, now, Actor(actor_kind, actor_ref))
            items = [
                to_route(row.values, row.fields)
                for row in door.lock(part).values()
                if needs_owner(row.values, rules.closed_statuses)
            ]
            outcome = route(door, items, actor_kind=actor_kind, actor_ref=actor_ref)
            door.flush()
            return outcome

        total.add(run_in_transaction(factory, work))
    return total


def reassign(door: Door, lead_id: int, to: User, *, by: User, reason: str) -> LeadAssignment | None:
    """A manager (of the lead's team or of the new owner's) or an admin moves a lead to another
    person, with a reason. Returns None when it already is theirs."""
    session, now = door.session, door.now
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([FieldError("reason", "a reassignment needs a reason")])
    state = door.lock([lead_id]).get(lead_id)
    if state is None:
        raise NotFound(f"no lead {lead_id}")
    values = state.values
    if values["merged_into_id"] is not None:
        raise NotFound(f"lead {lead_id} was merged into lead {values['merged_into_id']}")
    if not to.active:
        raise ValidationFailed([FieldError("to", f"{to.email} is inactive and cannot take leads")])
    _may_reassign(session, by, values["team_id"], to.team_id)
    if values["owner_id"] == to.id:
        return None
    old_owner = values["owner_id"]
    new_team = to.team_id if to.team_id is not None else values["team_id"]
    who = Actor.user(by.id)
    door.move(lead_id, "team", new_team, reason=reason, actor=who)
    door.move(lead_id, "owner", to.id, reason=reason, actor=who)
    record = LeadAssignment(
        lead_id=lead_id,
        at=now,
        team_id=new_team,
        user_id=to.id,
        rule_id=None,
        strategy="manual",
        reason=reason,
        candidates=[],
        actor_kind="user",
        actor_ref=str(by.id),
    )
    session.add(record)
    door.flush()
    payload = {
        "lead_id": lead_id,
        "email": values["email"],
        "company": values["company"],
        "by": by.email,
        "reason": reason,
    }
    notes = [Note(to.id, "lead_assigned", f"reassign:{record.id}:{to.id}", payload)]
    if old_owner is not None:
        key = f"reassign:{record.id}:{old_owner}"
        notes.append(Note(old_owner, "lead_reassigned_away", key, payload))
    enqueue(session, notes, now)
    return record


def _may_reassign(session: Session, by: User, *team_ids: int | None) -> None:
    if by.role == "admin":
        return
    managed = sorted({t for t in team_ids if t is not None})
    teams = session.scalars(select(Team).where(Team.id.in_(managed))).all() if managed else []
    if by.role != "manager" or not any(t.manager_id == by.id for t in teams):
        raise Forbidden(
            f"{by.email} may not reassign this lead: only an admin or the manager of the lead's "
            "team or of the new owner's team can"
        )
