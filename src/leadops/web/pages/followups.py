"""Follow-ups on the web: schedule one from the lead page, mark it done from the queue (HTMX, the
row answered in place) or the lead page, move or cancel it from the lead page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from leadops.cadence.tasks import NOTE_LENGTH, cancel, complete, reschedule, schedule
from leadops.errors import FieldError, ValidationFailed
from leadops.models import FollowUpTask, Lead, User
from leadops.normalize import MAX_INT64
from leadops.web.deps import RuntimeDep, WriteSessionDep
from leadops.web.fields import PathId, Text
from leadops.web.pages.follow_up_fields import local_due
from leadops.web.pages.work import lead_view
from leadops.web.render import render, translator
from leadops.web.security import Worker

router = APIRouter(include_in_schema=False)


def _assignee(session: Session, text: str, caller_id: int) -> User:
    raw = text.strip()
    if not raw:
        return session.get_one(User, caller_id)
    found = session.get(User, int(raw)) if raw.isdigit() and int(raw) <= MAX_INT64 else None
    if found is None:
        raise ValidationFailed([FieldError("assignee", "choose whom the follow-up is for")])
    return found


@router.post("/leads/{lead_id:int}/follow-ups", response_class=HTMLResponse)
def schedule_action(
    request: Request,
    lead_id: PathId,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Worker,
    due_date: Annotated[Text, Form(max_length=20)] = "",
    due_time: Annotated[Text, Form(max_length=20)] = "",
    note: Annotated[Text, Form(max_length=NOTE_LENGTH)] = "",
    assignee: Annotated[Text, Form(max_length=19, description="The assignee's id.")] = "",
) -> HTMLResponse:
    """Schedule a follow-up on the lead; answers with the lead page."""
    now = runtime.clock.now()
    due_at = local_due(due_date, due_time, runtime.settings.tz)
    done = schedule(
        session,
        lead_id,
        by=session.get_one(User, caller.user_id),
        assignee=_assignee(session, assignee, caller.user_id),
        due_at=due_at,
        note=note,
        now=now,
    )
    t = translator(request)
    message = (
        t.gettext("Follow-up scheduled for %(when)s.", when=t.when(due_at))
        if done.created
        else t.gettext("This follow-up was scheduled already.")
    )
    return lead_view(request, session, runtime, caller, lead_id, done=message)


@router.post("/follow-ups/{task_id:int}/done", response_class=HTMLResponse)
def done_action(
    request: Request,
    task_id: PathId,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Worker,
    view: Annotated[str, Form(max_length=10)] = "lead",
) -> HTMLResponse:
    """Mark the follow-up done; answers with its queue row, or the lead page."""
    closed = complete(
        session, task_id, by=session.get_one(User, caller.user_id), now=runtime.clock.now()
    )
    t = translator(request)
    message = t.gettext("Follow-up done.") if closed.changed else t.gettext("It was done already.")
    if view == "queue":
        lead = session.get_one(Lead, closed.task.lead_id)
        return render(request, "_follow_up_row.html", task=closed.task, lead=lead, done=message)
    return lead_view(request, session, runtime, caller, closed.task.lead_id, done=message)


@router.post("/follow-ups/{task_id:int}/cancel", response_class=HTMLResponse)
def cancel_action(
    request: Request, task_id: PathId, session: WriteSessionDep, runtime: RuntimeDep, caller: Worker
) -> HTMLResponse:
    """Cancel the follow-up; answers with the lead page."""
    closed = cancel(
        session, task_id, by=session.get_one(User, caller.user_id), now=runtime.clock.now()
    )
    t = translator(request)
    message = (
        t.gettext("Follow-up cancelled.")
        if closed.changed
        else t.gettext("It was cancelled already.")
    )
    task: FollowUpTask = closed.task
    return lead_view(request, session, runtime, caller, task.lead_id, done=message)


@router.post("/follow-ups/{task_id:int}/reschedule", response_class=HTMLResponse)
def reschedule_action(
    request: Request,
    task_id: PathId,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Worker,
    due_date: Annotated[Text, Form(max_length=20)] = "",
    due_time: Annotated[Text, Form(max_length=20)] = "",
) -> HTMLResponse:
    """Move the follow-up to another date and time; answers with the lead page."""
    due_at = local_due(due_date, due_time, runtime.settings.tz)
    moved = reschedule(
        session,
        task_id,
        by=session.get_one(User, caller.user_id),
        due_at=due_at,
        now=runtime.clock.now(),
    )
    t = translator(request)
    message = (
        t.gettext("Follow-up moved to %(when)s.", when=t.when(due_at))
        if moved.changed
        else t.gettext("No change.")
    )
    return lead_view(request, session, runtime, caller, moved.task.lead_id, done=message)
