"""Follow-up tasks through the API: ``POST /api/v1/leads/{ref}/tasks`` schedules one (the same open
one sent again is answered, not made twice), ``GET /api/v1/tasks`` lists the caller's open ones
(overdue first), ``POST /api/v1/tasks/{task_id}/reschedule`` moves one, ``…/done`` and
``…/cancel`` close one. The lead page
and the queue have the same; the CLI has ``leadops task``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from leadops.cadence.tasks import (
    NOTE_LENGTH,
    cancel,
    complete,
    open_tasks_of,
    reschedule,
    schedule,
)
from leadops.errors import FieldError, ValidationFailed
from leadops.leads import find_lead
from leadops.models import FollowUpTask, User
from leadops.normalize import parse_datetime
from leadops.web import responses as out
from leadops.web.api import acting_user
from leadops.web.deps import RuntimeDep, SessionDep, WriteSessionDep
from leadops.web.fields import REF_LENGTH, LeadRef, PathId, Text
from leadops.web.security import Worker

router = APIRouter(prefix="/api/v1")


class TaskIn(BaseModel):
    """A follow-up to schedule on the lead."""

    model_config = ConfigDict(extra="forbid")
    due_at: Text = Field(
        ...,
        min_length=1,
        max_length=100,
        description="When it is due (ISO 8601; a time without an offset is the site's time "
        "zone). Not in the past.",
        examples=["2026-12-05T10:00:00+09:00"],
    )
    note: Text | None = Field(
        None, max_length=NOTE_LENGTH, description="What to do.", examples=["再架電（予算確認）"]
    )
    assignee: Text | None = Field(
        None,
        min_length=1,
        max_length=REF_LENGTH,
        description="Whose it is (e-mail or id): yourself, or, for a manager, a member of a team "
        "you manage; an admin may name anyone. Default: the caller.",
    )


def _due(text: str, tz: Any) -> datetime:
    try:
        return parse_datetime(text, tz=tz)
    except ValueError as exc:
        raise ValidationFailed([FieldError("due_at", str(exc))]) from None


class MoveIn(BaseModel):
    """The new due time of a follow-up."""

    model_config = ConfigDict(extra="forbid")
    due_at: Text = Field(
        ...,
        min_length=1,
        max_length=100,
        description="When it is due now (ISO 8601, as for scheduling). Not in the past.",
        examples=["2026-12-08T14:00:00+09:00"],
    )


class TaskOut(BaseModel):
    id: int
    lead_id: int
    assignee_id: int
    due_at: datetime
    note: str | None
    state: str = Field(description="open, done or cancelled.")
    created_at: datetime
    created_by_id: int | None
    done_at: datetime | None
    cancelled_at: datetime | None
    moved_at: datetime | None = Field(description="When it was last moved to another due time.")


class TaskClosed(TaskOut):
    changed: bool = Field(description="false: it was so already.")


def _task(task: FollowUpTask) -> dict[str, Any]:
    names = TaskOut.model_fields
    return {name: getattr(task, name) for name in names}


@router.post(
    "/leads/{ref}/tasks",
    tags=["cadence"],
    response_model=TaskOut,
    responses={
        **out.created_or_not(
            TaskOut,
            "The follow-up was scheduled.",
            "The same open follow-up (lead, assignee, due minute, note) was there: that one.",
        ),
        **out.WRITES,
    },
)
def post_task(
    ref: LeadRef,
    body: TaskIn,
    response: Response,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Worker,
) -> dict[str, Any]:
    """Schedule a follow-up on a lead you work on. 201; 200 with the same task when sent again."""
    now = runtime.clock.now()
    lead_id = find_lead(session, ref).id
    due_at = _due(body.due_at, runtime.settings.tz)
    me = session.get_one(User, caller.user_id)
    assignee = acting_user(session, caller, body.assignee)
    done = schedule(
        session, lead_id, by=me, assignee=assignee, due_at=due_at, note=body.note or "", now=now
    )
    response.status_code = 201 if done.created else 200
    return _task(done.task)


@router.get("/tasks", tags=["cadence"], response_model=list[TaskOut], responses=out.READS)
def get_tasks(
    session: SessionDep,
    caller: Worker,
    user: Annotated[
        Text | None,
        Query(
            min_length=1,
            max_length=REF_LENGTH,
            description="Whose (e-mail or id): yourself, or whom you act for. Default: you.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[dict[str, Any]]:
    """Open follow-ups, the most overdue first."""
    whose = acting_user(session, caller, user)
    return [_task(f.task) for f in open_tasks_of(session, whose.id, limit=limit)]


@router.post(
    "/tasks/{task_id}/done", tags=["cadence"], response_model=TaskClosed, responses=out.WRITES
)
def post_task_done(
    task_id: PathId, session: WriteSessionDep, runtime: RuntimeDep, caller: Worker
) -> dict[str, Any]:
    """Mark a follow-up done; again: no change (``changed: false``). 409 for a cancelled one."""
    me = session.get_one(User, caller.user_id)
    closed = complete(session, task_id, by=me, now=runtime.clock.now())
    return {**_task(closed.task), "changed": closed.changed}


@router.post(
    "/tasks/{task_id}/cancel", tags=["cadence"], response_model=TaskClosed, responses=out.WRITES
)
def post_task_cancel(
    task_id: PathId, session: WriteSessionDep, runtime: RuntimeDep, caller: Worker
) -> dict[str, Any]:
    """Cancel a follow-up; again: no change (``changed: false``). 409 for a done one."""
    me = session.get_one(User, caller.user_id)
    closed = cancel(session, task_id, by=me, now=runtime.clock.now())
    return {**_task(closed.task), "changed": closed.changed}


@router.post(
    "/tasks/{task_id}/reschedule",
    tags=["cadence"],
    response_model=TaskClosed,
    responses=out.WRITES,
)
def post_task_reschedule(
    task_id: PathId, body: MoveIn, session: WriteSessionDep, runtime: RuntimeDep, caller: Worker
) -> dict[str, Any]:
    """Move an open follow-up to another due time; the same minute: no change. 409 for a done or
    cancelled one; its assignee is told again when the new time comes."""
    me = session.get_one(User, caller.user_id)
    due_at = _due(body.due_at, runtime.settings.tz)
    moved = reschedule(session, task_id, by=me, due_at=due_at, now=runtime.clock.now())
    return {**_task(moved.task), "changed": moved.changed}
