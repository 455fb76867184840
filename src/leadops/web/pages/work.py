"""The rep's day: my queue (approach requests and due touches, overdue first) and the lead page with
its timeline and actions (log a touch, change status, book an appointment, reassign)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from leadops.cadence.service import CHANNELS, OUTCOMES, book_appointment, change_status, log_touch
from leadops.errors import FieldError, NotFound, ValidationFailed
from leadops.leads import lead_detail
from leadops.models import Lead, ScoreLedger, Task, Team, Touch, User
from leadops.routing.service import reassign
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from leadops.web.deps import get_runtime, get_session
from leadops.web.render import N_, render, translator
from leadops.web.security import Principal, require

router = APIRouter(include_in_schema=False)
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Reader = Annotated[Principal, require("read")]
Worker = Annotated[Principal, require("work")]
Manager = Annotated[Principal, require("manage")]
QUEUE_LIMIT = 200
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)

#: The one-click touches of the queue: (channel, outcome, label).
QUICK_TOUCHES = (
    ("call", "no_answer", N_("Called: no answer")),
    ("email", "sent", N_("E-mail sent")),
    ("call", "connected", N_("Called: connected")),
)


@dataclass
class QueueItem:
    lead: Lead
    due_at: datetime | None
    tasks: list[Task]


def my_queue(session: Session, user_id: int, worked: frozenset[str], limit: int = QUEUE_LIMIT) -> list[QueueItem]:
    """My leads with a touch due and my open approach requests, soonest (most overdue) first."""
    tasks: dict[int, list[Task]] = {}
    for task in session.scalars(
        select(Task).where(Task.owner_id == user_id, Task.state == "open").order_by(Task.due_at).limit(limit)
    ):
        tasks.setdefault(task.lead_id, []).append(task)
    due = (Lead.owner_id == user_id) & Lead.next_due_at.isnot(None) & Lead.status.in_(worked)
    wanted = or_(due, Lead.id.in_(list(tasks))) if tasks else due
    leads = session.scalars(
        select(Lead).where(Lead.merged_into_id.is_(None), wanted).order_by(Lead.next_due_at).limit(limit)
    ).all()
    items = []
    for lead in leads:
        dues = [d for d in [lead.next_due_at, *(t.due_at for t in tasks.get(lead.id, []))] if d is not None]
        items.append(QueueItem(lead, min(dues) if dues else None, tasks.get(lead.id, [])))
    items.sort(key=lambda item: (item.due_at is None, item.due_at or FAR_FUTURE, item.lead.id))
    return items


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, session: SessionDep, runtime: RuntimeDep, caller: Worker) -> HTMLResponse:
    now = runtime.clock.now()
    rules = active_rules(session, now)
    items = my_queue(session, caller.user_id, rules.worked_statuses)
    return render(request, "queue.html", items=items, quick=QUICK_TOUCHES, overdue=sum(
        1 for i in items if i.due_at is not None and i.due_at < now))  # fmt: skip


def _lead(session: Session, lead_id: int) -> Lead:
    lead = session.get(Lead, lead_id)
    if lead is None or lead.merged_into_id is not None:
        raise NotFound(f"no lead {lead_id}")
    return lead


def _status_labels(session: Session, now: datetime, locale: str) -> dict[str, str]:
    rules = active_rules(session, now)
    return {s.name: s.label_ja if locale == "ja" else s.label_en for s in rules.document.statuses}


@router.post("/leads/{lead_id:int}/touch", response_class=HTMLResponse)
def touch_action(request: Request, lead_id: int, session: SessionDep, runtime: RuntimeDep, caller: Worker,
                 channel: Annotated[str, Form()] = "", outcome: Annotated[str, Form()] = "",
                 note: Annotated[str, Form()] = "", view: Annotated[str, Form()] = "lead") -> HTMLResponse:  # fmt: skip
    """Log a touch as the signed-in rep; answers with the queue row or the lead page's summary."""
    now = runtime.clock.now()
    lead = _lead(session, lead_id)
    result = log_touch(session, active_rules(session, now), lead, user=session.get_one(User, caller.user_id),
                       channel=channel, outcome=outcome, at=now, now=now, note=note.strip() or None)  # fmt: skip
    t = translator(request)
    done = t.gettext("Touch logged: %(before)s → %(after)s", before=t.gettext(result.stage_before),
                     after=t.gettext(result.stage_after))  # fmt: skip
    if view == "queue":
        tasks = list(session.scalars(select(Task).where(Task.lead_id == lead.id, Task.state == "open")))
        item = QueueItem(lead, lead.next_due_at, tasks)
        return render(request, "_queue_row.html", item=item, quick=QUICK_TOUCHES, done=done)
    return lead_view(request, session, runtime, caller, lead.id, done=done)


@router.post("/leads/{lead_id:int}/status", response_class=HTMLResponse)
def status_action(request: Request, lead_id: int, session: SessionDep, runtime: RuntimeDep, caller: Worker,
                  status: Annotated[str, Form()] = "",
                  reason: Annotated[str, Form()] = "") -> HTMLResponse:  # fmt: skip
    now = runtime.clock.now()
    lead = _lead(session, lead_id)
    change = change_status(session, active_rules(session, now), lead, status, reason=reason, now=now,
                           actor_kind="user", actor_ref=str(caller.user_id))  # fmt: skip
    t = translator(request)
    labels = _status_labels(session, now, t.locale)
    done = t.gettext("Status: %(before)s → %(after)s", before=labels.get(change.before, change.before),
                     after=labels.get(change.after, change.after))  # fmt: skip
    return lead_view(request, session, runtime, caller, lead.id, done=done)


@router.post("/leads/{lead_id:int}/appointment", response_class=HTMLResponse)
def appointment_action(request: Request, lead_id: int, session: SessionDep, runtime: RuntimeDep, caller: Worker,
                       name: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
                       view: Annotated[str, Form()] = "lead") -> HTMLResponse:  # fmt: skip
    now = runtime.clock.now()
    lead = _lead(session, lead_id)
    booking = book_appointment(session, active_rules(session, now), lead, user=session.get_one(User, caller.user_id),
                               now=now, name=name, note=note.strip() or None)  # fmt: skip
    t = translator(request)
    done = (t.gettext("Appointment booked.") if booking.created
            else t.gettext("The lead already has an open appointment."))  # fmt: skip
    if view == "queue":
        item = QueueItem(lead, None, [])
        return render(request, "_queue_row.html", item=item, quick=QUICK_TOUCHES, done=done, booked=True)
    return lead_view(request, session, runtime, caller, lead.id, done=done)


@router.post("/leads/{lead_id:int}/reassign", response_class=HTMLResponse)
def reassign_action(request: Request, lead_id: int, session: SessionDep, runtime: RuntimeDep, caller: Manager,
                    to: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                    view: Annotated[str, Form()] = "lead") -> HTMLResponse:  # fmt: skip
    lead = _lead(session, lead_id)
    target = session.get(User, int(to)) if to.isdigit() else None
    if target is None:
        raise ValidationFailed([FieldError("to", "choose the person who takes the lead")])
    record = reassign(session, lead, target, by=session.get_one(User, caller.user_id), reason=reason.strip(),
                      now=runtime.clock.now())  # fmt: skip
    t = translator(request)
    done = t.gettext("Reassigned to %(name)s.", name=target.name) if record else t.gettext("No change.")
    if view == "board":
        return HTMLResponse("", headers={"HX-Redirect": "/board?done=1"})
    return lead_view(request, session, runtime, caller, lead.id, done=done)


def timeline(session: Session, lead_id: int, detail: dict[str, Any]) -> list[dict[str, Any]]:
    """Activities, score lines, history events and touches of one lead, newest first."""
    items: list[dict[str, Any]] = []
    for a in detail["activities"][:300]:
        items.append({"at": a["occurred_at"], "kind": "activity", "title": a["type"], "detail": a["properties"],
                      "source": a["source"]})  # fmt: skip
    for e in detail["events"][:300]:
        items.append({"at": e["at"], "kind": "event", "title": e["kind"], "from": e["from"], "to": e["to"],
                      "reason": e["reason"], "actor": e["actor"]})  # fmt: skip
    users = dict(session.execute(select(User.id, User.name)).all())
    for touch in session.scalars(select(Touch).where(Touch.lead_id == lead_id).order_by(Touch.at.desc()).limit(300)):
        items.append({"at": touch.at, "kind": "touch", "title": f"{touch.channel}: {touch.outcome}",
                      "actor": users.get(touch.user_id or 0, ""), "note": touch.note})  # fmt: skip
    ledger = session.scalars(
        select(ScoreLedger).where(ScoreLedger.lead_id == lead_id).order_by(ScoreLedger.at.desc()).limit(300)
    )
    for line in ledger:
        items.append({"at": line.at, "kind": "score", "title": line.rule_id, "points": line.delta,
                      "reason": line.reason})  # fmt: skip
    items.sort(key=lambda i: i["at"], reverse=True)
    return items


def lead_view(request: Request, session: Session, runtime: Runtime, caller: Principal, lead_id: int,
              done: str | None = None) -> HTMLResponse:  # fmt: skip
    now = runtime.clock.now()
    lead = _lead(session, lead_id)
    detail = lead_detail(session, str(lead.id))
    rules = active_rules(session, now)
    t = translator(request)
    labels = _status_labels(session, now, t.locale)
    current = next((s for s in rules.document.statuses if s.name == lead.status), None)
    targets = [s.name for s in rules.document.statuses if s.name != lead.status and (
        current is None or current.to is None or s.name in current.to)]  # fmt: skip
    people: list[tuple[int, str, str]] = []
    if caller.can("manage"):
        teams = dict(session.execute(select(Team.id, Team.name)).all())
        staff = select(User).where(User.active.is_(True), User.team_id.isnot(None)).order_by(User.team_id, User.name)
        people = [(u.id, u.name, teams.get(u.team_id or 0, "")) for u in session.scalars(staff)]
    return render(request, "lead.html", lead=lead, info=detail["lead"], items=timeline(session, lead.id, detail),
                  labels=labels, targets=targets, reason_required={s.name for s in rules.document.statuses
                                                                   if s.reason_required},
                  channels=CHANNELS, outcomes=OUTCOMES, people=people, done=done)  # fmt: skip


@router.get("/leads/{lead_id:int}", response_class=HTMLResponse)
def lead_page(request: Request, lead_id: int, session: SessionDep, runtime: RuntimeDep, caller: Reader) -> HTMLResponse:
    return lead_view(request, session, runtime, caller, lead_id)
