"""Statuses, touches and approach requests: what people (and rules) do to a lead, each change an
event.

- ``change_status``: the rules' transition table decides which moves are allowed; statuses that need
  a reason refuse to move without one. A lead that leaves the worked statuses stops its cadence; a
  lead recycled goes back to marketing nurture (the cadence's ``recycle_team``).
- ``log_touch``: untouched → touch_1 … touch_4; ``connected`` or ``replied`` sets ``connected`` and
  stops the cadence; otherwise the next deadline is set from the cadence (48 h / 48 h / 4 days by
  default, then the reply grace after touch 4). The first touch completes the lead's open approach
  requests.
- ``open_approach_requests``: seed 002's three patterns as tasks with a subject, a rule and a due
  date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadops.cadence.calendar import add_hours
from leadops.db import insert_for
from leadops.errors import FieldError, InvalidTransition, ValidationFailed
from leadops.models import Lead, LeadEvent, Opportunity, OpportunityEvent, Task, Touch, User
from leadops.models.base import table_of
from leadops.models.opportunities import DEFAULT_STAGES
from leadops.notify import Note, enqueue
from leadops.rules.conditions import Facts
from leadops.rules.loader import CompiledRules
from leadops.rules.schema import RoutingRule
from leadops.scoring.engine import ScoredActivity

CHANNELS = ("call", "email", "voicemail", "sms", "social", "meeting")
OUTCOMES = ("no_answer", "voicemail_left", "sent", "bounced", "replied", "connected")
CONNECTING = ("connected", "replied")
TOUCH_ORDER = ("untouched", "touch_1", "touch_2", "touch_3", "touch_4")


def stage_deadline_hours(rules: CompiledRules, stage: str) -> tuple[float, float] | None:
    """Hours until the next touch is due in ``stage``, and how long before it to remind."""
    cadence = rules.document.cadence
    if stage == "untouched":
        return cadence.first_touch_hours, cadence.remind_before_hours
    if stage == "touch_4":
        return cadence.reply_grace_hours, 0.0
    for deadline in cadence.deadlines:
        if deadline.stage == stage:
            return deadline.hours, deadline.remind_before_hours
    return None


def _event(
    session: Session,
    lead: Lead,
    kind: str,
    old: Any,
    new: Any,
    at: datetime,
    actor_kind: str,
    actor_ref: str | None,
    reason: str | None = None,
    rules_version: int | None = None,
) -> None:
    session.add(
        LeadEvent(
            lead_id=lead.id,
            at=at,
            kind=kind,
            from_value=None if old is None else str(old),
            to_value=None if new is None else str(new),
            reason=reason,
            actor_kind=actor_kind,
            actor_ref=actor_ref,
            rules_version=rules_version,
        )
    )


def next_statuses(rules: CompiledRules, current: str) -> list[str]:
    """The statuses a lead in ``current`` may move to, in the rules' order (any other, when the
    rules give the current status no list or do not know it)."""
    by_name = {s.name: s for s in rules.document.statuses}
    known = by_name.get(current)
    return [
        s.name
        for s in rules.document.statuses
        if s.name != current and (known is None or known.to is None or s.name in known.to)
    ]


@dataclass(frozen=True)
class StatusChange:
    lead_id: int
    before: str
    after: str
    changed: bool


def change_status(
    session: Session,
    rules: CompiledRules,
    lead: Lead,
    status: str,
    *,
    reason: str | None,
    now: datetime,
    actor_kind: str = "user",
    actor_ref: str | None = None,
    nurture: bool = True,
) -> StatusChange:
    """Move a lead to ``status`` if the transition table allows it. The same status again changes
    nothing. A recycled lead is handed to marketing nurture, and open tasks of a lead no longer
    worked are cancelled, unless ``nurture`` is off: then the caller does both for many leads at
    once (``cancel_open_tasks``, ``to_nurture``)."""
    by_name = {s.name: s for s in rules.document.statuses}
    target = by_name.get(status)
    if target is None:
        raise ValidationFailed(
            [FieldError("status", f"unknown status {status!r}; statuses are {sorted(by_name)}")]
        )
    reason = (reason or "").strip() or None
    if lead.status == status:
        return StatusChange(lead.id, status, status, False)
    allowed = next_statuses(rules, lead.status)
    if status not in allowed:
        raise InvalidTransition(
            f"a lead cannot go from {lead.status} to {status}; from {lead.status} it can go to "
            f"{', '.join(allowed) or 'none'}"
        )
    if target.reason_required and not reason:
        raise ValidationFailed([FieldError("reason", f"moving a lead to {status} needs a reason")])
    before = lead.status
    _event(
        session, lead, "status", before, status, now, actor_kind, actor_ref, reason, rules.version
    )
    lead.status, lead.status_reason, lead.status_changed_at = status, reason, now
    if status not in rules.worked_statuses:
        lead.next_due_at = None
        if nurture:
            cancel_open_tasks(session, [lead.id], now)
    if status == "recycled" and nurture:
        to_nurture(session, rules, [lead], now, f"recycled: {reason}")
    if nurture:
        session.flush()
    return StatusChange(lead.id, before, status, True)


def complete_approach_requests(session: Session, lead_id: int, at: datetime) -> None:
    """The lead's open approach requests are done (it was touched, or reached)."""
    session.execute(
        update(Task)
        .where(Task.lead_id == lead_id, Task.state == "open", Task.kind == "approach_request")
        .values(state="done", completed_at=at)
    )


def cancel_open_tasks(session: Session, lead_ids: Sequence[int], now: datetime) -> None:
    for start in range(0, len(lead_ids), 500):
        part = lead_ids[start : start + 500]
        session.execute(
            update(Task)
            .where(Task.lead_id.in_(part), Task.state == "open")
            .values(state="cancelled", completed_at=now)
        )


def to_nurture(
    session: Session, rules: CompiledRules, leads: Sequence[Lead], now: datetime, why: str
) -> None:
    """Hand recycled leads back to marketing nurture through the router (round robin in the
    recycle team)."""
    from leadops.routing.service import route, to_route
    from leadops.scoring.facts import load_leads

    session.flush()
    rows = load_leads(session, [lead.id for lead in leads], lock=True)
    rule = RoutingRule(
        id="recycle-to-nurture", team=rules.document.cadence.recycle_team, strategy="round_robin"
    )
    items = [
        replace(to_route(row.values, row.fields, handoff=True), rule=rule) for row in rows.values()
    ]
    route(session, rules, now, items, actor_kind="rule", actor_ref=why)
    for lead in leads:
        session.expire(lead)


def touch_author(session: Session, lead: Lead, by: str | None) -> User | None:
    """Who made a touch: the user named (e-mail or id), else the lead's owner."""
    from leadops.leads import find_user

    if by:
        return find_user(session, by)
    return session.get(User, lead.owner_id) if lead.owner_id else None


@dataclass(frozen=True)
class TouchResult:
    touch_id: int
    stage_before: str
    stage_after: str
    next_due_at: datetime | None
    created: bool


def log_touch(
    session: Session,
    rules: CompiledRules,
    lead: Lead,
    *,
    user: User | None,
    channel: str,
    outcome: str,
    at: datetime,
    now: datetime,
    note: str | None = None,
    external_id: str | None = None,
) -> TouchResult:
    """Record a touch and move the touch stage; sending the same ``external_id`` again records
    nothing."""
    errors = []
    if channel not in CHANNELS:
        errors.append(
            FieldError(
                "channel", f"unknown channel {channel!r}; channels are {', '.join(CHANNELS)}"
            )
        )
    if outcome not in OUTCOMES:
        errors.append(
            FieldError(
                "outcome", f"unknown outcome {outcome!r}; outcomes are {', '.join(OUTCOMES)}"
            )
        )
    if at > now:
        errors.append(FieldError("at", f"{at.isoformat()} is in the future"))
    if errors:
        raise ValidationFailed(errors)
    if external_id:
        existing = session.scalar(select(Touch).where(Touch.external_id == external_id))
        if existing is not None:
            return TouchResult(
                existing.id, lead.touch_stage, lead.touch_stage, lead.next_due_at, False
            )
    if lead.status not in rules.worked_statuses:
        raise InvalidTransition(
            f"the lead is {lead.status}: move it back to a worked status "
            f"({', '.join(sorted(rules.worked_statuses))}) before touching it"
        )
    touch = Touch(
        lead_id=lead.id,
        user_id=user.id if user else None,
        at=at,
        channel=channel,
        outcome=outcome,
        note=note,
        external_id=external_id,
    )
    session.add(touch)
    before = lead.touch_stage
    actor = str(user.id) if user else None
    if outcome in CONNECTING:
        after = "connected"
    elif before in TOUCH_ORDER[:-1]:
        after = TOUCH_ORDER[TOUCH_ORDER.index(before) + 1]
    else:
        after = before  # touch_4 (more tries) or already connected
    if after != before:
        _event(
            session,
            lead,
            "touch_stage",
            before,
            after,
            at,
            "user",
            actor,
            f"{channel}: {outcome}",
            rules.version,
        )
        lead.touch_stage = after
    if lead.last_touch_at is None or at > lead.last_touch_at:
        lead.last_touch_at = at
    if after == "connected":
        lead.next_due_at = None
    elif after != before:
        hours = stage_deadline_hours(rules, after)
        lead.next_due_at = add_hours(at, hours[0], rules.document.cadence) if hours else None
    lead.reminded_due_at = lead.escalated_due_at = None
    if before == "untouched" or after == "connected":
        complete_approach_requests(session, lead.id, at)
    session.flush()
    return TouchResult(touch.id, before, after, lead.next_due_at, True)


def open_approach_requests(
    session: Session,
    rules: CompiledRules,
    now: datetime,
    arrivals: Sequence[tuple[Mapping[str, Any], ScoredActivity]],
) -> int:
    """Tasks for the arrivals (a lead's fields after scoring, and one new activity) that match an
    approach request rule. Idempotent: one task per rule and activity."""
    if not rules.approach or not arrivals:
        return 0
    requests = {r.id: r for r in rules.document.approach_requests}
    rows: list[dict[str, Any]] = []
    for fields, activity in arrivals:
        facts = Facts(fields=fields, activity=(activity.type, activity.properties))
        for rule_id, predicate in rules.approach:
            if predicate(facts):
                request = requests[rule_id]
                rows.append(
                    {
                        "lead_id": fields["id"],
                        "owner_id": None,
                        "kind": "approach_request",
                        "subject": request.subject,
                        "rule_id": rule_id,
                        "created_at": now,
                        "due_at": add_hours(now, request.due_hours, rules.document.cadence),
                        "state": "open",
                        "dedup_key": f"approach:{rule_id}:{activity.id}",
                    }
                )
                break  # the first matching pattern names the request
    if not rows:
        return 0
    lead_ids = sorted({r["lead_id"] for r in rows})
    owners = dict(
        session.execute(select(Lead.id, Lead.owner_id).where(Lead.id.in_(lead_ids))).all()
    )
    for row in rows:
        row["owner_id"] = owners.get(row["lead_id"])
    stmt = (
        insert_for(session)(table_of(Task))
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(
            table_of(Task).c.id,
            table_of(Task).c.lead_id,
            table_of(Task).c.owner_id,
            table_of(Task).c.subject,
            table_of(Task).c.due_at,
        )
    )
    created = [tuple(r) for r in session.execute(stmt, rows).all()]
    notes = [
        Note(
            owner,
            "approach_request",
            f"approach_request:{task_id}:{owner}",
            {"task_id": task_id, "lead_id": lead_id, "subject": subject, "due_at": due.isoformat()},
        )
        for task_id, lead_id, owner, subject, due in created
        if owner is not None
    ]
    enqueue(session, notes, now)
    # An untouched lead's first-touch deadline is the request's, when that comes first (seed 002).
    for _, lead_id, _, _, due in created:
        session.execute(
            update(Lead)
            .where(
                Lead.id == lead_id,
                Lead.touch_stage == "untouched",
                Lead.owner_id.isnot(None),
                (Lead.next_due_at.is_(None)) | (Lead.next_due_at > due),
            )
            .values(next_due_at=due, reminded_due_at=None, escalated_due_at=None)
        )
    return len(created)


@dataclass(frozen=True)
class Booking:
    opportunity_id: int
    created: bool


def book_appointment(
    session: Session,
    rules: CompiledRules,
    lead: Lead,
    *,
    user: User,
    now: datetime,
    name: str | None = None,
    note: str | None = None,
) -> Booking:
    """Book an appointment (アポイント): an opportunity at its first stage whose creation time is
    the appointment, set by ``user``. The lead becomes ``connected`` (the person was reached) and an
    ``opportunity`` in its lifecycle; its approach requests are done. A lead that already has an
    open opportunity keeps it: booking again changes nothing."""
    open_one = session.scalar(
        select(Opportunity.id)
        .where(Opportunity.lead_id == lead.id, Opportunity.closed_at.is_(None))
        .limit(1)
    )
    if open_one is not None:
        return Booking(open_one, False)
    if lead.status not in rules.worked_statuses:
        raise InvalidTransition(
            f"the lead is {lead.status}: move it back to a worked status "
            f"({', '.join(sorted(rules.worked_statuses))}) before booking"
        )
    title = (name or "").strip() or f"{lead.company or lead.email or lead.id}"
    opp = Opportunity(
        lead_id=lead.id,
        account_id=lead.account_id,
        sdr_id=user.id,
        name=title[:300],
        stage=DEFAULT_STAGES[0],
        created_at=now,
        stage_changed_at=now,
        custom={"note": note} if note else {},
        flags=[],
    )
    session.add(opp)
    session.flush()
    session.add(
        OpportunityEvent(
            opportunity_id=opp.id,
            at=now,
            from_stage=None,
            to_stage=DEFAULT_STAGES[0],
            actor_kind="user",
            actor_ref=str(user.id),
        )
    )
    actor = str(user.id)
    if lead.lifecycle_stage not in ("opportunity", "customer"):
        _event(
            session,
            lead,
            "lifecycle_stage",
            lead.lifecycle_stage,
            "opportunity",
            now,
            "user",
            actor,
            "appointment booked",
            rules.version,
        )
        lead.lifecycle_stage = "opportunity"
    if lead.touch_stage != "connected":
        _event(
            session,
            lead,
            "touch_stage",
            lead.touch_stage,
            "connected",
            now,
            "user",
            actor,
            "appointment booked",
            rules.version,
        )
        lead.touch_stage = "connected"
    lead.next_due_at = lead.reminded_due_at = lead.escalated_due_at = None
    complete_approach_requests(session, lead.id, now)
    session.flush()
    return Booking(opp.id, True)
