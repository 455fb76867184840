"""REST API under /api/v1. Handlers translate HTTP to service calls and nothing else."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.auth import act_for
from leadops.cadence.service import book_appointment, change_status, log_touch
from leadops.db import run_in_transaction
from leadops.delivery import inbox
from leadops.errors import FieldError, Forbidden, NotFound, TooLarge, ValidationFailed
from leadops.ingest import service
from leadops.ingest.activities import TEXT_LENGTHS as ACTIVITY_LENGTHS
from leadops.ingest.leads import LEAD_LENGTHS, MAX_EMPLOYEES
from leadops.leads import LeadFilter, find_lead, find_user, lead_detail, list_leads
from leadops.lifecycle.door import Actor, Door
from leadops.lifecycle.handoff import reassign, route_unassigned
from leadops.models import ActivityType, ImportJob, ImportReject, Notification, User
from leadops.normalize import parse_datetime
from leadops.reports import run_report
from leadops.reports.base import PERIODS, REPORTS, report_params
from leadops.reports.export import to_csv
from leadops.routing.org import OrgDocument, apply_org, describe_org, org_from_data
from leadops.routing.service import assignments_of
from leadops.rules.segments import VALUE_LENGTH, segment_filters
from leadops.rules.service import active_rules
from leadops.web import responses as out
from leadops.web.deps import (
    ActivityWriterDep,
    ReadSessionDep,
    RuntimeDep,
    SessionDep,
    WriteSessionDep,
)
from leadops.web.exports import CsvEncoding, XlsxLang, csv_response, report_xlsx
from leadops.web.fields import (
    NOTE_LENGTH,
    OPPORTUNITY_NAME_LENGTH,
    REF_LENGTH,
    STATUS_REASON_LENGTH,
    LeadRef,
    Offset,
    OptionalKey,
    PathId,
    Text,
)
from leadops.web.security import Manager, Principal, Reader, Worker, require

router = APIRouter(prefix="/api/v1")


def _lead_text(name: str, description: str | None = None, **extra: Any) -> Any:
    """An optional text field of a lead, as long as its column allows."""
    return Field(None, max_length=LEAD_LENGTHS[name], description=description, **extra)


_EMPLOYEES = {
    "anyOf": [
        {"type": "integer", "minimum": 0, "maximum": MAX_EMPLOYEES},
        {"type": "string", "maxLength": LEAD_LENGTHS["employees"]},
        {"type": "null"},
    ]
}


class LeadIn(BaseModel):
    """A lead to create or update, found by its normalized e-mail, its external_id, its phone or
    its name with company. A blank field is not given: it changes nothing."""

    model_config = ConfigDict(extra="forbid")
    email: Text | None = _lead_text("email", examples=["taro.yamada@example.co.jp"])
    external_id: Text | None = _lead_text("external_id", "The lead's id in its source system.")
    crm_source: Text | None = _lead_text(
        "crm_source", "The source system of external_id (blank or none: import)."
    )
    first_name: Text | None = _lead_text("first_name")
    last_name: Text | None = _lead_text("last_name")
    full_name: Text | None = _lead_text("full_name", "Family name first, as in Japan.")
    company: Text | None = _lead_text("company", examples=["株式会社サンプル"])
    domain: Text | None = _lead_text("domain")
    title: Text | None = _lead_text("title")
    department: Text | None = _lead_text("department")
    phone: Text | None = _lead_text(
        "phone", "As written (03-1234-5678, +81 3 1234 5678); matched on its E.164 form."
    )
    address: Text | None = _lead_text(
        "address", "The full address; it gives the prefecture when none is given."
    )
    prefecture: Text | None = _lead_text("prefecture", examples=["大阪府", "Osaka", "27"])
    source: Text | None = _lead_text("source")
    created_at: Text | None = _lead_text(
        "created_at", "ISO 8601 or a Japanese date; naive times are local.", examples=["2026-11-20"]
    )
    # Read by the lead's own validation (as in a batch or a file), so one message names it.
    employees: Annotated[Any, WithJsonSchema(_EMPLOYEES)] = Field(
        None, description="A number, or text such as '1,200名'.", examples=[1200]
    )
    industry: Text | None = _lead_text("industry")
    owner: Text | None = _lead_text("owner", "The owner's e-mail, external id or name.")
    status: Text | None = _lead_text("status")
    status_reason: Text | None = _lead_text(
        "status_reason", "Why; required for statuses that say so (recycled, disqualified_*)."
    )
    custom: dict[str, Any] | None = Field(
        None, description="Custom fields, e.g. 利用中のMAシステム."
    )


class LeadBatchIn(BaseModel):
    leads: list[dict[str, Any]] = Field(
        ...,
        description="Objects with the fields of LeadIn (up to 10,000 by default).",
        json_schema_extra={"items": {"$ref": "#/components/schemas/LeadIn"}},
    )


def _activity_text(name: str, **extra: Any) -> Any:
    """An optional text field of an activity, as long as its column allows."""
    return Field(None, max_length=ACTIVITY_LENGTHS[name], **extra)


class ActivityIn(BaseModel):
    """One activity. (source, external_id) identifies it: sending it again changes nothing."""

    email: Text | None = _activity_text("email", examples=["taro.yamada@example.co.jp"])
    lead_external_id: Text | None = _activity_text("lead_external_id")
    lead_source: Text | None = _activity_text("lead_source")
    type: Text = Field(
        ...,
        max_length=ACTIVITY_LENGTHS["type"],
        examples=["form_submit"],
        description="One of the activity types (GET /activity-types).",
    )
    occurred_at: Text = Field(..., max_length=100, examples=["2026-11-20T10:15:00+09:00"])
    properties: dict[str, Any] | None = Field(None, examples=[{"form": "inquiry"}])
    source: Text | None = _activity_text("source", examples=["marketo"])
    external_id: Text | None = _activity_text("external_id", examples=["act-000123"])
    campaign: Text | None = _activity_text("campaign")
    channel: Text | None = _activity_text(
        "channel", description="How it came (free text, e.g. email, ads, event)."
    )


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


def _segment(description: str) -> Any:
    return Query(max_length=VALUE_LENGTH, description=f"Segment filter: {description}")


@router.get(
    "/leads",
    tags=["leads"],
    dependencies=[require("read")],
    response_model=out.LeadPage,
    responses=out.errors(401, 403, 422),
)
def get_leads(
    session: SessionDep,
    touch_stage: Annotated[Text | None, Query(max_length=20)] = None,
    status: Annotated[Text | None, Query(max_length=40)] = None,
    source: Annotated[Text | None, Query(max_length=100)] = None,
    q: Annotated[
        Text | None, Query(max_length=200, description="Part of an e-mail, company or name.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
    industry: Annotated[Text | None, _segment("The account's industry.")] = None,
    department: Annotated[Text | None, _segment("The lead's department.")] = None,
    title_class: Annotated[
        Text | None, _segment("A title class of the rules (役員, 部長, 課長 … その他).")
    ] = None,
    employee_band: Annotated[
        Text | None, _segment("An employee band of the rules (1–9, 10–49 … 1000+).")
    ] = None,
    prefecture: Annotated[Text | None, _segment("The lead's (else its account's).")] = None,
    region: Annotated[
        Text | None, _segment("One of Japan's eight regions, from the prefecture.")
    ] = None,
    custom: Annotated[
        list[Text] | None,
        Query(
            max_length=20,
            description="NAME=VALUE: the custom field NAME holds VALUE (repeat for several).",
        ),
    ] = None,
) -> dict[str, Any]:
    """Live leads, newest first; the segment filters are documented in docs/reports.md."""
    segments = segment_filters(
        {
            "industry": industry,
            "department": department,
            "title_class": title_class,
            "employee_band": employee_band,
            "prefecture": prefecture,
            "region": region,
        },
        custom or (),
    )
    total, page = list_leads(
        session,
        LeadFilter(touch_stage, status, None, source, q, limit, offset, segments=segments),
    )
    return {"total": total, "limit": limit, "offset": offset, "items": page}


@router.get(
    "/leads/{ref}",
    tags=["leads"],
    dependencies=[require("read")],
    response_model=out.LeadDetail,
    responses=out.READS,
)
def get_lead(ref: LeadRef, session: SessionDep) -> dict[str, Any]:
    """One lead by e-mail, id or external id, with its activities and history."""
    return lead_detail(session, ref)


@router.put(
    "/leads",
    tags=["leads"],
    dependencies=[require("ingest")],
    response_model=out.LeadUpserted,
    responses={
        **out.created_or_not(out.LeadUpserted, "The lead was created.", "The lead existed."),
        **out.errors(400, 401, 403, 409, 413, 422),
    },
)
def upsert_lead(body: LeadIn, response: Response, runtime: RuntimeDep) -> dict[str, Any]:
    """Create or update a lead by normalized e-mail. 201 when created, 200 when it existed."""
    data = body.model_dump(exclude_none=True)
    now = runtime.clock.now()
    result = run_in_transaction(
        runtime.factory, lambda s: service.upsert_lead(s, runtime.settings, now, data)
    )
    response.status_code = 201 if result["created"] else 200
    return result


@router.post(
    "/leads/batch",
    tags=["leads"],
    dependencies=[require("ingest")],
    response_model=out.LeadBatchOut,
    responses=out.batch_responses(out.LeadBatchOut),
)
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


@router.post(
    "/activities",
    tags=["activities"],
    dependencies=[require("ingest")],
    response_model=out.ActivityBatchOut,
    responses=out.batch_responses(out.ActivityBatchOut),
)
async def post_activities(
    body: ActivityBatchIn, response: Response, runtime: RuntimeDep, writer: ActivityWriterDep
) -> dict[str, Any]:
    """Store a batch of activities. 200 if all were taken, 207 if some were rejected, 422 if
    none."""
    if len(body.activities) > runtime.settings.max_batch_size:
        raise TooLarge(
            f"{len(body.activities)} activities in one batch; the limit is "
            f"{runtime.settings.max_batch_size}"
        )
    # Stored by the API's writer with the posts that arrive while it writes another group, one
    # commit for all (``ingest.grouped``); answered once its group has committed. The request
    # holds no thread while it waits.
    result = dict(await writer.submit_async(body.activities))
    response.status_code = _batch_status(result.pop("good"), len(result["rejected"]))
    return result


def _batch_status(good: int, bad: int) -> int:
    if bad == 0:
        return 200
    return 207 if good else 422


@router.get(
    "/imports/{job_id}",
    tags=["imports"],
    dependencies=[require("ingest")],
    response_model=out.ImportJobOut,
    responses=out.READS,
)
def get_import(job_id: PathId, session: SessionDep) -> dict[str, Any]:
    job = session.get(ImportJob, job_id)
    if job is None:
        raise NotFound(f"no import job {job_id}")
    return {c.name: getattr(job, c.name) for c in ImportJob.__table__.columns}


@router.get(
    "/imports/{job_id}/rejects",
    tags=["imports"],
    dependencies=[require("ingest")],
    response_model=out.ImportRejects,
    responses=out.errors(401, 403, 422),
)
def get_import_rejects(job_id: PathId, session: SessionDep) -> dict[str, Any]:
    rows = session.scalars(
        select(ImportReject).where(ImportReject.job_id == job_id).order_by(ImportReject.row_number)
    )
    return {
        "job_id": job_id,
        "rejects": [
            {"row": r.row_number, "field": r.field, "error": r.error, "raw": r.raw} for r in rows
        ],
    }


@router.get(
    "/activity-types",
    tags=["activities"],
    dependencies=[require("read")],
    response_model=list[out.ActivityTypeOut],
    responses=out.SIGNED_IN,
)
def get_activity_types(session: SessionDep) -> list[dict[str, Any]]:
    return [
        {"name": t.name, "label_ja": t.label_ja, "label_en": t.label_en, "builtin": t.builtin}
        for t in session.scalars(select(ActivityType).order_by(ActivityType.name))
    ]


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Text = Field(
        ...,
        min_length=1,
        max_length=REF_LENGTH,
        description="The new owner's e-mail or id.",
        examples=["endo@example.co.jp"],
    )
    by: Text | None = Field(
        None,
        min_length=1,
        max_length=REF_LENGTH,
        description="The manager or admin making the change; default: the caller.",
        examples=["fujii@example.co.jp"],
    )
    reason: Text = Field(
        ...,
        min_length=1,
        max_length=NOTE_LENGTH,
        description="Why; recorded with the change.",
        examples=["顧客の希望"],
    )


@router.get(
    "/leads/{ref}/routing",
    tags=["routing"],
    dependencies=[require("read")],
    response_model=list[out.AssignmentOut],
    responses=out.READS,
)
def lead_routing(ref: LeadRef, session: SessionDep) -> list[dict[str, Any]]:
    """The lead's routing decisions, newest first: rule, strategy, candidates and why each was
    passed over."""
    return assignments_of(session, find_lead(session, ref).id)


@router.post(
    "/leads/{ref}/reassign",
    tags=["routing"],
    response_model=out.Reassigned,
    responses=out.WRITES,
)
def reassign_lead(
    ref: LeadRef, body: ReassignIn, session: WriteSessionDep, runtime: RuntimeDep, caller: Manager
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


@router.post(
    "/route",
    tags=["routing"],
    dependencies=[require("manage")],
    response_model=out.Routed,
    responses=out.SIGNED_IN,
)
def route_unassigned_leads(runtime: RuntimeDep) -> dict[str, Any]:
    """Route every open lead without an owner (after the organisation or the rules changed)."""
    outcome = route_unassigned(runtime.factory, runtime.clock.now(), actor_kind="api")
    return {
        "assigned": outcome.assigned,
        "to_manager": outcome.to_manager,
        "not_routed": outcome.unrouted,
        "problems": outcome.problems,
    }


@router.get(
    "/org",
    tags=["organisation"],
    dependencies=[require("manage")],
    response_model=list[out.TeamOut],
    responses=out.SIGNED_IN,
)
def get_org(session: SessionDep) -> list[dict[str, Any]]:
    """Teams with their manager and members (weight, capacity, active, out-of-office periods)."""
    return describe_org(session)


@router.put(
    "/org",
    tags=["organisation"],
    dependencies=[require("admin")],
    response_model=out.OrgApplied,
    responses=out.errors(400, 401, 403, 413, 422),
)
def put_org(body: OrgDocument, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Create or update teams (by name) and users (by e-mail); the same document as `leadops org
    apply`."""
    document = org_from_data(body)
    created = apply_org(session, document, now=runtime.clock.now(), tz=runtime.settings.tz)
    return {"teams": len(document.teams), "users": len(document.users), "created": created}


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Text = Field(..., min_length=1, max_length=40, examples=["recycled"])
    reason: Text | None = Field(
        None,
        max_length=STATUS_REASON_LENGTH,
        description="Required for statuses that say so (recycled, disqualified_*).",
    )
    by: Text | None = Field(
        None,
        min_length=1,
        max_length=REF_LENGTH,
        description="Who makes the change (e-mail or id); default: the caller.",
    )


#: What a touch may be: the cadence's CHANNELS and OUTCOMES (a test keeps them equal).
Channel = Literal["call", "email", "voicemail", "sms", "social", "meeting"]
Outcome = Literal["no_answer", "voicemail_left", "sent", "bounced", "replied", "connected"]


class TouchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Channel = Field(..., examples=["call"])
    outcome: Outcome = Field(..., examples=["no_answer"])
    by: Text | None = Field(
        None,
        min_length=1,
        max_length=REF_LENGTH,
        description="The rep (e-mail or id): yourself, or, for a manager, a member of a team "
        "you manage; an admin may name anyone. Default: the caller (a token's owner).",
    )
    at: Text | None = Field(None, max_length=100, description="When (ISO 8601); default: now.")
    note: Text | None = Field(None, max_length=NOTE_LENGTH)
    external_id: OptionalKey = Field(
        None,
        max_length=200,
        description="Your id for the touch: sending it again records nothing (blank: none).",
    )
    template: Text | None = Field(
        None,
        max_length=100,
        description="The template or script used (a playbook's name, see the rules' playbooks); "
        "default: the playbook's of the stage the touch is made at.",
        examples=["stage1-call-voicemail"],
    )


@router.post(
    "/leads/{ref}/status",
    tags=["cadence"],
    response_model=out.StatusChanged,
    responses=out.WRITES,
)
def post_status(
    ref: LeadRef, body: StatusIn, session: WriteSessionDep, runtime: RuntimeDep, caller: Worker
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


@router.post(
    "/leads/{ref}/touches",
    tags=["cadence"],
    response_model=out.TouchLogged,
    responses={
        **out.created_or_not(
            out.TouchLogged, "The touch was logged.", "A touch with this external_id was there."
        ),
        **out.WRITES,
    },
)
def post_touch(
    ref: LeadRef,
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
        template=body.template,
    )
    response.status_code = 201 if result.created else 200
    return {
        "touch_id": result.touch_id,
        "from": result.stage_before,
        "to": result.stage_after,
        "next_due_at": result.next_due_at,
        "template": result.template,
    }


class AppointmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text | None = Field(
        None,
        max_length=OPPORTUNITY_NAME_LENGTH,
        description="The opportunity's name; default: the company.",
    )
    note: Text | None = Field(None, max_length=NOTE_LENGTH)
    by: Text | None = Field(
        None,
        min_length=1,
        max_length=REF_LENGTH,
        description="The rep who set it (e-mail or id); default: the caller.",
    )
    amount: float | None = Field(None, description="The opportunity's amount: 0 or more.")
    owner: Text | None = Field(
        None,
        min_length=1,
        max_length=REF_LENGTH,
        description="The field-sales owner (e-mail or id): an active member of a sales team.",
    )


@router.post(
    "/leads/{ref}/appointments",
    tags=["cadence"],
    response_model=out.AppointmentBooked,
    responses={
        **out.created_or_not(
            out.AppointmentBooked,
            "The appointment was booked.",
            "The lead has an open opportunity already: that one.",
        ),
        **out.WRITES,
    },
)
def post_appointment(
    ref: LeadRef,
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
        amount=body.amount,
        owner=body.owner,
    )
    response.status_code = 201 if booking.created else 200
    return {
        "lead_id": lead_id,
        "opportunity_id": booking.opportunity_id,
        "created": booking.created,
    }


@router.get(
    "/notifications",
    tags=["notifications"],
    response_model=list[out.NotificationOut],
    responses=out.READS,
)
def get_notifications(
    session: SessionDep,
    caller: Reader,
    user: Annotated[
        Text | None,
        Query(
            min_length=1,
            max_length=REF_LENGTH,
            description="The recipient (e-mail or id); default: the caller.",
        ),
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


@router.post(
    "/notifications/{notification_id}/read",
    tags=["notifications"],
    response_model=out.NotificationRead,
    responses=out.READS,
)
def read_notification(
    notification_id: PathId, session: SessionDep, runtime: RuntimeDep, caller: Reader
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


def _one_of(*values: str) -> dict[str, Any]:
    """Documents the values a text parameter takes; the report checks them all at once, so that
    each bad one is named together with a bad date."""
    return {"enum": list(values)}


def _moment(description: str, alias: str | None = None) -> Any:
    """A day or a time as a report parameter (its year within the years dates may fall in)."""
    return Query(alias=alias, max_length=40, description=description, examples=["2026-11-01"])


@router.get(
    "/reports/{name}",
    tags=["reports"],
    response_model=None,
    dependencies=[require("read")],
    responses=out.REPORT_RESPONSES,
)
def get_report(
    request: Request,
    name: Annotated[str, Path(max_length=40, json_schema_extra=_one_of(*sorted(REPORTS)))],
    session: ReadSessionDep,
    runtime: RuntimeDep,
    start: Annotated[Text | None, _moment("First day (or time) of the range.", "from")] = None,
    end: Annotated[Text | None, _moment("Last day of the range (inclusive).", "to")] = None,
    period: Annotated[
        Text,
        Query(
            max_length=20,
            description="day, week, month, quarter or year",
            json_schema_extra=_one_of(*PERIODS),
        ),
    ] = "month",
    by: Annotated[
        Text,
        Query(
            max_length=20,
            description="period or cohort",
            json_schema_extra=_one_of("period", "cohort"),
        ),
    ] = "period",
    format: Annotated[
        Text,
        Query(
            max_length=20,
            description="json, csv or xlsx",
            json_schema_extra=_one_of("json", "csv", "xlsx"),
        ),
    ] = "json",
    as_of: Annotated[Text | None, _moment("Run as of this day (its end) or time, not now.")] = None,
    threshold: Annotated[
        int, Query(ge=1, le=1_000_000, description="score-jumps: the least rise in points")
    ] = 10,
    backtest: Annotated[bool, Query(description="forecast: replay past months' forecasts")] = False,
    encoding: CsvEncoding = "utf-8",
    segment: Annotated[
        Text | None,
        Query(
            max_length=120,
            description="sources and kpis: break down by industry, department, title_class, "
            "employee_band, prefecture, region or custom.NAME",
        ),
    ] = None,
    lang: XlsxLang = None,
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
        segment=segment,
    )
    result = run_report(session, name, params)
    if format == "csv":
        result.localize(runtime.settings.tz)
        return csv_response(to_csv(result), f"{name}.csv", encoding)
    if format == "xlsx":
        return report_xlsx(request, session, runtime, result, lang)
    return result.to_json()
