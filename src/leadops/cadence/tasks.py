"""Follow-up tasks people schedule on a lead ("call back on the 5th at 10:00", 「5日10時に再架電」):
schedule, complete, cancel, the open ones of a person (overdue first) and of a lead, the lead's
timeline lines; the assignee is told when someone else schedules one for them and once when it
falls due.

A follow-up is not the lead's state: nothing here moves a status, a stage or an owner (those go
through the lifecycle's door). Who may schedule: on a lead within the scheduler's ``LeadScope``,
for themselves or for whom they act (a manager for the members of the teams they manage).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from leadops.auth import LeadScope, act_for
from leadops.db import claim_rows, insert_for
from leadops.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from leadops.models import FollowUpTask, Lead, Team, User, column_length
from leadops.models.base import table_of
from leadops.models.cadence import follow_up_key
from leadops.models.org import manager_of
from leadops.notify import Note, enqueue

#: The longest note a follow-up keeps.
NOTE_LENGTH = column_length(FollowUpTask.note)
#: A due time this far before now is still taken (typed to the minute, sent a moment later).
PAST_GRACE = timedelta(minutes=5)
#: The furthest ahead a follow-up may be due.
HORIZON = timedelta(days=2 * 366)
#: The English messages of refused schedules (the web says them in the reader's language).
PAST_DUE = "the due time has passed: choose a later time"
TOO_FAR = "the due time is more than two years ahead"
NOTE_TOO_LONG = f"a follow-up's note holds at most {NOTE_LENGTH} characters"
WAS_CANCELLED = "the follow-up was cancelled"
WAS_DONE = "the follow-up is done already"
NOT_YOURS = "only its assignee, their manager or an admin closes a follow-up"
SAME_OPEN = "an open follow-up with this due time and note is there already"


@dataclass(frozen=True)
class Scheduled:
    task: FollowUpTask
    created: bool


@dataclass(frozen=True)
class Closed:
    task: FollowUpTask
    changed: bool


@dataclass(frozen=True)
class OpenFollowUp:
    """An open follow-up with what a list shows of it."""

    task: FollowUpTask
    lead: Lead
    assignee: str

    def overdue(self, now: datetime) -> bool:
        return self.task.due_at < now


def schedule_problems(due_at: datetime, note: str, now: datetime) -> list[FieldError]:
    """What is wrong with a follow-up due at ``due_at`` with ``note``, scheduled ``now``."""
    problems = []
    if due_at < now - PAST_GRACE:
        problems.append(FieldError("due_at", PAST_DUE))
    elif due_at > now + HORIZON:
        problems.append(FieldError("due_at", TOO_FAR))
    if len(note) > NOTE_LENGTH:
        problems.append(FieldError("note", NOTE_TOO_LONG))
    return problems


def _live_lead(session: Session, lead_id: int) -> Lead:
    lead = session.get(Lead, lead_id)
    if lead is None or lead.merged_into_id is not None:
        raise NotFound(f"no lead {lead_id}")
    return lead


def check_scope(session: Session, by: User, lead: Lead) -> None:
    """Forbidden unless ``by`` works on ``lead`` (their ``LeadScope``)."""
    scope = LeadScope(session, by)
    if not scope.allows(lead.owner_id, lead.team_id):
        raise Forbidden(scope.refusal())


def schedule(
    session: Session,
    lead_id: int,
    *,
    by: User,
    assignee: User | None = None,
    due_at: datetime,
    note: str = "",
    now: datetime,
) -> Scheduled:
    """Schedule a follow-up on a live lead for ``assignee`` (default: ``by``). The same open
    follow-up sent again (same lead, assignee, due minute and note) is found, not made twice."""
    text = note.strip()
    problems = schedule_problems(due_at, text, now)
    if problems:
        raise ValidationFailed(problems)
    lead = _live_lead(session, lead_id)
    check_scope(session, by, lead)
    who = act_for(session, by, assignee) if assignee is not None else by
    if not who.active:
        raise ValidationFailed([FieldError("assignee", f"{who.email} is not active")])
    key = follow_up_key(lead.id, who.id, due_at, text)
    row = {
        "lead_id": lead.id,
        "assignee_id": who.id,
        "due_at": due_at,
        "note": text or None,
        "state": "open",
        "created_by_id": by.id,
        "created_at": now,
        "dedup_key": key,
    }
    insert = insert_for(session)(table_of(FollowUpTask)).values(**row)
    result = session.execute(
        insert.on_conflict_do_nothing(index_elements=["dedup_key"]).returning(FollowUpTask.id)
    )
    made = result.scalar_one_or_none()
    task = session.scalars(select(FollowUpTask).where(FollowUpTask.dedup_key == key)).one()
    if made is not None and who.id != by.id:  # scheduled for someone else: they are told
        told = Note(
            who.id, "follow_up_assigned", f"follow_up_assigned:{task.id}", _payload(task, lead)
        )
        enqueue(session, [told], now)
    return Scheduled(task, created=made is not None)


def _payload(task: FollowUpTask, lead: Lead) -> dict[str, Any]:
    return {
        "follow_up_id": task.id,
        "lead_id": task.lead_id,
        "email": lead.email,
        "company": lead.company,
        "subject": task.note,
        "due_at": task.due_at.isoformat(),
    }


def assignable(session: Session, by: User) -> list[User]:
    """Whom ``by`` may schedule a follow-up for, themselves first: a member only themselves, a
    manager the active members of the teams they manage, an admin every active rep."""
    if by.role not in ("admin", "manager"):
        return [by]
    teams = {t.id: t for t in session.scalars(select(Team))}
    staff = session.scalars(
        select(User)
        .where(User.active.is_(True), User.team_id.isnot(None), User.id != by.id)
        .order_by(User.team_id, User.name, User.id)
    )
    others = [u for u in staff if by.role == "admin" or manager_of(u.team_id, teams) == by.id]
    return [by, *others]


def _locked(session: Session, task_id: int) -> FollowUpTask:
    task = session.scalars(
        select(FollowUpTask)
        .where(FollowUpTask.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if task is None:
        raise NotFound(f"no task {task_id}")
    return task


def _check_may_close(session: Session, by: User, task: FollowUpTask) -> None:
    """The assignee closes their own; others as they may act for the assignee or work the lead."""
    if task.assignee_id == by.id:
        return
    assignee = session.get_one(User, task.assignee_id)
    if by.role in ("admin", "manager"):
        act_for(session, by, assignee)
        return
    raise Forbidden(NOT_YOURS)


def complete(session: Session, task_id: int, *, by: User, now: datetime) -> Closed:
    """Mark the follow-up done (its row locked); done again: no change, recorded once."""
    task = _locked(session, task_id)
    _check_may_close(session, by, task)
    if task.state == "done":
        return Closed(task, changed=False)
    if task.state == "cancelled":
        raise Conflict(WAS_CANCELLED)
    task.state, task.done_at, task.done_by_id, task.dedup_key = "done", now, by.id, None
    session.flush()
    return Closed(task, changed=True)


def cancel(session: Session, task_id: int, *, by: User, now: datetime) -> Closed:
    """Cancel the open follow-up (its row locked); cancelled again: no change."""
    task = _locked(session, task_id)
    _check_may_close(session, by, task)
    if task.state == "cancelled":
        return Closed(task, changed=False)
    if task.state == "done":
        raise Conflict(WAS_DONE)
    task.state, task.cancelled_at, task.cancelled_by_id = "cancelled", now, by.id
    task.dedup_key = None
    session.flush()
    return Closed(task, changed=True)


def reschedule(
    session: Session, task_id: int, *, by: User, due_at: datetime, now: datetime
) -> Closed:
    """Move the open follow-up to another due time (its row locked); the same minute: no change.
    Its assignee is told again when the new time comes."""
    task = _locked(session, task_id)
    _check_may_close(session, by, task)
    if task.state != "open":
        raise Conflict(WAS_DONE if task.state == "done" else WAS_CANCELLED)
    problems = schedule_problems(due_at, task.note or "", now)
    if problems:
        raise ValidationFailed(problems)
    if due_at.replace(second=0, microsecond=0) == task.due_at.replace(second=0, microsecond=0):
        return Closed(task, changed=False)
    key = follow_up_key(task.lead_id, task.assignee_id, due_at, task.note or "")
    twin = select(FollowUpTask.id).where(FollowUpTask.dedup_key == key, FollowUpTask.id != task.id)
    if session.scalar(twin) is not None:
        raise ValidationFailed([FieldError("due_at", SAME_OPEN)])
    task.first_due_at = task.first_due_at or task.due_at
    task.due_at, task.moved_at, task.moved_by_id = due_at, now, by.id
    task.reminded_at, task.dedup_key = None, key
    session.flush()
    return Closed(task, changed=True)


def _open(session: Session, *where: Any, limit: int) -> list[OpenFollowUp]:
    stmt = (
        select(FollowUpTask, Lead, User.name)
        .join(Lead, Lead.id == FollowUpTask.lead_id)
        .join(User, User.id == FollowUpTask.assignee_id)
        .where(FollowUpTask.state == "open", *where)
        .order_by(FollowUpTask.due_at, FollowUpTask.id)
        .limit(limit)
    )
    return [OpenFollowUp(task, lead, name or "") for task, lead, name in session.execute(stmt)]


def open_tasks_of(
    session: Session, user_id: int | None, *, due_before: datetime | None = None, limit: int = 200
) -> list[OpenFollowUp]:
    """A person's open follow-ups (None: everyone's), the most overdue first; ``due_before``: only
    those due by then."""
    where = [] if user_id is None else [FollowUpTask.assignee_id == user_id]
    if due_before is not None:
        where.append(FollowUpTask.due_at < due_before)
    return _open(session, *where, limit=limit)


def open_tasks_of_lead(session: Session, lead_id: int, limit: int = 50) -> list[OpenFollowUp]:
    """A lead's open follow-ups, soonest first."""
    return _open(session, FollowUpTask.lead_id == lead_id, limit=limit)


def timeline_items(session: Session, lead_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The lead timeline's lines of its follow-ups: each scheduled, done and cancelled one, with
    when it is due, its note and who."""
    creator, closer, canceller, mover = (aliased(User) for _ in range(4))
    rows = session.execute(
        select(FollowUpTask, User.name, creator.name, closer.name, canceller.name, mover.name)
        .join(User, User.id == FollowUpTask.assignee_id)
        .outerjoin(creator, creator.id == FollowUpTask.created_by_id)
        .outerjoin(closer, closer.id == FollowUpTask.done_by_id)
        .outerjoin(canceller, canceller.id == FollowUpTask.cancelled_by_id)
        .outerjoin(mover, mover.id == FollowUpTask.moved_by_id)
        .where(FollowUpTask.lead_id == lead_id)
        .order_by(FollowUpTask.created_at.desc(), FollowUpTask.id.desc())
        .limit(limit)
    )
    items: list[dict[str, Any]] = []
    for task, assignee, made_by, done_by, cancelled_by, moved_by in rows:
        base = {"kind": "follow_up", "due_at": task.due_at, "note": task.note, "for": assignee}
        # Newest first, and a closing at the very moment of scheduling after it: closings first.
        if task.done_at is not None:
            items.append({**base, "at": task.done_at, "title": "done", "actor": done_by})
        if task.cancelled_at is not None:
            cancelled = {"at": task.cancelled_at, "title": "cancelled", "actor": cancelled_by}
            items.append({**base, **cancelled})
        if task.moved_at is not None:  # the last move, from the due time it had first
            moved = {"at": task.moved_at, "title": "moved", "actor": moved_by}
            items.append({**base, **moved, "from": task.first_due_at})
        first = task.first_due_at or task.due_at
        scheduled = {"at": task.created_at, "title": "scheduled", "actor": made_by}
        items.append({**base, **scheduled, "due_at": first})
    return items


def remind_due(session: Session, now: datetime, limit: int = 5000) -> list[Note]:
    """The assignees of open follow-ups that have fallen due, each told once (the rows claimed,
    so two sweeps at once tell once)."""
    stmt = (
        select(FollowUpTask)
        .where(
            FollowUpTask.state == "open",
            FollowUpTask.reminded_at.is_(None),
            FollowUpTask.due_at <= now,
        )
        .order_by(FollowUpTask.due_at, FollowUpTask.id)
        .limit(limit)
    )
    tasks = list(session.scalars(claim_rows(session, stmt)))
    leads = {
        lead.id: lead
        for lead in session.scalars(select(Lead).where(Lead.id.in_({t.lead_id for t in tasks})))
    }
    notes = []
    for task in tasks:
        payload = _payload(task, leads[task.lead_id])
        key = f"follow_up_due:{task.id}"
        notes.append(Note(task.assignee_id, "follow_up_due", key, payload))
        task.reminded_at = now
    session.flush()
    return notes
