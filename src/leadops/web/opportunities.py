"""Field sales over the API: ``PATCH /api/v1/opportunities/{id}`` (stage, amount, expected close,
owner, won / lost with a reason) and ``GET /api/v1/leads/{ref}/opportunities`` (each with its
history). The CLI has ``leadops opportunity update``; the lead page has its form."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from leadops.cadence.opportunities import (
    REASON_LENGTH,
    OpportunityChange,
    opportunities_of,
    opportunity_of,
    update_opportunity,
)
from leadops.leads import find_lead
from leadops.lifecycle.door import Actor
from leadops.rules.service import active_rules
from leadops.web import responses as out
from leadops.web.api import acting_user
from leadops.web.deps import RuntimeDep, SessionDep, WriteSessionDep
from leadops.web.fields import REF_LENGTH, LeadRef, PathId, Text
from leadops.web.security import Reader, Worker

router = APIRouter(prefix="/api/v1")
STAGE_LENGTH = 40


class OpportunityPatch(BaseModel):
    """What to change; a field left out stays as it is. The same values again change nothing."""

    model_config = ConfigDict(extra="forbid")
    stage: Text | None = Field(
        None,
        max_length=STAGE_LENGTH,
        description="A stage of the rules' pipeline (default: to_contact, contacted, follow_up, "
        "proposal_draft, proposal_sent, won, lost).",
        examples=["proposal_sent"],
    )
    amount: float | None = Field(None, description="0 or more.", examples=[1200000])
    expected_close_on: date | None = Field(None, examples=["2026-12-25"])
    owner: Text | None = Field(
        None,
        min_length=1,
        max_length=REF_LENGTH,
        description="The field-sales owner (e-mail or id): an active member of a sales team.",
    )
    outcome: Literal["won", "lost"] | None = Field(
        None, description="Close it: won or lost (the same as the stage)."
    )
    reason: Text | None = Field(
        None, max_length=REASON_LENGTH, description="Why; required for lost."
    )
    reopen: bool = Field(False, description="Move a closed opportunity back to an open stage.")
    by: Text | None = Field(
        None,
        min_length=1,
        max_length=REF_LENGTH,
        description="Who makes the change (e-mail or id): yourself, or, for a manager, a member "
        "of a team you manage; an admin may name anyone. Default: the caller.",
    )


class OpportunityEventOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    at: datetime
    kind: str = Field(description="stage, amount, expected_close_on, owner or lost_reason.")
    from_: str | None = Field(alias="from")
    to: str | None
    reason: str | None
    actor: str


class OpportunityOut(BaseModel):
    id: int
    lead_id: int | None
    name: str | None
    stage: str
    amount: float | None
    expected_close_on: date | None
    owner: str | None
    sdr: str | None = Field(description="The inside-sales rep who booked the appointment.")
    created_at: datetime = Field(description="The appointment.")
    stage_changed_at: datetime
    closed_at: datetime | None
    lost_reason: str | None
    history: list[OpportunityEventOut]


class OpportunityUpdated(BaseModel):
    opportunity: OpportunityOut
    changed: list[str] = Field(description="What changed (empty: nothing).")
    lifecycle_stage: str | None = Field(description="The lead's lifecycle stage after.")


@router.patch(
    "/opportunities/{opportunity_id}",
    tags=["opportunities"],
    response_model=OpportunityUpdated,
    responses={200: {"description": "The opportunity as it is now."}, **out.WRITES},
)
def patch_opportunity(
    opportunity_id: PathId,
    body: OpportunityPatch,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Worker,
) -> dict[str, Any]:
    """Update an opportunity: each change is an event of its history; won makes the lead a
    customer. 422 names a bad field; 409 when a closed opportunity would move without reopen."""
    now = runtime.clock.now()
    user = acting_user(session, caller, body.by)
    change = OpportunityChange(
        stage=body.stage,
        amount=body.amount,
        expected_close_on=body.expected_close_on,
        owner=body.owner,
        outcome=body.outcome,
        reason=body.reason,
        reopen=body.reopen,
    )
    rules = active_rules(session, now)
    done = update_opportunity(
        session, rules, opportunity_id, change, actor=Actor.user(user.id), now=now
    )
    return {
        "opportunity": opportunity_of(session, done.opportunity_id),
        "changed": list(done.changed),
        "lifecycle_stage": done.lifecycle_stage,
    }


@router.get(
    "/leads/{ref}/opportunities",
    tags=["opportunities"],
    response_model=list[OpportunityOut],
    responses=out.READS,
)
def get_lead_opportunities(ref: LeadRef, session: SessionDep, caller: Reader) -> Any:
    """The lead's opportunities, newest first, each with its history (who, when, from → to)."""
    return opportunities_of(session, find_lead(session, ref).id)
