"""The rep's day: my queue (approach requests and due touches, overdue first) and the lead page with
its timeline and actions (log a touch, change status, book an appointment, reassign)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.cadence.opportunities import (
    FIELD_SALES,
    REASON_LENGTH,
    OpportunityChange,
    opportunities_of,
    pipeline_stages,
    update_opportunity,
)
from leadops.cadence.playbooks import lead_values, playbook_for, render_playbook, stage_templates
from leadops.cadence.qualify import ANSWER_LENGTH, Answers, qualify
from leadops.cadence.service import (
    CHANNELS,
    OUTCOMES,
    book_appointment,
    change_status,
    log_touch,
)
from leadops.errors import FieldError, NotFound, ValidationFailed
from leadops.leads import QueueItem, lead_detail, my_queue
from leadops.lifecycle.door import Actor, Door
from leadops.lifecycle.handoff import reassign
from leadops.lifecycle.machine import next_statuses
from leadops.models import Lead, Task, Team, User
from leadops.normalize import MAX_INT64
from leadops.predict.store import prediction_detail
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from leadops.web.deps import RuntimeDep, SessionDep, WriteSessionDep
from leadops.web.fields import (
    NOTE_LENGTH,
    OPPORTUNITY_NAME_LENGTH,
    STATUS_REASON_LENGTH,
    PathId,
    Text,
)
from leadops.web.pages.board import board_again
from leadops.web.pages.follow_up_fields import lead_follow_ups, queue_follow_ups
from leadops.web.pages.lead_fields import edit_context
from leadops.web.pages.lead_timeline import stage_titles, timeline
from leadops.web.render import N_, render, status_labels, translator
from leadops.web.security import Manager, Principal, Reader, Worker
from leadops.web.timeline_words import template_title

router = APIRouter(include_in_schema=False)

#: The one-click touches of the queue: (channel, outcome, label).
QUICK_TOUCHES = (
    ("call", "no_answer", N_("Called: no answer")),
    ("email", "sent", N_("E-mail sent")),
    ("call", "connected", N_("Called: connected")),
)


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request, session: SessionDep, runtime: RuntimeDep, caller: Worker
) -> HTMLResponse:
    now = runtime.clock.now()
    rules = active_rules(session, now)
    items = my_queue(session, caller.user_id, rules.worked_statuses)
    t = translator(request)
    return render(
        request,
        "queue.html",
        items=items,
        **queue_follow_ups(session, caller, t, now),
        quick=QUICK_TOUCHES,
        stage_templates=stage_templates(rules),
        stage_titles=stage_titles(rules, t.locale),
        overdue=sum(1 for i in items if i.due_at is not None and i.due_at < now),
    )


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and int(text) <= MAX_INT64


def _lead(session: Session, lead_id: int) -> Lead:
    lead = session.get(Lead, lead_id)
    if lead is None or lead.merged_into_id is not None:
        raise NotFound(f"no lead {lead_id}")
    return lead


@router.post("/leads/{lead_id:int}/touch", response_class=HTMLResponse)
def touch_action(
    request: Request,
    lead_id: PathId,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Worker,
    channel: Annotated[Text, Form(max_length=20)] = "",
    outcome: Annotated[Text, Form(max_length=20)] = "",
    note: Annotated[Text, Form(max_length=NOTE_LENGTH)] = "",
    template: Annotated[Text, Form(max_length=100)] = "",
    view: Annotated[str, Form()] = "lead",
) -> HTMLResponse:
    """Log a touch as the signed-in rep; answers with the queue row or the lead page's summary."""
    now = runtime.clock.now()
    lead = _lead(session, lead_id)
    rules = active_rules(session, now)
    result = log_touch(
        session,
        rules,
        lead.id,
        user=session.get_one(User, caller.user_id),
        channel=channel,
        outcome=outcome,
        at=now,
        now=now,
        note=note.strip() or None,
        template=template.strip() or None,
    )
    t = translator(request)
    done = t.gettext(
        "Touch logged: %(before)s → %(after)s",
        before=t.gettext(result.stage_before),
        after=t.gettext(result.stage_after),
    )
    if view == "queue":
        tasks = list(
            session.scalars(select(Task).where(Task.lead_id == lead.id, Task.state == "open"))
        )
        item = QueueItem(lead, lead.next_due_at, tasks)
        waiting = lead.touch_stage == "touch_4" or lead.status not in rules.worked_statuses
        return render(
            request,
            "_queue_row.html",
            item=item,
            quick=QUICK_TOUCHES,
            done=done,
            left=waiting and not tasks,
            stage_templates=stage_templates(rules),
            stage_titles=stage_titles(rules, translator(request).locale),
        )
    return lead_view(request, session, runtime, caller, lead.id, done=done)


@router.post("/leads/{lead_id:int}/status", response_class=HTMLResponse)
def status_action(
    request: Request,
    lead_id: PathId,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Worker,
    status: Annotated[Text, Form(max_length=40)] = "",
    reason: Annotated[Text, Form(max_length=STATUS_REASON_LENGTH)] = "",
) -> HTMLResponse:
    now = runtime.clock.now()
    lead = _lead(session, lead_id)
    rules = active_rules(session, now)
    change = change_status(
        session, rules, lead.id, status, reason=reason, now=now, actor=Actor.user(caller.user_id)
    )
    t = translator(request)
    labels = status_labels(rules, t.locale)
    done = t.gettext(
        "Status: %(before)s → %(after)s",
        before=labels.get(change.before, change.before),
        after=labels.get(change.after, change.after),
    )
    return lead_view(request, session, runtime, caller, lead.id, done=done)


@router.post("/leads/{lead_id:int}/appointment", response_class=HTMLResponse)
def appointment_action(
    request: Request,
    lead_id: PathId,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Worker,
    name: Annotated[Text, Form(max_length=OPPORTUNITY_NAME_LENGTH)] = "",
    note: Annotated[Text, Form(max_length=NOTE_LENGTH)] = "",
    amount: Annotated[Text, Form(max_length=30)] = "",
    owner: Annotated[Text, Form(max_length=19, description="The field-sales owner's id.")] = "",
    view: Annotated[str, Form()] = "lead",
) -> HTMLResponse:
    now = runtime.clock.now()
    lead = _lead(session, lead_id)
    booking = book_appointment(
        session,
        active_rules(session, now),
        lead.id,
        user=session.get_one(User, caller.user_id),
        now=now,
        name=name,
        note=note.strip() or None,
        amount=_amount(amount),
        owner=owner.strip() or None,
    )
    t = translator(request)
    done = (
        t.gettext("Appointment booked.")
        if booking.created
        else t.gettext("The lead already has an open appointment.")
    )
    if view == "queue":
        item = QueueItem(lead, None, [])
        return render(
            request,
            "_queue_row.html",
            item=item,
            quick=QUICK_TOUCHES,
            done=done,
            booked=True,
            stage_templates={},
            stage_titles={},
        )
    return lead_view(request, session, runtime, caller, lead.id, done=done)


def _amount(text: str) -> float | None:
    """An amount as typed (1,200,000 or 1200000); blank is none."""
    raw = text.strip().replace(",", "").replace("，", "")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValidationFailed([FieldError("amount", f"expected a number, got {text!r}")]) from None


def _close_date(text: str) -> date | None:
    raw = text.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        message = f"expected a date (YYYY-MM-DD), got {text!r}"
        raise ValidationFailed([FieldError("expected_close_on", message)]) from None


@router.post("/leads/{lead_id:int}/opportunities/{opportunity_id:int}", response_class=HTMLResponse)
def opportunity_action(
    request: Request,
    lead_id: PathId,
    opportunity_id: PathId,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Worker,
    stage: Annotated[Text, Form(max_length=40)] = "",
    amount: Annotated[Text, Form(max_length=30)] = "",
    expected_close_on: Annotated[Text, Form(max_length=20)] = "",
    owner: Annotated[Text, Form(max_length=19, description="The field-sales owner's id.")] = "",
    reason: Annotated[Text, Form(max_length=REASON_LENGTH)] = "",
    reopen: Annotated[str, Form(max_length=5)] = "",
) -> HTMLResponse:
    """Update one of the lead's opportunities as the signed-in user."""
    now = runtime.clock.now()
    lead = _lead(session, lead_id)
    if not any(o["id"] == opportunity_id for o in opportunities_of(session, lead.id)):
        raise NotFound(f"no opportunity {opportunity_id} of lead {lead.id}")
    change = OpportunityChange(
        stage=stage.strip() or None,
        amount=_amount(amount),
        expected_close_on=_close_date(expected_close_on),
        owner=owner.strip() or None,
        reason=reason,
        reopen=bool(reopen),
    )
    rules = active_rules(session, now)
    done = update_opportunity(
        session, rules, opportunity_id, change, actor=Actor.user(caller.user_id), now=now
    )
    t = translator(request)
    message = (
        t.gettext(
            "Opportunity updated: %(what)s.", what=", ".join(t.gettext(k) for k in done.changed)
        )
        if done.changed
        else t.gettext("No change.")
    )
    return lead_view(request, session, runtime, caller, lead.id, done=message)


@router.post("/leads/{lead_id:int}/reassign", response_class=HTMLResponse)
def reassign_action(
    request: Request,
    lead_id: PathId,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Manager,
    to: Annotated[Text, Form(max_length=19, description="The new owner's id.")] = "",
    reason: Annotated[Text, Form(max_length=NOTE_LENGTH)] = "",
    view: Annotated[str, Form()] = "lead",
    back: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    lead = _lead(session, lead_id)
    target = session.get(User, int(to)) if _is_id(to) else None
    if target is None:
        message = translator(request).gettext("Choose the person who takes the lead.")
        raise ValidationFailed([FieldError("to", message)])
    now = runtime.clock.now()
    door = Door(session, active_rules(session, now), now, Actor.user(caller.user_id))
    by = session.get_one(User, caller.user_id)
    record = reassign(door, lead.id, target, by=by, reason=reason.strip())
    t = translator(request)
    done = (
        t.gettext("Reassigned to %(name)s.", name=target.name)
        if record
        else t.gettext("No change.")
    )
    if view == "board":
        return HTMLResponse("", headers={"HX-Redirect": board_again(back)})
    return lead_view(request, session, runtime, caller, lead.id, done=done)


@router.post("/leads/{lead_id:int}/qualification", response_class=HTMLResponse)
def qualification_action(
    request: Request,
    lead_id: PathId,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Worker,
    budget: Annotated[Text, Form(max_length=ANSWER_LENGTH)] = "",
    authority: Annotated[Text, Form(max_length=ANSWER_LENGTH)] = "",
    need: Annotated[Text, Form(max_length=ANSWER_LENGTH)] = "",
    timing: Annotated[Text, Form(max_length=ANSWER_LENGTH)] = "",
    note: Annotated[Text, Form(max_length=NOTE_LENGTH)] = "",
) -> HTMLResponse:
    """Qualify the lead as the signed-in rep: the answers kept, the lead an SQL."""
    now = runtime.clock.now()
    lead = _lead(session, lead_id)
    done = qualify(
        session,
        active_rules(session, now),
        lead.id,
        Answers(budget, authority, need, timing, note),
        user=session.get_one(User, caller.user_id),
        now=now,
    )
    t = translator(request)
    message = (
        t.gettext(
            "Qualified: %(before)s → %(after)s",
            before=t.gettext(done.stage_before),
            after=t.gettext(done.stage_after),
        )
        if done.created
        else t.gettext("These answers were recorded before.")
    )
    return lead_view(request, session, runtime, caller, lead.id, done=message)


def lead_view(
    request: Request,
    session: Session,
    runtime: Runtime,
    caller: Principal,
    lead_id: int,
    done: str | None = None,
    **edit: Any,
) -> HTMLResponse:
    """The lead page; ``edit``: the details form's refused values (``edit_errors``, by field)
    and what was typed (``edit_typed``)."""
    now = runtime.clock.now()
    lead = _lead(session, lead_id)
    detail = lead_detail(session, str(lead.id))
    rules = active_rules(session, now)
    t = translator(request)
    people: list[tuple[int, str, str]] = []
    if caller.can("manage"):
        teams = dict(session.execute(select(Team.id, Team.name)).all())
        staff = (
            select(User)
            .where(User.active.is_(True), User.team_id.isnot(None))
            .order_by(User.team_id, User.name)
        )
        people = [(u.id, u.name, teams.get(u.team_id or 0, "")) for u in session.scalars(staff)]
    playbook = playbook_for(rules, lead.touch_stage)
    if lead.status not in rules.worked_statuses:
        playbook = None
    sellers = session.execute(
        select(User.id, User.name, Team.name)
        .join(Team, Team.id == User.team_id)
        .where(User.active.is_(True), Team.kind == FIELD_SALES)
        .order_by(Team.name, User.name)
    ).all()
    return render(
        request,
        "lead.html",
        lead=lead,
        info=detail["lead"],
        items=timeline(session, lead.id, detail, t, rules),
        labels=status_labels(rules, t.locale),
        targets=next_statuses(rules, lead.status),
        reason_required={s.name for s in rules.document.statuses if s.reason_required},
        channels=CHANNELS,
        outcomes=OUTCOMES,
        people=people,
        sellers=sellers,
        opportunities=opportunities_of(session, lead.id),
        pipeline=pipeline_stages(rules),
        done=done,
        playbook=(
            render_playbook(playbook, lead_values(session, lead), t.locale) if playbook else None
        ),
        templates=[
            (name, template_title(rules.templates, name, t.locale) or name)
            for name in sorted(rules.templates)
        ],
        **lead_follow_ups(session, caller, lead, t, now),
        prediction=prediction_detail(session, lead.id),
        **edit_context(session, caller, lead, detail),
        **edit,
    )


@router.get("/leads/{lead_id:int}", response_class=HTMLResponse)
def lead_page(
    request: Request, lead_id: PathId, session: SessionDep, runtime: RuntimeDep, caller: Reader
) -> HTMLResponse:
    return lead_view(request, session, runtime, caller, lead_id)
