"""Actions on many leads at once (the lead list's selection): reassign, change status, add to a
campaign. Each lead goes through the door as the single-lead action does — the same transition
table, reasons and consequences, one event per change — within the caller's ``LeadScope``. A lead
that may not be changed is refused by name with why, never skipped in silence; a lead already so
is unchanged, so the same request sent twice changes nothing the second time."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.auth import LeadScope
from leadops.errors import FieldError, Forbidden, InvalidTransition, ValidationFailed
from leadops.lifecycle.door import Actor, Door
from leadops.lifecycle.facts import LeadRow
from leadops.lifecycle.handoff import reassign
from leadops.lifecycle.machine import check_status_target
from leadops.models import Campaign, CampaignMember, Lead, User
from leadops.rules.loader import CompiledRules

#: The most leads one bulk action takes (a filter that selects more is to be narrowed).
BULK_MOST = 5000
#: A campaign member added from the lead list: the campaign was sent to them.
MEMBER_STATUS = "sent"


@dataclass(frozen=True)
class Refused:
    """A lead the action did not change: who, why (``scope``, ``transition``, ``reassign``,
    ``missing``) and what the reason names."""

    lead_id: int
    name: str
    code: str
    message: str
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass
class BulkOutcome:
    changed: list[int] = dataclasses.field(default_factory=list)
    unchanged: list[int] = dataclasses.field(default_factory=list)
    refused: list[Refused] = dataclasses.field(default_factory=list)


def lead_name(values: Mapping[str, object]) -> str:
    """How a refusal names a lead: its person and company, else its e-mail, else its id."""
    person = " ".join(str(values[k]) for k in ("last_name", "first_name") if values.get(k))
    parts = [p for p in (person, str(values.get("company") or "")) if p]
    return " / ".join(parts) or str(values.get("email") or f"#{values['id']}")


def _checked(
    door: Door,
    scope: LeadScope,
    lead_ids: Sequence[int],
    outcome: BulkOutcome,
    allows: Callable[[int | None, int | None], bool] | None = None,
) -> list[tuple[int, LeadRow]]:
    """The leads locked, those outside the caller's scope (``allows``: the scope's own test by
    default) or gone refused."""
    allows = allows or scope.allows
    if len(lead_ids) > BULK_MOST:
        message = f"{len(lead_ids)} leads selected; at most {BULK_MOST} at once"
        raise ValidationFailed([FieldError("leads", message)])
    rows = door.lock(lead_ids)
    out = []
    for lead_id in sorted(set(lead_ids)):
        row = rows.get(lead_id)
        if row is None or row.values["merged_into_id"] is not None:
            outcome.refused.append(Refused(lead_id, f"#{lead_id}", "missing", "no such lead"))
        elif not allows(row.values["owner_id"], row.values["team_id"]):
            name = lead_name(row.values)
            outcome.refused.append(Refused(lead_id, name, "scope", scope.refusal()))
        else:
            out.append((lead_id, row))
    return out


def bulk_status(
    session: Session,
    rules: CompiledRules,
    lead_ids: Sequence[int],
    status: str,
    *,
    reason: str,
    by: User,
    now: datetime,
) -> BulkOutcome:
    """Move each lead to ``status`` as the single-lead change does (a status that needs a reason
    needs it here too, once for all)."""
    check_status_target(rules, status, reason)
    door = Door(session, rules, now, Actor.user(by.id))
    outcome = BulkOutcome()
    for lead_id, row in _checked(door, LeadScope(session, by), lead_ids, outcome):
        before = row.values["status"]
        try:
            changed = door.move(lead_id, "status", status, reason=reason)
        except InvalidTransition as exc:
            params = {"from": before, "to": status}
            outcome.refused.append(
                Refused(lead_id, lead_name(row.values), "transition", exc.message, params)
            )
            continue
        (outcome.changed if changed else outcome.unchanged).append(lead_id)
    door.flush()
    return outcome


def eligible_owners(session: Session, by: User) -> list[User]:
    """Whom ``by`` may hand leads to: an admin any active member of a team, a manager the active
    people of the teams they manage."""
    people = session.scalars(
        select(User).where(User.active.is_(True), User.team_id.isnot(None)).order_by(User.name)
    ).all()
    if by.role == "admin":
        return list(people)
    if by.role != "manager":
        return []
    scope = LeadScope(session, by)
    return [u for u in people if scope.allows(None, u.team_id)]


def bulk_reassign(
    session: Session,
    rules: CompiledRules,
    lead_ids: Sequence[int],
    to: User,
    *,
    reason: str,
    by: User,
    now: datetime,
) -> BulkOutcome:
    """Give each lead to ``to`` (one of ``eligible_owners``), as the lead page's reassignment."""
    if not reason.strip():
        raise ValidationFailed([FieldError("reason", "a reassignment needs a reason")])
    if to.id not in {u.id for u in eligible_owners(session, by)}:
        if by.role not in ("admin", "manager"):
            raise Forbidden(f"the {by.role} role may not reassign leads")
        message = f"{to.email} is not someone {by.email} may give leads to"
        raise ValidationFailed([FieldError("to", message)])
    door = Door(session, rules, now, Actor.user(by.id))
    outcome = BulkOutcome()
    for lead_id, row in _checked(door, LeadScope(session, by), lead_ids, outcome):
        try:
            record = reassign(door, lead_id, to, by=by, reason=reason)
        except Forbidden as exc:
            outcome.refused.append(Refused(lead_id, lead_name(row.values), "reassign", exc.message))
            continue
        (outcome.changed if record is not None else outcome.unchanged).append(lead_id)
    return outcome


def bulk_campaign(
    session: Session,
    rules: CompiledRules,
    lead_ids: Sequence[int],
    campaign_id: int,
    *,
    by: User,
    now: datetime,
) -> BulkOutcome:
    """Make each lead a member of the campaign (status ``sent``); a member already stays as it
    is. Those who bring leads in (marketing, admins) may add any lead, the others their scope's."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise ValidationFailed([FieldError("campaign", f"no campaign {campaign_id}")])
    door = Door(session, rules, now, Actor.user(by.id))
    scope = LeadScope(session, by)
    outcome = BulkOutcome()
    checked = _checked(door, scope, lead_ids, outcome, scope.may_edit)
    members = set(
        session.scalars(
            select(CampaignMember.lead_id).where(CampaignMember.campaign_id == campaign.id)
        )
    )
    wanted: list[int] = []
    for lead_id, _row in checked:
        (outcome.unchanged if lead_id in members else wanted).append(lead_id)
    for lead_id in wanted:
        session.add(
            CampaignMember(
                campaign_id=campaign.id, lead_id=lead_id, status=MEMBER_STATUS, created_at=now
            )
        )
        door.record(lead_id, "campaign", new=campaign.name[:200], reason=MEMBER_STATUS)
        outcome.changed.append(lead_id)
    session.flush()
    _first_campaign(door, wanted, campaign.id)
    door.flush()
    return outcome


def _first_campaign(door: Door, lead_ids: Sequence[int], campaign_id: int) -> None:
    """A lead without a first campaign has this one."""
    firsts = (
        dict(
            door.session.execute(
                select(Lead.id, Lead.first_campaign_id).where(Lead.id.in_(list(lead_ids)))
            ).all()
        )
        if lead_ids
        else {}
    )
    for lead_id in lead_ids:
        if firsts.get(lead_id) is None:
            door.set_columns(lead_id, first_campaign_id=campaign_id)
