"""Reading leads: finding one by any of its keys, and the queries the list pages use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from leadops.errors import FieldError, NotFound, ValidationFailed
from leadops.models import Account, Activity, Lead, LeadEvent, LeadPrediction, Task, Team, User
from leadops.normalize import MAX_INT64, normalize_email, text_problem
from leadops.rules.loader import CompiledRules
from leadops.rules.segments import Segmentation, lead_columns
from leadops.rules.service import active_rules
from leadops.search import matching_leads


def _by_ref(session: Session, model: Any, ref: str, external: Any) -> Any:
    """A row by normalized e-mail, numeric id, or else by its external key (a number beyond 64 bits
    is no id)."""
    found = None
    if text_problem(ref) is not None:  # a NUL or a lone surrogate: nothing stored holds one
        return None
    if "@" in ref:
        try:
            found = session.scalar(select(model).where(model.email == normalize_email(ref)))
        except ValueError:
            found = None
    elif ref.isascii() and ref.isdigit() and len(ref) <= 19 and int(ref) <= MAX_INT64:
        found = session.get(model, int(ref))
    if found is None:
        found = session.scalar(select(model).where(external == ref).order_by(model.id).limit(1))
    return found


def find_lead(session: Session, ref: str) -> Lead:
    """A lead by e-mail, numeric id or external id; a merged lead resolves to the one it went
    into."""
    lead = _by_ref(session, Lead, ref, Lead.crm_id)
    seen = 0
    while lead is not None and lead.merged_into_id is not None and seen < 10:
        lead = session.get(Lead, lead.merged_into_id)
        seen += 1
    if lead is None:
        raise NotFound(f"no lead {ref!r} (looked for an e-mail, an id and an external id)")
    return lead


def find_user(session: Session, ref: str) -> User:
    """A user by e-mail, numeric id or external reference."""
    user = _by_ref(session, User, ref, User.external_ref)
    if user is None:
        raise NotFound(f"no user {ref!r} (looked for an e-mail, an id and an external reference)")
    return user


def lead_as_dict(lead: Lead, owner: str | None = None, team: str | None = None) -> dict[str, Any]:
    return {
        "id": lead.id,
        "email": lead.email,
        "crm_source": lead.crm_source,
        "crm_id": lead.crm_id,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "company": lead.company,
        "account_id": lead.account_id,
        "title": lead.title,
        "department": lead.department,
        "phone": lead.phone,
        "address": lead.address,
        "prefecture": lead.prefecture,
        "region": lead.region,
        "source": lead.source,
        "custom": lead.custom,
        "flags": lead.flags,
        "created_at": lead.created_at,
        "owner_id": lead.owner_id,
        "owner": owner,
        "team_id": lead.team_id,
        "team": team,
        "lifecycle_stage": lead.lifecycle_stage,
        "status": lead.status,
        "status_reason": lead.status_reason,
        "touch_stage": lead.touch_stage,
        "score": lead.score,
        "behavior_score": lead.behavior_score,
        "fit_score": lead.fit_score,
        "level": lead.level,
        "temperature": lead.temperature,
        "is_valid": lead.is_valid,
        "last_activity_at": lead.last_activity_at,
        "last_touch_at": lead.last_touch_at,
        "next_due_at": lead.next_due_at,
    }


def lead_detail(session: Session, ref: str) -> dict[str, Any]:
    lead = find_lead(session, ref)
    owner = session.get(User, lead.owner_id) if lead.owner_id else None
    team = session.get(Team, lead.team_id) if lead.team_id else None
    activities = session.scalars(
        select(Activity)
        .where(Activity.lead_id == lead.id)
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
    ).all()
    events = session.scalars(
        select(LeadEvent)
        .where(LeadEvent.lead_id == lead.id)
        .order_by(LeadEvent.at.desc(), LeadEvent.id.desc())
    ).all()
    names = _names_in(session, events)
    return {
        "lead": lead_as_dict(lead, owner.name if owner else None, team.name if team else None),
        "activities": [
            {
                "id": a.id,
                "type": a.type,
                "occurred_at": a.occurred_at,
                "properties": a.properties,
                "source": a.source_system,
                "external_id": a.external_id,
            }
            for a in activities
        ],
        "events": [
            {
                "at": e.at,
                "kind": e.kind,
                "from": _readable(e.kind, e.from_value, names),
                "to": _readable(e.kind, e.to_value, names),
                "reason": e.reason,
                "actor": f"{e.actor_kind}:{e.actor_ref}" if e.actor_ref else e.actor_kind,
            }
            for e in events
        ],
    }


def _names_in(session: Session, events: Any) -> dict[tuple[str, str], str]:
    """Owner and team events store ids; history shows e-mails and team names."""
    wanted: dict[str, set[int]] = {"owner": set(), "team": set()}
    for e in events:
        if e.kind in wanted:
            wanted[e.kind].update(int(v) for v in (e.from_value, e.to_value) if v and v.isdigit())
    names: dict[tuple[str, str], str] = {}
    if wanted["owner"]:
        for uid, email, name in session.execute(
            select(User.id, User.email, User.name).where(User.id.in_(wanted["owner"]))
        ):
            names[("owner", str(uid))] = email or name
    if wanted["team"]:
        for tid, name in session.execute(
            select(Team.id, Team.name).where(Team.id.in_(wanted["team"]))
        ):
            names[("team", str(tid))] = name
    return names


def _readable(kind: str, value: str | None, names: dict[tuple[str, str], str]) -> str | None:
    return names.get((kind, value), value) if value is not None else None


@dataclass
class LeadFilter:
    touch_stage: str | None = None
    status: str | None = None
    owner_id: int | None = None
    source: str | None = None
    q: str | None = None
    limit: int = 50
    offset: int = 0
    level: int | None = None
    team_id: int | None = None
    min_score: int | None = None
    max_score: int | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    #: One of SORTS, "-" first for descending.
    sort: str = "-created"
    #: Segment → value (industry, department, title_class, employee_band, prefecture, region,
    #: custom.NAME; see rules/segments.py), all of which a lead must be in.
    segments: dict[str, str] = field(default_factory=dict)
    #: Only these leads (a selection on the lead list), when given.
    ids: tuple[int, ...] | None = None


_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])

#: What the lead list can be sorted by.
SORTS = {
    "created": Lead.created_at,
    "score": Lead.score,
    "company": Lead.company,
    "last_activity": Lead.last_activity_at,
    "due": Lead.next_due_at,
    "probability": select(LeadPrediction.probability)
    .where(LeadPrediction.lead_id == Lead.id)
    .scalar_subquery(),
}


def _filtered(
    stmt: _Query,
    session: Session,
    flt: LeadFilter,
    rules: CompiledRules | None,
    *,
    by_stage: bool = True,
) -> _Query:
    """``stmt`` (over Lead, joined to Account when segments need it) narrowed to the live leads
    the filter selects (whatever their touch stage unless ``by_stage``)."""
    stmt = stmt.where(Lead.merged_into_id.is_(None))
    if flt.ids is not None:
        stmt = stmt.where(Lead.id.in_(flt.ids))
    if flt.touch_stage and by_stage:
        stmt = stmt.where(Lead.touch_stage == flt.touch_stage)
    if flt.status:
        stmt = stmt.where(Lead.status == flt.status)
    if flt.owner_id:
        stmt = stmt.where(Lead.owner_id == flt.owner_id)
    if flt.source:
        stmt = stmt.where(Lead.source == flt.source)
    if flt.q:
        stmt = stmt.where(Lead.id.in_(matching_leads(flt.q)))
    if flt.level is not None:
        stmt = stmt.where(Lead.level == flt.level)
    if flt.team_id is not None:
        stmt = stmt.where(Lead.team_id == flt.team_id)
    if flt.min_score is not None:
        stmt = stmt.where(Lead.score >= flt.min_score)
    if flt.max_score is not None:
        stmt = stmt.where(Lead.score <= flt.max_score)
    if flt.created_from is not None:
        stmt = stmt.where(Lead.created_at >= flt.created_from)
    if flt.created_before is not None:
        stmt = stmt.where(Lead.created_at < flt.created_before)
    if flt.segments:
        rules = rules or active_rules(session, datetime.now(UTC))
        segmentation = Segmentation(rules.document.segments, session)
        problems = segmentation.problems(flt.segments)
        if problems:
            raise ValidationFailed(problems)
        columns = lead_columns(Account)
        for dimension, value in flt.segments.items():
            stmt = stmt.where(segmentation.condition(dimension, value, columns))
    return stmt


def stage_counts(
    session: Session, flt: LeadFilter, rules: CompiledRules | None = None
) -> dict[str, int]:
    """How many of the leads the filter selects (whatever its touch stage) are at each touch
    stage: the counts beside the list's stage tabs."""
    base = select(Lead.touch_stage, func.count()).select_from(Lead)
    if flt.segments:
        base = base.outerjoin(Account, Account.id == Lead.account_id)
    stmt = _filtered(base, session, flt, rules, by_stage=False)
    return {stage: n for stage, n in session.execute(stmt.group_by(Lead.touch_stage))}


def list_leads(
    session: Session, flt: LeadFilter, rules: CompiledRules | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """(total, page) of live leads, newest first, with owner and account names. Segment filters
    follow ``rules`` (default: the active rules); an unknown segment or value is refused, named."""
    owner = aliased(User)
    stmt = _filtered(
        select(Lead, owner.name, Account.name)
        .outerjoin(owner, owner.id == Lead.owner_id)
        .outerjoin(Account, Account.id == Lead.account_id),
        session,
        flt,
        rules,
    )
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    column = SORTS.get(flt.sort.lstrip("-"))
    if column is None:
        raise ValidationFailed(
            [
                FieldError(
                    "sort",
                    f"expected one of {', '.join(SORTS)} (- first for descending), "
                    f"got {flt.sort!r}",
                )
            ]
        )
    order = column.desc().nulls_last() if flt.sort.startswith("-") else column.asc().nulls_last()
    rows = session.execute(stmt.order_by(order, Lead.id.desc()).limit(flt.limit).offset(flt.offset))
    page = []
    for lead, owner_name, account_name in rows:
        item = lead_as_dict(lead, owner_name)
        item["account"] = account_name
        page.append(item)
    return total, page


@dataclass
class QueueItem:
    lead: Lead
    due_at: datetime | None
    tasks: list[Task]


def my_queue(
    session: Session, user_id: int, worked: frozenset[str], limit: int = 200
) -> list[QueueItem]:
    """A rep's leads with a touch due and their open approach requests, soonest (most overdue)
    first."""
    tasks: dict[int, list[Task]] = {}
    for task in session.scalars(
        select(Task)
        .where(Task.owner_id == user_id, Task.state == "open")
        .order_by(Task.due_at)
        .limit(limit)
    ):
        tasks.setdefault(task.lead_id, []).append(task)
    # A lead at touch 4 waits for a reply (the grace's end recycles it): no touch is due.
    due = (
        (Lead.owner_id == user_id)
        & Lead.next_due_at.isnot(None)
        & Lead.status.in_(worked)
        & (Lead.touch_stage != "touch_4")
    )
    wanted = or_(due, Lead.id.in_(list(tasks))) if tasks else due
    leads = session.scalars(
        select(Lead)
        .where(Lead.merged_into_id.is_(None), wanted)
        .order_by(Lead.next_due_at)
        .limit(limit)
    ).all()
    items = []
    for lead in leads:
        dues = [
            d
            for d in [lead.next_due_at, *(t.due_at for t in tasks.get(lead.id, []))]
            if d is not None
        ]
        items.append(QueueItem(lead, min(dues) if dues else None, tasks.get(lead.id, [])))
    items.sort(key=lambda item: (item.due_at is None, item.due_at or _FAR_FUTURE, item.lead.id))
    return items


_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
