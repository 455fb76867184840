"""REST API under /api/v1. Handlers translate HTTP to service calls and nothing else."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.auth import act_for
from leadops.cadence.service import book_appointment, change_status, log_touch
from leadops.db import run_in_transaction
from leadops.delivery import inbox
from leadops.errors import FieldError, Forbidden, NotFound, TooLarge, ValidationFailed
from leadops.ingest import service
from leadops.leads import LeadFilter, find_lead, find_user, lead_detail, list_leads
from leadops.lifecycle.door import Actor, Door
from leadops.lifecycle.handoff import reassign, route_unassigned
from leadops.models import ActivityType, ImportJob, ImportReject, Notification, User
from leadops.normalize import parse_datetime
from leadops.reports import run_report
from leadops.reports.base import report_params
from leadops.reports.export import to_csv, to_xlsx
from leadops.routing.org import apply_org, describe_org, org_from_data
from leadops.routing.service import assignments_of
from leadops.rules.service import active_rules
from leadops.web.deps import RuntimeDep, SessionDep, WriteSessionDep
from leadops.web.security import Manager, Principal, Reader, Worker, require

router = APIRouter(prefix="/api/v1")


class LeadIn(BaseModel):
    """A lead to create or update, found by its normalized e-mail (or external_id)."""

    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(None, examples=["taro.yamada@example.co.jp"])
    external_id: str | None = Field(None, description="The lead's id in its source system.")
    crm_source: str | None = Field(None, description="The source system of external_id.")
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    company: str | None = Field(None, examples=["株式会社サンプル"])
    domain: str | None = None
    title: str | None = None
    department: str | None = None
    phone: str | None = None
    prefecture: str | None = Field(None, examples=["大阪府", "Osaka", "27"])
    source: str | None = None
    created_at: str | None = Field(
        None, description="ISO 8601 or a Japanese date; naive times are local."
    )
    employees: int | str | None = None
    industry: str | None = None
    owner: str | None = Field(None, description="The owner's e-mail or external id.")
    status: str | None = Field(
        None, description="A status the transition table allows from the lead's current one."
    )
    status_reason: str | None = Field(
        None, description="Why; required for statuses that say so (recycled, disqualified_*)."
    )
    custom: dict[str, Any] | None = Field(
        None, description="Custom fields, e.g. 利用中のMAシステム."
    )


class LeadBatchIn(BaseModel):
    leads: list[dict[str, Any]] = Field(..., description="Objects with the fields of LeadIn.")


class ActivityIn(BaseModel):
    """One activity. (source, external_id) identifies it: sending it again changes nothing."""

    email: str | None = Field(None, examples=["taro.yamada@example.co.jp"])
    lead_external_id: str | None = None
    lead_source: str | None = None
    type: str = Field(
        ...,
        examples=["form_submit"],
        description="One of the activity types (GET /activity-types).",
    )
    occurred_at: str = Field(..., examples=["2026-11-20T10:15:00+09:00"])
    properties: dict[str, Any] | None = Field(None, examples=[{"form": "inquiry"}])
    source: str | None = Field(None, examples=["marketo"])
    external_id: str | None = Field(None, examples=["act-000123"])
    campaign: str | None = None
    channel: str | None = None


class ActivityBatchIn(BaseModel):
    activities: list[dict[str, Any]] = Field(
        ...,
        description="Up to 10,000 ActivityIn objects.",
        json_schema_extra={"items": ActivityIn.model_json_schema()},
    )


def acting_user(session: Session, caller: Principal, ref: str | None) -> User:
    """The user a request acts as: the caller (an API token acts as its owner), or the one ``ref``
    names when the caller may act for them (``auth.may_act_for``: an admin for anyone, a manager
    for the members of the teams they manage)."""
    me = session.get_one(User, caller.user_id)
    if ref is None:
        return me
    return act_for(session, me, find_user(session, ref))


@router.get("/leads", tags=["leads"], dependencies=[require("read")])
def get_leads(
    session: SessionDep,
    touch_stage: str | None = None,
    status: str | None = None,
    source: str | None = None,
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Live leads, newest first."""
    total, page = list_leads(
        session, LeadFilter(touch_stage, status, None, source, q, limit, offset)
    )
    return {"total": total, "limit": limit, "offset": offset, "items": page}


@router.get("/leads/{ref}", tags=["leads"], dependencies=[require("read")])
def get_lead(ref: str, session: SessionDep) -> dict[str, Any]:
    """One lead by e-mail, id or external id, with its activities and history."""
    return lead_detail(session, ref)


@router.put("/leads", tags=["leads"], dependencies=[require("ingest")])
def upsert_lead(body: LeadIn, response: Response, runtime: RuntimeDep) -> dict[str, Any]:
    """Create or update a lead by normalized e-mail. 201 when created, 200 when it existed."""
    data = body.model_dump(exclude_none=True)
    now = runtime.clock.now()
    result = run_in_transaction(
        runtime.factory, lambda s: service.upsert_lead(s, runtime.settings, now, data)
    )
    response.status_code = 201 if result["created"] else 200
    return result


@router.post("/leads/batch", tags=["leads"], dependencies=[require("ingest")])
def upsert_leads(body: LeadBatchIn, response: Response, runtime: RuntimeDep) -> dict[str, Any]:
    """Upsert many leads. Good ones are written; bad ones come back with the path of each bad
    field."""
    if len(body.leads) > runtime.settings.max_batch_size:
        raise TooLarge(
            f"{len(body.leads)} leads in one batch; the limit is {runtime.settings.max_batch_size}"
        )
    now = runtime.clock.now()
    result = run_in_transaction(
        runtime.factory, lambda s: service.upsert_leads(s, runtime.settings, now, body.leads)
    )
    response.status_code = _batch_status(result.pop("good"), len(result["rejected"]))
    return result


@router.post("/activities", tags=["activities"], dependencies=[require("ingest")])
def post_activities(
    body: ActivityBatchIn, response: Response, runtime: RuntimeDep
) -> dict[str, Any]:
    """Store a batch of activities. 200 if all were taken, 207 if some were rejected, 422 if
    none."""
    if len(body.activities) > runtime.settings.max_batch_size:
        raise TooLarge(
            f"{len(body.activities)} activities in one batch; the limit is "
            f"{runtime.settings.max_batch_size}"
        )
    now = runtime.clock.now()
    items = body.activities
    result = run_in_transaction(
        runtime.factory, lambda s: service.store_activities(s, runtime.settings, now, items)
    )
    response.status_code = _batch_status(result.pop("good"), len(result["rejected"]))
    return result


def _batch_status(good: int, bad: int) -> int:
    if bad == 0:
        return 200
    return 207 if good else 422


@router.get("/imports/{job_id}", tags=["imports"], dependencies=[require("ingest")])
def get_import(job_id: int, session: SessionDep) -> dict[str, Any]:
    job = session.get(ImportJob, job_id)
    if job is None:
        raise NotFound(f"no import job {job_id}")
    return {c.name: getattr(job, c.name) for c in ImportJob.__table__.columns}


@router.get("/imports/{job_id}/rejects", tags=["imports"], dependencies=[require("ingest")])
def get_import_rejects(job_id: int, session: SessionDep) -> dict[str, Any]:
    rows = session.scalars(
        select(ImportReject).where(ImportReject.job_id == job_id).order_by(ImportReject.row_number)
    )
    return {
        "job_id": job_id,
        "rejects": [
            {"row": r.row_number, "field": r.field, "error": r.error, "raw": r.raw} for r in rows
        ],
    }


@router.get("/activity-types", tags=["activities"], dependencies=[require("read")])
def get_activity_types(session: SessionDep) -> list[dict[str, Any]]:
    return [
        {"name": t.name, "label_ja": t.label_ja, "label_en": t.label_en, "builtin": t.builtin}
        for t in session.scalars(select(ActivityType).order_by(ActivityType.name))
    ]


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(
        ..., description="The new owner's e-mail or id.", examples=["endo@example.co.jp"]
    )
    by: str | None = Field(
        None,
        description="The manager or admin making the change; default: the caller.",
        examples=["fujii@example.co.jp"],
    )
    reason: str = Field(
        ..., min_length=1, description="Why; recorded with the change.", examples=["顧客の希望"]
    )


@router.get("/leads/{ref}/routing", tags=["routing"], dependencies=[require("read")])
def lead_routing(ref: str, session: SessionDep) -> list[dict[str, Any]]:
    """The lead's routing decisions, newest first: rule, strategy, candidates and why each was
    passed over."""
    return assignments_of(session, find_lead(session, ref).id)


@router.post("/leads/{ref}/reassign", tags=["routing"])
def reassign_lead(
    ref: str, body: ReassignIn, session: WriteSessionDep, runtime: RuntimeDep, caller: Manager
) -> dict[str, Any]:
    """Move a lead to another person (a manager of either team, or an admin), with a recorded
    reason. Sending the same request again changes nothing (``changed: false``)."""
    now = runtime.clock.now()
    lead_id = find_lead(session, ref).id
    to = find_user(session, body.to)
    by = acting_user(session, caller, body.by)
    door = Door(session, active_rules(session, now), now, Actor.user(by.id))
    record = reassign(door, lead_id, to, by=by, reason=body.reason)
    return {
        "lead_id": lead_id,
        "owner": to.email,
        "team_id": door.state(lead_id)["team_id"],
        "changed": record is not None,
    }


@router.post("/route", tags=["routing"], dependencies=[require("manage")])
def route_unassigned_leads(runtime: RuntimeDep) -> dict[str, Any]:
    """Route every open lead without an owner (after the organisation or the rules changed)."""
    outcome = route_unassigned(runtime.factory, runtime.clock.now(), actor_kind="api")
    return {
        "assigned": outcome.assigned,
        "to_manager": outcome.to_manager,
        "not_routed": outcome.unrouted,
        "problems": outcome.problems,
    }


@router.get("/org", tags=["organisation"], dependencies=[require("manage")])
def get_org(session: SessionDep) -> list[dict[str, Any]]:
    """Teams with their manager and members (weight, capacity, active, out-of-office periods)."""
    return describe_org(session)


@router.put("/org", tags=["organisation"], dependencies=[require("admin")])
def put_org(body: dict[str, Any], session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Create or update teams (by name) and users (by e-mail); the same document as `leadops org
    apply`."""
    document = org_from_data(body)
    created = apply_org(session, document, now=runtime.clock.now(), tz=runtime.settings.tz)
    return {"teams": len(document.teams), "users": len(document.users), "created": created}


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(..., examples=["recycled"])
    reason: str | None = Field(
        None, description="Required for statuses that say so (recycled, disqualified_*)."
    )
    by: str | None = Field(
        None, description="Who makes the change (e-mail or id); default: the caller."
    )


class TouchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(
        ..., examples=["call"], description="call, email, voicemail, sms, social, meeting"
    )
    outcome: str = Field(
        ...,
        examples=["no_answer"],
        description="no_answer, voicemail_left, sent, bounced, replied, connected",
    )
    by: str | None = Field(
        None,
        description="The rep (e-mail or id): yourself, or, for a manager, a member of a team "
        "you manage; an admin may name anyone. Default: the caller (a token's owner).",
    )
    at: str | None = Field(None, description="When (ISO 8601); default: now.")
    note: str | None = None
    external_id: str | None = Field(
        None, description="Your id for the touch: sending it again records nothing."
    )


@router.post("/leads/{ref}/status", tags=["cadence"])
def post_status(
    ref: str, body: StatusIn, session: WriteSessionDep, runtime: RuntimeDep, caller: Worker
) -> dict[str, Any]:
    """Change the lead's status as the transition table allows (409 when it does not). Sending the
    same status again changes nothing (``changed: false``)."""
    now = runtime.clock.now()
    lead_id = find_lead(session, ref).id
    actor = acting_user(session, caller, body.by)
    change = change_status(
        session,
        active_rules(session, now),
        lead_id,
        body.status,
        reason=body.reason,
        now=now,
        actor=Actor.user(actor.id),
    )
    return {
        "lead_id": lead_id,
        "from": change.before,
        "to": change.after,
        "changed": change.changed,
    }


@router.post("/leads/{ref}/touches", tags=["cadence"])
def post_touch(
    ref: str,
    body: TouchIn,
    response: Response,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Worker,
) -> dict[str, Any]:
    """Log a touch; the touch stage moves on and the next deadline is set. 201, or 200 for a
    resent external_id."""
    now = runtime.clock.now()
    lead_id = find_lead(session, ref).id
    user = acting_user(session, caller, body.by)
    try:
        at = parse_datetime(body.at, tz=runtime.settings.tz) if body.at else now
    except ValueError as exc:
        raise ValidationFailed([FieldError("at", str(exc))]) from None
    result = log_touch(
        session,
        active_rules(session, now),
        lead_id,
        user=user,
        channel=body.channel,
        outcome=body.outcome,
        at=at,
        now=now,
        note=body.note,
        external_id=body.external_id,
    )
    response.status_code = 201 if result.created else 200
    return {
        "touch_id": result.touch_id,
        "from": result.stage_before,
        "to": result.stage_after,
        "next_due_at": result.next_due_at,
    }


class AppointmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, description="The opportunity's name; default: the company.")
    note: str | None = None
    by: str | None = Field(
        None, description="The rep who set it (e-mail or id); default: the caller."
    )


@router.post("/leads/{ref}/appointments", tags=["cadence"])
def post_appointment(
    ref: str,
    body: AppointmentIn,
    response: Response,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Worker,
) -> dict[str, Any]:
    """Book an appointment: an opportunity whose creation is the appointment. 201; 200 with the same
    opportunity when the lead already has an open one."""
    lead_id = find_lead(session, ref).id
    now = runtime.clock.now()
    user = acting_user(session, caller, body.by)
    booking = book_appointment(
        session,
        active_rules(session, now),
        lead_id,
        user=user,
        now=now,
        name=body.name,
        note=body.note,
    )
    response.status_code = 201 if booking.created else 200
    return {
        "lead_id": lead_id,
        "opportunity_id": booking.opportunity_id,
        "created": booking.created,
    }


@router.get("/notifications", tags=["notifications"])
def get_notifications(
    session: SessionDep,
    caller: Reader,
    user: Annotated[
        str | None, Query(description="The recipient (e-mail or id); default: the caller.")
    ] = None,
    unread: Annotated[bool, Query(description="Only the unread ones.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """Your in-app notifications (the inbox), newest first; an admin may read anyone's."""
    recipient = caller.user_id
    if user is not None:
        named = find_user(session, user)
        if named.id != caller.user_id and caller.role != "admin":
            raise Forbidden(f"only admins read another user's inbox, not the {caller.role} role")
        recipient = named.id
    return inbox(session, recipient, unread_only=unread, limit=limit)


@router.post("/notifications/{notification_id}/read", tags=["notifications"])
def read_notification(
    notification_id: int, session: SessionDep, runtime: RuntimeDep, caller: Reader
) -> dict[str, Any]:
    """Mark one of your in-app notifications read (again: no change)."""
    note = session.get(Notification, notification_id)
    if (
        note is None
        or note.channel != "in_app"
        or (note.recipient_id != caller.user_id and caller.role != "admin")
    ):
        raise NotFound(f"no in-app notification {notification_id}")
    if note.read_at is None:
        note.read_at = runtime.clock.now()
    return {"id": note.id, "read_at": note.read_at}


@router.get(
    "/reports/{name}", tags=["reports"], response_model=None, dependencies=[require("read")]
)
def get_report(
    name: str,
    session: SessionDep,
    runtime: RuntimeDep,
    start: Annotated[
        str | None, Query(alias="from", description="First day (or time) of the range.")
    ] = None,
    end: Annotated[
        str | None, Query(alias="to", description="Last day of the range (inclusive).")
    ] = None,
    period: Annotated[str, Query(description="day, week, month, quarter or year")] = "month",
    by: Annotated[str, Query(description="period or cohort")] = "period",
    format: Annotated[str, Query(description="json, csv or xlsx")] = "json",
    as_of: Annotated[
        str | None, Query(description="Run as of this day (its end) or time, not now.")
    ] = None,
    threshold: Annotated[int, Query(description="score-jumps: the least rise in points")] = 10,
    backtest: Annotated[bool, Query(description="forecast: replay past months' forecasts")] = False,
) -> Any:
    """A report (definitions in docs/reports.md) as JSON, CSV or XLSX."""
    if format not in ("json", "csv", "xlsx"):
        raise ValidationFailed(
            [FieldError("format", f"expected json, csv or xlsx, got {format!r}")]
        )
    params = report_params(
        start,
        end,
        period,
        by,
        runtime.settings.tz,
        runtime.clock.now(),
        as_of=as_of,
        threshold=threshold,
        backtest=backtest,
    )
    result = run_report(session, name, params)
    if format == "csv":
        return Response(
            to_csv(result),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if format == "xlsx":
        return Response(
            to_xlsx(result),
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    return result.to_json()
