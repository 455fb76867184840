"""What the API answers, as its OpenAPI document says: one model per kind of answer, and the error
statuses each route may return with the one error body ``{"error": code, "detail": …}``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    """One thing wrong with one input: where (a path such as ``activities[3].type``) and what
    (a problem in a rules document also says its ``line``)."""

    path: str = Field(examples=["leads[2].email"])
    message: str


class ErrorOut(BaseModel):
    error: str = Field(
        description="A code: not_found, forbidden, validation_failed, invalid_json, …",
        examples=["validation_failed"],
    )
    detail: str | list[Problem] | dict[str, Any] = Field(
        description="What went wrong: a message, each bad field with its path, or where a body "
        "stops being JSON (message, line, column)."
    )


_WHY = {
    400: "The body is not JSON (where it stops being JSON), or the request cannot be carried out "
    "as it is (the message says why).",
    401: "Not signed in: no session cookie and no valid API token.",
    403: "The caller's role, or a read-only token, may not do this (the message says what).",
    404: "Nothing has this id or reference (the message says what was looked for).",
    409: "The change conflicts with the lead's state: a transition the table does not allow.",
    413: "The body or the batch is too large (its size and the limit).",
    422: "Bad input: each bad field with its path and what is wrong.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries of these error statuses, each with the error body."""
    return {status: {"model": ErrorOut, "description": _WHY[status]} for status in statuses}


#: Every route needs a signed-in caller whose role has its permission.
SIGNED_IN = errors(401, 403)
#: A route that reads what its parameters name.
READS = errors(401, 403, 404, 422)
#: A route that changes something from a JSON body.
WRITES = errors(400, 401, 403, 404, 409, 413, 422)


# --- leads ---------------------------------------------------------------------------------------


class LeadOut(BaseModel):
    id: int
    email: str | None
    crm_source: str | None
    crm_id: str | None
    first_name: str | None
    last_name: str | None
    company: str | None
    account_id: int | None
    title: str | None
    department: str | None
    phone: str | None
    address: str | None
    prefecture: str | None
    region: str | None
    source: str | None
    custom: dict[str, Any]
    flags: list[Any]
    created_at: datetime
    owner_id: int | None
    owner: str | None
    team_id: int | None
    team: str | None
    lifecycle_stage: str
    status: str
    status_reason: str | None
    touch_stage: str
    score: int
    behavior_score: int
    fit_score: int
    level: int | None
    temperature: str
    is_valid: bool
    last_activity_at: datetime | None
    last_touch_at: datetime | None
    next_due_at: datetime | None


class LeadListItem(LeadOut):
    account: str | None


class LeadPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[LeadListItem]


class ActivityOut(BaseModel):
    id: int
    type: str
    occurred_at: datetime
    properties: dict[str, Any]
    source: str
    external_id: str


class EventOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    at: datetime
    kind: str
    from_: str | None = Field(alias="from")
    to: str | None
    reason: str | None
    actor: str


class LeadDetail(BaseModel):
    lead: LeadOut
    activities: list[ActivityOut]
    events: list[EventOut]


class Flag(BaseModel):
    flag: str
    message: str


class LeadUpserted(BaseModel):
    created: bool
    changed: bool
    lead: LeadOut
    flags: list[Flag]


class Rejected(BaseModel):
    index: int = Field(description="The item's place in the batch, from 0.")
    errors: list[Problem]


class LeadBatchOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    rejected: list[Rejected]


class ActivityBatchOut(BaseModel):
    accepted: int
    duplicates: int
    new_leads: int
    rejected: list[Rejected]


def batch_responses(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """A batch answers 200 when every item was taken, 207 when some were, 422 when none was (or
    when the request itself is wrong)."""
    body = {"$ref": f"#/components/schemas/{model.__name__}"}
    error = {"$ref": "#/components/schemas/ErrorOut"}
    return {
        **errors(400, 401, 403, 413),
        207: {"model": model, "description": "Some items were taken; the others are rejected."},
        422: {
            "description": "No item was taken (each rejected one with its errors), or the request "
            "is wrong (each bad field).",
            "content": {"application/json": {"schema": {"anyOf": [body, error]}}},
        },
    }


# --- imports, activity types ---------------------------------------------------------------------


class ImportJobOut(BaseModel):
    id: int
    kind: str
    filename: str | None
    file_sha256: str | None
    mapping: str | None
    encoding: str | None
    dry_run: bool
    state: str
    rows_total: int
    rows_taken: int
    rows_unchanged: int
    rows_rejected: int
    rows_flagged: int
    actor: str | None
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class ImportRejectOut(BaseModel):
    row: int
    field: str | None
    error: str
    raw: dict[str, Any]


class ImportRejects(BaseModel):
    job_id: int
    rejects: list[ImportRejectOut]


class ActivityTypeOut(BaseModel):
    name: str
    label_ja: str | None
    label_en: str | None
    builtin: bool


# --- routing, organisation -----------------------------------------------------------------------


class AssignmentOut(BaseModel):
    at: datetime
    team: str | None
    user: str | None
    rule: str | None
    strategy: str | None
    reason: str | None
    candidates: list[dict[str, Any]]
    actor: str


class Reassigned(BaseModel):
    lead_id: int
    owner: str | None
    team_id: int | None
    changed: bool


class Routed(BaseModel):
    assigned: int
    to_manager: int
    not_routed: int
    problems: dict[str, int]


class MemberOut(BaseModel):
    email: str | None
    name: str
    role: str
    weight: float
    capacity: int | None
    active: bool
    out_of_office: list[tuple[datetime, datetime, str | None]] = Field(
        description="Periods away: start, end and a note."
    )


class TeamOut(BaseModel):
    team: str
    kind: str
    parent: str | None
    manager: str | None
    members: list[MemberOut]


class OrgApplied(BaseModel):
    teams: int
    users: int
    created: dict[str, int]


# --- cadence, notifications ----------------------------------------------------------------------


class StatusChanged(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    lead_id: int
    from_: str = Field(alias="from")
    to: str
    changed: bool


class TouchLogged(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    touch_id: int
    from_: str = Field(alias="from")
    to: str
    next_due_at: datetime | None
    template: str | None = Field(None, description="The template or script the touch used.")


class AppointmentBooked(BaseModel):
    lead_id: int
    opportunity_id: int
    created: bool


class NotificationOut(BaseModel):
    id: int
    template: str
    payload: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class NotificationRead(BaseModel):
    id: int
    read_at: datetime


def created_or_not(model: type[BaseModel], created: str, again: str) -> dict[int | str, Any]:
    """201 when the request made something, 200 (the same body) when it was there already."""
    return {
        200: {"description": again},
        201: {"model": model, "description": created},
    }


# --- reports -------------------------------------------------------------------------------------


class ReportTable(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]


class ReportOut(BaseModel):
    report: str
    definition: str
    columns: list[str]
    rows: list[dict[str, Any]] = Field(description="One object per row, keyed by column.")
    notes: list[str]
    anomalies: list[dict[str, Any]]
    sections: dict[str, ReportTable] = Field(description="Extra tables, by name.")


CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **READS,
    200: {
        "model": ReportOut,
        "description": "The report: JSON by default, a CSV file with format=csv, an Excel "
        "workbook with format=xlsx.",
        "content": {
            CSV: {"schema": {"type": "string"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    },
}
