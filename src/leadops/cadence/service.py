"""Statuses, touches, appointments and approach requests: what people (and rules) do to a lead.
Each locks the lead and changes its state through the door (``leadops.lifecycle``), so the
transition table, its guards, the event and the consequences are the same for every caller.

- ``change_status``: the rules' transition table decides which moves are allowed; statuses that need
  a reason refuse to move without one. A lead that leaves the worked statuses stops its cadence; a
  lead recycled goes back to marketing nurture (the cadence's ``recycle_team``).
- ``log_touch``: untouched → touch_1 … touch_4; ``connected`` or ``replied`` sets ``connected`` and
  stops the cadence; otherwise the next deadline is set from the cadence (48 h / 48 h / 4 days by
  default, then the reply grace after touch 4). A further try at touch 4 without a connect
  recycles the lead (no_connect), as the grace's end would. The first touch completes the lead's
  open approach requests. The same ``external_id`` twice records one touch, even sent twice at once.
- ``book_appointment``: one open opportunity per lead, with its amount and its field-sales owner;
  booking again changes nothing.
- ``open_approach_requests``: seed 002's three patterns as tasks with a subject, a rule and a due
  date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from leadops.cadence.opportunities import (
    check_amount,
    field_sales_user,
    notify_owner,
    pipeline_stages,
    record,
)
from leadops.cadence.playbooks import touch_step, touch_template
from leadops.db import insert_for
from leadops.errors import FieldError, InvalidTransition, NotFound, ValidationFailed
from leadops.leads import find_user
from leadops.lifecycle.door import Actor, Door
from leadops.lifecycle.machine import touch_stage_after
from leadops.models import Lead, Opportunity, Task, Touch, User
from leadops.models.base import table_of
from leadops.notify import Note, enqueue
from leadops.rules.calendar import add_hours
from leadops.rules.conditions import Facts
from leadops.rules.loader import CompiledRules

CHANNELS = ("call", "email", "voicemail", "sms", "social", "meeting")
OUTCOMES = ("no_answer", "voicemail_left", "sent", "bounced", "replied", "connected")


class NewActivity(Protocol):
    """What an approach request looks at of a new activity."""

    @property
    def id(self) -> int: ...

    @property
    def type(self) -> str: ...

    @property
    def properties(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class StatusChange:
    lead_id: int
    before: str
    after: str
    changed: bool


def locked(door: Door, lead_id: int) -> Mapping[str, Any]:
    """The lead's state under the door's lock; a lead merged into another is not found."""
    row = door.lock([lead_id]).get(lead_id)
    if row is None or row.values["merged_into_id"] is not None:
        raise NotFound(f"no lead {lead_id}")
    return row.values


def change_status(
    session: Session,
    rules: CompiledRules,
    lead_id: int,
    status: str,
    *,
    reason: str | None,
    now: datetime,
    actor: Actor | None = None,
    reason_field: str = "reason",
) -> StatusChange:
    """Move a lead to ``status`` if the transition table allows it (InvalidTransition names the
    moves that are; a missing reason is a ValidationFailed naming ``reason_field``). The same
    status again changes nothing."""
    door = Door(session, rules, now, actor or Actor("system"))
    before = locked(door, lead_id)["status"]
    changed = door.move(lead_id, "status", status, reason=reason, reason_field=reason_field)
    door.flush()
    return StatusChange(lead_id, before, status, changed)


def touch_author(session: Session, lead: Lead, by: str | None) -> User | None:
    """Who made a touch: the user named (e-mail or id), else the lead's owner."""
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
    #: The template or script the touch used (the stage's playbook's when the rep did not say).
    template: str | None = None


def _check_touch(channel: str, outcome: str, at: datetime, now: datetime) -> None:
    errors = []
    if channel not in CHANNELS:
        message = f"unknown channel {channel!r}; channels are {', '.join(CHANNELS)}"
        errors.append(FieldError("channel", message))
    if outcome not in OUTCOMES:
        message = f"unknown outcome {outcome!r}; outcomes are {', '.join(OUTCOMES)}"
        errors.append(FieldError("outcome", message))
    if at > now:
        errors.append(FieldError("at", f"{at.isoformat()} is in the future"))
    if errors:
        raise ValidationFailed(errors)


def _resent(session: Session, lead_id: int, external_id: str | None) -> TouchResult | None:
    """The stored result of a touch sent before under the same ``external_id``."""
    if not external_id:
        return None
    existing = session.scalar(select(Touch).where(Touch.external_id == external_id))
    if existing is None:
        return None
    lead = session.get_one(Lead, existing.lead_id)
    return TouchResult(
        existing.id, lead.touch_stage, lead.touch_stage, lead.next_due_at, False, existing.template
    )


def log_touch(
    session: Session,
    rules: CompiledRules,
    lead_id: int,
    *,
    user: User | None,
    channel: str,
    outcome: str,
    at: datetime,
    now: datetime,
    note: str | None = None,
    external_id: str | None = None,
    template: str | None = None,
) -> TouchResult:
    """Record a touch and move the touch stage; sending the same ``external_id`` again records
    nothing and answers with the touch stored. ``template``: the template or script used (default:
    the playbook's of the stage the touch is made at; an unknown name is refused)."""
    _check_touch(channel, outcome, at, now)
    external_id = (external_id or "").strip() or None
    door = Door(session, rules, now, Actor.user(user.id) if user else Actor("api"))
    state = locked(door, lead_id)
    resent = _resent(session, lead_id, external_id)
    if resent is not None:
        return resent
    if state["status"] not in rules.worked_statuses:
        raise InvalidTransition(
            f"the lead is {state['status']}: move it back to a worked status "
            f"({', '.join(sorted(rules.worked_statuses))}) before touching it"
        )
    used = touch_template(rules, template, state["touch_stage"])
    touch = Touch(
        lead_id=lead_id,
        user_id=user.id if user else None,
        at=at,
        channel=channel,
        outcome=outcome,
        note=note,
        external_id=external_id,
        template=used,
        stage=touch_step(state["touch_stage"]),
    )
    try:
        with session.begin_nested():
            session.add(touch)
            session.flush()
    except IntegrityError:  # the same external_id, just stored by another request
        resent = _resent(session, lead_id, external_id)
        if resent is None:
            raise
        return resent
    before = state["touch_stage"]
    after = touch_stage_after(before, outcome)
    door.move(lead_id, "touch_stage", after, at=at, reason=f"{channel}: {outcome}")
    if before == after == "touch_4" and door.allows(lead_id, "status", "recycled"):
        # A try after the fourth without a connect: the cadence is spent (seed 002: Stage4でも
        # 接触できなかった場合には Recycled), as the reply grace's end would say.
        who = Actor("rule", "cadence-no-connect")
        door.move(lead_id, "status", "recycled", at=at, reason="no_connect", actor=who)
    if state["last_touch_at"] is None or at > state["last_touch_at"]:
        door.set_columns(lead_id, last_touch_at=at)
    door.set_columns(lead_id, reminded_due_at=None, escalated_due_at=None)
    door.flush()
    return TouchResult(touch.id, before, after, door.state(lead_id)["next_due_at"], True, used)


def open_approach_requests(
    session: Session,
    rules: CompiledRules,
    now: datetime,
    arrivals: Sequence[tuple[Mapping[str, Any], NewActivity]],
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
    return _open_requests(session, now, rows)


def open_reengagement_requests(
    session: Session, rules: CompiledRules, now: datetime, leads: Sequence[tuple[int, str, str]]
) -> int:
    """An approach request for each re-engaged lead (lead id, why, its key: the activity that
    brought it back), for the rep it was routed to. Idempotent: one per key."""
    back = rules.document.reengagement
    if back is None or not leads:
        return 0
    rows = [
        {
            "lead_id": lead_id,
            "owner_id": None,
            "kind": "approach_request",
            "subject": f"{back.subject}: {why}"[:300],
            "rule_id": "reengagement",
            "created_at": now,
            "due_at": add_hours(now, back.due_hours, rules.document.cadence),
            "state": "open",
            "dedup_key": f"reengaged:{lead_id}:{key}",
        }
        for lead_id, why, key in leads
    ]
    return _open_requests(session, now, rows)


def _open_requests(session: Session, now: datetime, rows: list[dict[str, Any]]) -> int:
    """Insert these approach requests (each once, by its key), tell their owners, and bring the
    first-touch deadline of an untouched lead forward to the request's."""
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
    # An untouched lead's first-touch deadline is the request's, when that comes first (seed 002):
    # one statement for them all, applied request by request in the order they were made.
    _bring_forward(session, [(lead_id, due) for _, lead_id, _, _, due in created])
    return len(created)


_DEADLINES = ("next_due_at", "reminded_due_at", "escalated_due_at")


def _bring_forward(session: Session, deadlines: list[tuple[int, datetime]]) -> None:
    """Each untouched, owned lead's first-touch deadline moved to the given moment when that comes
    first; the session's copies of those leads read the deadlines again."""
    if not deadlines:
        return
    leads = table_of(Lead)
    session.execute(
        update(leads)
        .where(
            leads.c.id == bindparam("lead"),
            leads.c.touch_stage == "untouched",
            leads.c.owner_id.isnot(None),
            leads.c.next_due_at.is_(None) | (leads.c.next_due_at > bindparam("due")),
        )
        .values(next_due_at=bindparam("due"), reminded_due_at=None, escalated_due_at=None),
        [{"lead": lead_id, "due": due} for lead_id, due in deadlines],
    )
    for lead_id in {lead_id for lead_id, _ in deadlines}:
        held = session.identity_map.get(identity_key(Lead, lead_id))
        if held is not None:
            session.expire(held, list(_DEADLINES))


@dataclass(frozen=True)
class Booking:
    opportunity_id: int
    created: bool


def book_appointment(
    session: Session,
    rules: CompiledRules,
    lead_id: int,
    *,
    user: User,
    now: datetime,
    name: str | None = None,
    note: str | None = None,
    amount: float | None = None,
    owner: str | None = None,
) -> Booking:
    """Book an appointment (アポイント): an opportunity at the pipeline's first stage whose creation
    time is the appointment, set by ``user``, with its ``amount`` and its ``owner`` (an active
    field-sales user: e-mail or id). The lead becomes ``connected`` (the person was reached) and an
    ``opportunity`` in its lifecycle; its approach requests are done. A lead that already has an
    open opportunity keeps it: booking again changes nothing."""
    errors: list[FieldError] = []
    check_amount(amount, errors)
    if errors:
        raise ValidationFailed(errors)
    seller = field_sales_user(session, owner) if owner is not None else None
    actor = Actor.user(user.id)
    door = Door(session, rules, now, actor)
    state = locked(door, lead_id)
    open_one = session.scalar(
        select(Opportunity.id)
        .where(Opportunity.lead_id == lead_id, Opportunity.closed_at.is_(None))
        .limit(1)
    )
    if open_one is not None:
        return Booking(open_one, False)
    if state["status"] not in rules.worked_statuses:
        raise InvalidTransition(
            f"the lead is {state['status']}: move it back to a worked status "
            f"({', '.join(sorted(rules.worked_statuses))}) before booking"
        )
    title = (name or "").strip() or f"{state['company'] or state['email'] or lead_id}"
    first = pipeline_stages(rules)[0]
    opp = Opportunity(
        lead_id=lead_id,
        account_id=state["account_id"],
        sdr_id=user.id,
        owner_id=seller.id if seller else None,
        name=title[:300],
        stage=first,
        amount=float(amount) if amount is not None else None,
        created_at=now,
        stage_changed_at=now,
        custom={"note": note} if note else {},
        flags=[],
    )
    session.add(opp)
    session.flush()
    record(session, opp, "stage", None, first, at=now, actor=actor, stage_before=None)
    if opp.amount is not None:
        record(session, opp, "amount", None, opp.amount, at=now, actor=actor, stage_before=first)
    if seller is not None:
        record(session, opp, "owner", None, seller.id, at=now, actor=actor, stage_before=first)
        notify_owner(session, opp, now)
    why = "appointment booked"
    if door.allows(lead_id, "lifecycle_stage", "opportunity"):
        door.move(lead_id, "lifecycle_stage", "opportunity", reason=why)
    door.move(lead_id, "touch_stage", "connected", reason=why)
    door.set_columns(lead_id, next_due_at=None, reminded_due_at=None, escalated_due_at=None)
    door.complete_requests(lead_id, now)
    door.flush()
    return Booking(opp.id, True)
