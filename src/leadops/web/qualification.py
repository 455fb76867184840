"""``POST /api/v1/leads/{ref}/qualification``: the IS qualification through the API (the answers
kept, the lead an SQL). The CLI has ``leadops qualify``; the lead page has its form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from leadops.cadence.qualify import ANSWER_LENGTH, Answers, qualify
from leadops.leads import find_lead
from leadops.rules.service import active_rules
from leadops.web import responses as out
from leadops.web.api import acting_user
from leadops.web.deps import RuntimeDep, WriteSessionDep
from leadops.web.fields import NOTE_LENGTH, REF_LENGTH, LeadRef, Text
from leadops.web.security import Worker

router = APIRouter(prefix="/api/v1")


class QualificationIn(BaseModel):
    """The answers of the qualification (at least one); ``by`` as for a touch."""

    model_config = ConfigDict(extra="forbid")
    budget: Text | None = Field(None, max_length=ANSWER_LENGTH, examples=["300万円/年"])
    authority: Text | None = Field(None, max_length=ANSWER_LENGTH, examples=["情報システム部長"])
    need: Text | None = Field(None, max_length=ANSWER_LENGTH, examples=["MAとSFAの連携"])
    timing: Text | None = Field(None, max_length=ANSWER_LENGTH, examples=["今期中"])
    note: Text | None = Field(None, max_length=NOTE_LENGTH)
    by: Text | None = Field(
        None,
        min_length=1,
        max_length=REF_LENGTH,
        description="The rep (e-mail or id): yourself, or, for a manager, a member of a team "
        "you manage; an admin may name anyone. Default: the caller.",
    )


class QualifiedOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    lead_id: int
    qualification_id: int
    from_: str = Field(alias="from", description="The lifecycle stage before.")
    to: str = Field(description="The lifecycle stage after (sql, or the later one it had).")
    created: bool


@router.post(
    "/leads/{ref}/qualification",
    tags=["cadence"],
    response_model=QualifiedOut,
    responses={
        **out.created_or_not(
            QualifiedOut,
            "The qualification was recorded (and the lead is an SQL).",
            "The same answers were recorded before: nothing new.",
        ),
        **out.WRITES,
    },
)
def post_qualification(
    ref: LeadRef,
    body: QualificationIn,
    response: Response,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Worker,
) -> dict[str, Any]:
    """Qualify a lead: its answers kept, its lifecycle stage `sql` (forward only). 201; 200 when
    the same answers were recorded before; 409 for a lead no longer worked."""
    now = runtime.clock.now()
    lead_id = find_lead(session, ref).id
    user = acting_user(session, caller, body.by)
    answers = Answers(body.budget, body.authority, body.need, body.timing, body.note)
    done = qualify(session, active_rules(session, now), lead_id, answers, user=user, now=now)
    response.status_code = 201 if done.created else 200
    return {
        "lead_id": lead_id,
        "qualification_id": done.qualification_id,
        "from": done.stage_before,
        "to": done.stage_after,
        "created": done.created,
    }
