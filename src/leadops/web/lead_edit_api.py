"""``PATCH /api/v1/leads/{ref}``: correct a lead's details, the service the lead page's form uses
(``ingest.edit``): each change a ``field`` event of the lead's history, within the role table.
``PUT /api/v1/leads`` stays the integrations' upsert by e-mail (it records no field events)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from leadops.ingest.edit import CUSTOM_VALUE_LENGTH, LENGTHS, edit_lead
from leadops.leads import find_lead
from leadops.models import User
from leadops.rules.service import active_rules
from leadops.web import responses as out
from leadops.web.deps import RuntimeDep, WriteSessionDep
from leadops.web.fields import LeadRef, Text
from leadops.web.security import Reader

router = APIRouter(prefix="/api/v1")


def _text(name: str, description: str) -> Any:
    return Field(None, max_length=LENGTHS[name], description=description)


class LeadEditIn(BaseModel):
    """The details to correct; a field left out stays, a blank one is cleared."""

    model_config = ConfigDict(extra="forbid")
    last_name: Text | None = _text("last_name", "姓.")
    first_name: Text | None = _text("first_name", "名.")
    last_name_kana: Text | None = _text("last_name_kana", "姓のフリガナ (kept in katakana).")
    first_name_kana: Text | None = _text("first_name_kana", "名のフリガナ (kept in katakana).")
    company: Text | None = _text("company", "The company as the lead gave it.")
    department: Text | None = _text("department", "The department.")
    title: Text | None = _text("title", "The job title.")
    phone: Text | None = _text("phone", "A phone number (03-1234-5678, +81 3 …).")
    email: Text | None = _text("email", "Unique among leads; a clash names the lead that has it.")
    prefecture: Text | None = Field(
        None, max_length=100, description="A prefecture by name, romaji or JIS code (大阪, 27)."
    )
    custom: dict[str, Text] | None = Field(
        None,
        max_length=50,
        description="Custom fields to set (a blank value removes the field).",
        json_schema_extra={"additionalProperties": {"maxLength": CUSTOM_VALUE_LENGTH}},
    )


class FieldChangeOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    field: str
    from_: str | None = Field(alias="from")
    to: str | None


class LeadEdited(BaseModel):
    lead_id: int
    changes: list[FieldChangeOut]


@router.patch(
    "/leads/{ref}",
    tags=["leads"],
    response_model=LeadEdited,
    response_model_by_alias=True,
    responses=out.WRITES,
)
def patch_lead(
    ref: LeadRef, body: LeadEditIn, session: WriteSessionDep, runtime: RuntimeDep, caller: Reader
) -> dict[str, Any]:
    """Correct a lead's details as the caller: a member their own leads, a manager those of the
    teams they manage, marketing and admins any lead. Sending the same values again changes
    nothing (``changes: []``)."""
    now = runtime.clock.now()
    lead_id = find_lead(session, ref).id
    given = body.model_dump(exclude={"custom"}, exclude_none=True)
    result = edit_lead(
        session,
        active_rules(session, now),
        lead_id,
        given,
        custom=body.custom or {},
        user=session.get_one(User, caller.user_id),
        now=now,
    )
    changes = [{"field": c.field, "from": c.old, "to": c.new} for c in result.changes]
    return {"lead_id": result.lead_id, "changes": changes}
