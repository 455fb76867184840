"""Field sales update their opportunities (商談): the stage along the rules' pipeline, the amount,
the expected close date, the owner (a field-sales user), won or lost with a reason.

- The opportunity's row is locked for the unit of work (PostgreSQL ``FOR NO KEY UPDATE``; SQLite's
  single writer does the same), so two updates at once are applied one after the other and neither
  is lost: the second reads what the first wrote.
- Each change is one ``opportunity_event``: what changed (``kind``), from → to, the stage before and
  after, the reason, who (actor) and when. The same values again change nothing and record nothing.
- ``won`` makes the lead a ``customer`` through the door; an open stage makes a lead that had not
  reached it an ``opportunity`` (lifecycle stages only move forward).
- A new field-sales owner is notified (``opportunity_assigned``), once per opportunity and owner.
- Bad input names its field: an unknown stage, a negative amount, an owner who is not an active
  field-sales user, ``lost`` without a reason (422); a closed opportunity moved to another stage
  without ``reopen`` (409).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.errors import Conflict, FieldError, NotFound, ValidationFailed
from leadops.leads import find_user
from leadops.lifecycle.door import Actor, Door
from leadops.models import Opportunity, OpportunityEvent, Team, User
from leadops.models.base import column_length
from leadops.models.opportunities import CLOSED_STAGES
from leadops.notify import Note, enqueue
from leadops.rules.loader import CompiledRules

#: The largest amount the column holds (16 digits, 2 of them decimals).
MAX_AMOUNT = 10**14 - 1
REASON_LENGTH = column_length(OpportunityEvent.reason)
FIELD_SALES = "sales"


@dataclass(frozen=True)
class OpportunityChange:
    """What to change; ``None`` leaves a field as it is. ``outcome`` (won / lost) is the stage
    too; ``reopen`` allows a closed opportunity to move to an open stage."""

    stage: str | None = None
    amount: float | None = None
    expected_close_on: date | None = None
    owner: str | None = None
    outcome: str | None = None
    reason: str | None = None
    reopen: bool = False


@dataclass(frozen=True)
class Updated:
    opportunity_id: int
    lead_id: int | None
    #: The kinds of what changed, in the order recorded (empty: nothing changed).
    changed: tuple[str, ...]
    lifecycle_stage: str | None


def pipeline_stages(rules: CompiledRules) -> list[str]:
    return list(rules.document.pipeline.stages)


def field_sales_user(session: Session, ref: str, *, path: str = "owner") -> User:
    """The active field-sales user (in a team of kind ``sales``) ``ref`` names, else
    ValidationFailed naming ``path``."""
    try:
        user = find_user(session, ref)
    except NotFound as exc:
        raise ValidationFailed([FieldError(path, exc.message)]) from None
    team = session.get(Team, user.team_id) if user.team_id is not None else None
    if not user.active or team is None or team.kind != FIELD_SALES:
        who = user.email or user.name
        message = f"{who} is not an active field-sales user (a member of a team of kind sales)"
        raise ValidationFailed([FieldError(path, message)])
    return user


def check_amount(amount: float | None, errors: list[FieldError], path: str = "amount") -> None:
    if amount is None:
        return
    if not math.isfinite(amount) or amount < 0:
        errors.append(FieldError(path, f"expected an amount of 0 or more, got {amount}"))
    elif amount > MAX_AMOUNT:
        errors.append(FieldError(path, f"{amount:,.0f} is too large: the most is {MAX_AMOUNT:,}"))


def _target_stage(
    rules: CompiledRules, change: OpportunityChange, errors: list[FieldError]
) -> str | None:
    stages = pipeline_stages(rules)
    if change.stage is not None and change.stage not in stages:
        message = f"unknown stage {change.stage!r}; the pipeline is {', '.join(stages)}"
        errors.append(FieldError("stage", message))
    if change.outcome is not None:
        if change.outcome not in CLOSED_STAGES:
            message = f"expected won or lost, got {change.outcome!r}"
            errors.append(FieldError("outcome", message))
        elif change.stage is not None and change.stage != change.outcome:
            message = f"the stage {change.stage!r} contradicts the outcome {change.outcome!r}"
            errors.append(FieldError("stage", message))
        return change.outcome
    return change.stage


def lock_opportunity(session: Session, opportunity_id: int) -> Opportunity:
    """The opportunity, its row locked until the unit of work ends and its columns read again."""
    session.flush()
    opp = session.scalar(
        select(Opportunity)
        .where(Opportunity.id == opportunity_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if opp is None:
        raise NotFound(f"no opportunity {opportunity_id}")
    return opp


def _text(kind: str, value: Any) -> str | None:
    if value is None:
        return None
    if kind == "amount":
        return f"{float(value):.2f}"
    return str(value)


def record(
    session: Session,
    opp: Opportunity,
    kind: str,
    old: Any,
    new: Any,
    *,
    at: datetime,
    actor: Actor,
    stage_before: str | None,
    reason: str | None = None,
) -> None:
    """One event of the opportunity's history."""
    session.add(
        OpportunityEvent(
            opportunity_id=opp.id,
            at=at,
            kind=kind,
            from_value=_text(kind, old),
            to_value=_text(kind, new),
            from_stage=stage_before,
            to_stage=opp.stage,
            reason=reason,
            actor_kind=actor.kind,
            actor_ref=actor.ref,
        )
    )


def update_opportunity(
    session: Session,
    rules: CompiledRules,
    opportunity_id: int,
    change: OpportunityChange,
    *,
    actor: Actor,
    now: datetime,
) -> Updated:
    """Apply ``change`` to the opportunity under its lock; see the module's docstring."""
    errors: list[FieldError] = []
    target = _target_stage(rules, change, errors)
    check_amount(change.amount, errors)
    reason = (change.reason or "").strip() or None
    if reason is not None and len(reason) > REASON_LENGTH:
        message = f"is {len(reason)} characters long; the most is {REASON_LENGTH}"
        errors.append(FieldError("reason", message))
    if errors:
        raise ValidationFailed(errors)
    owner = field_sales_user(session, change.owner) if change.owner is not None else None
    opp = lock_opportunity(session, opportunity_id)
    before = opp.stage
    if target == "lost" and reason is None and before != "lost":
        raise ValidationFailed([FieldError("reason", "say why the opportunity was lost")])
    if target is not None and target != before and before in CLOSED_STAGES and not change.reopen:
        message = f"the opportunity is {before} (closed): say reopen to move it to {target}"
        raise Conflict(message, detail=[FieldError("stage", message).as_dict()])
    changed: list[str] = []

    def note(kind: str, old: Any, new: Any, why: str | None = None) -> None:
        record(session, opp, kind, old, new, at=now, actor=actor, stage_before=before, reason=why)
        changed.append(kind)

    closed_now = target if target in CLOSED_STAGES and target != before else None
    if target is not None and target != before:
        opp.stage, opp.stage_changed_at = target, now
        opp.closed_at = now if target in CLOSED_STAGES else None
        opp.lost_reason = reason if target == "lost" else None
        note("stage", before, target, reason)
        before = target
    elif target == "lost" and reason is not None and reason != opp.lost_reason:
        old_reason, opp.lost_reason = opp.lost_reason, reason
        note("lost_reason", old_reason, reason)
    if change.amount is not None and change.amount != opp.amount:
        old_amount, opp.amount = opp.amount, float(change.amount)
        note("amount", old_amount, opp.amount)
    if change.expected_close_on is not None and change.expected_close_on != opp.expected_close_on:
        old_close, opp.expected_close_on = opp.expected_close_on, change.expected_close_on
        note("expected_close_on", old_close, change.expected_close_on)
    if owner is not None and owner.id != opp.owner_id:
        old_owner, opp.owner_id = opp.owner_id, owner.id
        note("owner", old_owner, owner.id)
        notify_owner(session, opp, now)
    lifecycle = (
        advance_lead(session, rules, opp, actor=actor, now=now, closed=closed_now)
        if changed
        else None
    )
    session.flush()
    return Updated(opp.id, opp.lead_id, tuple(changed), lifecycle)


def notify_owner(session: Session, opp: Opportunity, now: datetime) -> None:
    """Tell the opportunity's field-sales owner it is theirs (once per opportunity and owner)."""
    if opp.owner_id is None:
        return
    payload = {"opportunity_id": opp.id, "lead_id": opp.lead_id, "company": opp.name}
    key = f"opportunity_assigned:{opp.id}:{opp.owner_id}"
    enqueue(session, [Note(opp.owner_id, "opportunity_assigned", key, payload)], now)


def open_elsewhere(session: Session, lead_id: int, opportunity_id: int) -> bool:
    """Whether the lead has an open opportunity besides this one (a deal lost while another is
    still being worked does not send the lead back to nurture)."""
    found = select(Opportunity.id).where(
        Opportunity.lead_id == lead_id,
        Opportunity.id != opportunity_id,
        Opportunity.stage.not_in(CLOSED_STAGES),
    )
    return session.scalars(found.limit(1)).first() is not None


def advance_lead(
    session: Session,
    rules: CompiledRules,
    opp: Opportunity,
    *,
    actor: Actor,
    now: datetime,
    closed: str | None = None,
    declared: bool = False,
) -> str | None:
    """The opportunity's lead, through the door: won makes it a customer, any other stage an
    opportunity (forward only), dated at the deal's close or creation. A deal won or lost now
    (``closed``) is an event of the rules' status conversions — a lost one only when the lead
    has no other deal open. ``declared``: another system's word (an import), which no
    conversion follows. Returns the lead's lifecycle stage."""
    if opp.lead_id is None:
        return None
    door = Door(session, rules, now, actor)
    if door.lock([opp.lead_id]).get(opp.lead_id) is None:
        return None
    target = "customer" if opp.stage == "won" else "opportunity"
    current = door.value(opp.lead_id, "lifecycle_stage")
    if current != target and door.allows(opp.lead_id, "lifecycle_stage", target):
        at = opp.closed_at if target == "customer" and opp.closed_at else opp.created_at
        reason = f"opportunity {opp.id} {opp.stage}"
        door.move(opp.lead_id, "lifecycle_stage", target, at=at, reason=reason, declared=declared)
    if closed == "won" or (closed == "lost" and not open_elsewhere(session, opp.lead_id, opp.id)):
        why = f"lost: {opp.lost_reason}" if closed == "lost" and opp.lost_reason else closed
        door.happened(opp.lead_id, closed, at=opp.closed_at or now, reason=why)
    door.flush()
    return str(door.value(opp.lead_id, "lifecycle_stage"))


def opportunity_as_dict(
    opp: Opportunity, events: list[OpportunityEvent], names: dict[int, str]
) -> dict[str, Any]:
    return {
        "id": opp.id,
        "lead_id": opp.lead_id,
        "name": opp.name,
        "stage": opp.stage,
        "amount": opp.amount,
        "expected_close_on": opp.expected_close_on,
        "owner": names.get(opp.owner_id) if opp.owner_id is not None else None,
        "owner_id": opp.owner_id,
        "sdr": names.get(opp.sdr_id) if opp.sdr_id is not None else None,
        "created_at": opp.created_at,
        "stage_changed_at": opp.stage_changed_at,
        "closed_at": opp.closed_at,
        "lost_reason": opp.lost_reason,
        "history": [_event_as_dict(e, names) for e in events],
    }


def _event_as_dict(e: OpportunityEvent, names: dict[int, str]) -> dict[str, Any]:
    old, new = (e.from_stage, e.to_stage) if e.kind == "stage" else (e.from_value, e.to_value)
    if e.kind == "owner":
        old = names.get(int(old), old) if old and old.isdigit() else old
        new = names.get(int(new), new) if new and new.isdigit() else new
    return {
        "at": e.at,
        "kind": e.kind,
        "from": old,
        "to": new,
        "reason": e.reason,
        "actor": f"{e.actor_kind}:{e.actor_ref}" if e.actor_ref else e.actor_kind,
    }


def opportunities_of(session: Session, lead_id: int) -> list[dict[str, Any]]:
    """The lead's opportunities, newest first, each with its whole history (oldest first)."""
    return _described(
        session,
        select(Opportunity)
        .where(Opportunity.lead_id == lead_id)
        .order_by(Opportunity.created_at.desc(), Opportunity.id.desc()),
    )


def opportunity_of(session: Session, opportunity_id: int) -> dict[str, Any]:
    """One opportunity with its whole history."""
    found = _described(session, select(Opportunity).where(Opportunity.id == opportunity_id))
    if not found:
        raise NotFound(f"no opportunity {opportunity_id}")
    return found[0]


def _described(session: Session, query: Any) -> list[dict[str, Any]]:
    opps = list(session.scalars(query))
    ids = [o.id for o in opps]
    events: dict[int, list[OpportunityEvent]] = {i: [] for i in ids}
    if ids:
        for e in session.scalars(
            select(OpportunityEvent)
            .where(OpportunityEvent.opportunity_id.in_(ids))
            .order_by(OpportunityEvent.at, OpportunityEvent.id)
        ):
            events[e.opportunity_id].append(e)
    people = {o.owner_id for o in opps} | {o.sdr_id for o in opps}
    for history in events.values():
        people |= {
            int(v)
            for e in history
            if e.kind == "owner"
            for v in (e.from_value, e.to_value)
            if v and v.isdigit()
        }
    wanted = sorted(p for p in people if p is not None)
    names = {
        uid: email or name
        for uid, email, name in session.execute(
            select(User.id, User.email, User.name).where(User.id.in_(wanted))
        )
    }
    return [opportunity_as_dict(o, events[o.id], names) for o in opps]
