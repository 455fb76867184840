"""Monthly quotas over the API: ``PUT /api/v1/quotas`` (a manager for the teams they manage and
their members, an admin for everyone) and ``GET /api/v1/quotas``. The CLI has ``leadops quota``;
the Settings page has its form; the ``kpis`` report shows attainment."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from leadops.cadence.quotas import (
    MAX_COUNT,
    Targets,
    list_quotas,
    month_after,
    parse_month,
    set_quota,
)
from leadops.models import User
from leadops.web import responses as out
from leadops.web.deps import RuntimeDep, SessionDep, WriteSessionDep
from leadops.web.fields import REF_LENGTH, Text
from leadops.web.security import Manager, Reader

router = APIRouter(prefix="/api/v1")
MONTH_LENGTH = 7


class QuotaIn(BaseModel):
    """A month's targets for one team or one member (exactly one of them). A target left out
    keeps its value; setting the same again changes nothing."""

    model_config = ConfigDict(extra="forbid")
    month: Text = Field(..., max_length=MONTH_LENGTH, examples=["2026-12"])
    team: Text | None = Field(
        None, min_length=1, max_length=REF_LENGTH, description="The team's name or id."
    )
    member: Text | None = Field(
        None, min_length=1, max_length=REF_LENGTH, description="The member's e-mail or id."
    )
    touches: int | None = Field(
        None, ge=0, le=MAX_COUNT, description="Touches logged (calls, e-mails, ...)."
    )
    connects: int | None = Field(
        None, ge=0, le=MAX_COUNT, description="Connects: touches connected or replied."
    )
    appointments: int | None = Field(None, ge=0, le=MAX_COUNT, description="Appointments booked.")
    opportunities: int | None = Field(
        None, ge=0, le=MAX_COUNT, description="Opportunities owned (created in the month)."
    )
    won_amount: float | None = Field(None, ge=0, description="The amount won (closed won).")


class QuotaOut(BaseModel):
    month: str
    subject: str = Field(description="team or member.")
    name: str | None
    team: str | None
    touches: int | None
    connects: int | None
    appointments: int | None
    opportunities: int | None
    won_amount: float | None
    set_at: datetime


@router.put(
    "/quotas",
    tags=["quotas"],
    response_model=QuotaOut,
    responses={200: {"description": "The quota as it is now."}, **out.WRITES},
)
def put_quota(
    body: QuotaIn, session: WriteSessionDep, runtime: RuntimeDep, caller: Manager
) -> dict[str, Any]:
    """Set a team's or a member's monthly targets. 403 for a team (or its member) the caller does
    not manage; 422 names a bad field."""
    targets = Targets(
        appointments=body.appointments,
        opportunities=body.opportunities,
        won_amount=body.won_amount,
        touches=body.touches,
        connects=body.connects,
    )
    return set_quota(
        session,
        actor=session.get_one(User, caller.user_id),
        month=parse_month(body.month),
        team=body.team,
        member=body.member,
        targets=targets,
        now=runtime.clock.now(),
    )


@router.get(
    "/quotas",
    tags=["quotas"],
    response_model=list[QuotaOut],
    responses=out.READS,
)
def get_quotas(
    session: SessionDep,
    caller: Reader,
    month: Annotated[
        Text | None, Query(max_length=MONTH_LENGTH, description="YYYY-MM; default: every month.")
    ] = None,
) -> Any:
    """The quotas of one month (or of every month), teams first."""
    if month is None:
        return list_quotas(session)
    first = parse_month(month)
    return list_quotas(session, start=first, end=month_after(first))
