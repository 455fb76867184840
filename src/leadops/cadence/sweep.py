"""The SLA sweep (seed 002): a pure function of the database and ``now``.

For every worked lead whose deadline has come (``next_due_at``):

- **untouched** → reassigned to another member of the same team (the owner and the manager are
  told); a lead already reassigned ``max_reassignments`` times for this reason goes to the manager
  instead;
- **touch_1 … touch_3** → escalation: the owner is reminded and the manager notified, once per
  deadline;
- **touch_4** (the reply grace has passed without a connect) → ``recycled`` with reason
  ``no_connect``, back to marketing nurture.

Before each deadline the owner gets a reminder (``remind_before_hours``), once per deadline. Open
approach requests get the same: a reminder before their due time and, once overdue, an escalation.
The assignee of a follow-up someone scheduled is told once when it falls due.

Every action moves the lead's deadline or records the deadline it was taken for, so the same sweep
at the same ``now`` finds nothing the second time. On PostgreSQL the rows are claimed with ``FOR
UPDATE SKIP LOCKED``, so any number of workers can sweep at once without doing an action twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from leadops.cadence.tasks import remind_due
from leadops.db import claim_rows
from leadops.lifecycle.door import Actor, Door
from leadops.lifecycle.handoff import route
from leadops.lifecycle.machine import stage_deadline_hours
from leadops.models import Lead, LeadAssignment, Task, Team, User
from leadops.models.org import manager_of
from leadops.notify import Note, enqueue
from leadops.routing.service import to_route
from leadops.rules.loader import CompiledRules
from leadops.rules.schema import RoutingRule

SLA_RULE = "sla-untouched"


@dataclass
class SlaOutcome:
    reassigned: int = 0
    to_manager: int = 0
    escalated: int = 0
    recycled: int = 0
    reminded: int = 0
    tasks_reminded: int = 0
    tasks_escalated: int = 0
    follow_ups_due: int = 0

    @property
    def actions(self) -> int:
        return sum(vars(self).values())

    def add(self, other: SlaOutcome) -> None:
        for key, value in vars(other).items():
            setattr(self, key, getattr(self, key) + value)


def _claim(session: Session, stmt: Select[Any], limit: int) -> list[Lead]:
    stmt = stmt.order_by(Lead.next_due_at, Lead.id).limit(limit)
    return list(session.scalars(claim_rows(session, stmt, key_share=True)))


def sweep_sla(
    session: Session, rules: CompiledRules, now: datetime, *, limit: int = 5000
) -> SlaOutcome:
    """One pass over the leads and tasks whose time has come. Call it until it returns fewer than
    ``limit`` actions per kind, or just once per tick."""
    outcome = SlaOutcome()
    live = (
        Lead.status.in_(sorted(rules.worked_statuses)),
        Lead.owner_id.isnot(None),
        Lead.merged_into_id.is_(None),
    )
    due = select(Lead.id).where(
        *live,
        Lead.next_due_at <= now,
        or_(
            Lead.touch_stage.in_(("untouched", "touch_4")),
            Lead.escalated_due_at.is_(None),
            Lead.escalated_due_at != Lead.next_due_at,
        ),
    )
    due = due.order_by(Lead.next_due_at, Lead.id).limit(limit)
    ids = list(session.scalars(claim_rows(session, due, key_share=True)))
    teams = {t.id: t for t in session.scalars(select(Team))}
    notes: list[Note] = []
    door = Door(session, rules, now, Actor("rule", SLA_RULE))
    rows = door.lock(ids)
    untouched = [i for i in ids if rows[i].values["touch_stage"] == "untouched"]
    if untouched:
        _reassign_untouched(door, untouched, teams, notes, outcome)
    for lead_id in ids:
        values = rows[lead_id].values
        if values["touch_stage"] in ("touch_1", "touch_2", "touch_3"):
            _escalate(door, lead_id, teams, notes)
            outcome.escalated += 1
        elif values["touch_stage"] == "touch_4":
            payload = _payload(values, "no connect after touch 4")
            who = Actor("rule", "cadence-no-connect")
            door.move(lead_id, "status", "recycled", reason="no_connect", actor=who)
            key = f"lead_recycled:{lead_id}:{now.isoformat()}"
            notes.append(Note(values["owner_id"], "lead_recycled", key, payload))
            outcome.recycled += 1
    door.flush()
    outcome.reminded += _remind(session, rules, now, live, limit, notes)
    _sweep_tasks(session, rules, now, limit, teams, notes, outcome)
    due_follow_ups = remind_due(session, now, limit)
    outcome.follow_ups_due += len(due_follow_ups)
    notes.extend(due_follow_ups)
    session.flush()
    enqueue(session, notes, now)
    return outcome


def _escalate(door: Door, lead_id: int, teams: dict[int, Team], notes: list[Note]) -> None:
    """A touch deadline has passed: the owner is reminded and the manager told, once per
    deadline."""
    values = door.state(lead_id)
    stamp = f"{lead_id}:{values['next_due_at'].isoformat()}"
    payload = _payload(values, "touch deadline passed")
    notes.append(Note(values["owner_id"], "touch_overdue", f"touch_overdue:{stamp}", payload))
    manager = manager_of(values["team_id"], teams)
    if manager is not None:
        notes.append(Note(manager, "escalation", f"escalation:{stamp}:{manager}", payload))
    door.set_columns(lead_id, escalated_due_at=values["next_due_at"])


def _values(lead: Lead) -> dict[str, Any]:
    names = ("id", "email", "company", "touch_stage", "next_due_at")
    return {name: getattr(lead, name) for name in names}


def _payload(values: Mapping[str, Any], why: str) -> dict[str, Any]:
    due = values["next_due_at"]
    return {
        "lead_id": values["id"],
        "email": values["email"],
        "company": values["company"],
        "touch_stage": values["touch_stage"],
        "due_at": due.isoformat() if due else None,
        "why": why,
    }


def _reassign_untouched(
    door: Door,
    ids: Sequence[int],
    teams: dict[int, Team],
    notes: list[Note],
    outcome: SlaOutcome,
) -> None:
    """Untouched past the first-touch deadline: to another member of the team (the manager is
    told), or to the manager once it was reassigned ``max_reassignments`` times for this."""
    session, rules, now = door.session, door.rules, door.now
    earlier = dict(
        session.execute(
            select(LeadAssignment.lead_id, func.count())
            .where(LeadAssignment.lead_id.in_(ids), LeadAssignment.rule_id == SLA_RULE)
            .group_by(LeadAssignment.lead_id)
        ).all()
    )
    items = []
    hours = rules.document.cadence.first_touch_hours
    for lead_id in ids:
        values = door.state(lead_id)
        team = teams.get(values["team_id"]) if values["team_id"] is not None else None
        if team is None:
            continue
        too_often = earlier.get(lead_id, 0) >= rules.document.cadence.max_reassignments
        rule = RoutingRule(id=SLA_RULE, team=team.name, strategy="round_robin")
        item = to_route(values, door.fields(lead_id))
        items.append(replace(item, rule=rule, exclude=values["owner_id"], to_manager=too_often))
        payload = _payload(values, f"untouched {hours:g} h after assignment")
        manager = manager_of(values["team_id"], teams)
        if manager is not None and not too_often:
            key = f"sla_reassigned:{lead_id}:{now.isoformat()}:{manager}"
            notes.append(Note(manager, "sla_reassigned", key, payload))
        if too_often:
            outcome.to_manager += 1
        else:
            outcome.reassigned += 1
    route(door, items, actor_kind="rule", actor_ref=SLA_RULE)


def _remind(
    session: Session,
    rules: CompiledRules,
    now: datetime,
    live: tuple[Any, ...],
    limit: int,
    notes: list[Note],
) -> int:
    """Owners of leads whose deadline is near, once per deadline."""
    cadence = rules.document.cadence
    horizon = max(
        [cadence.remind_before_hours] + [d.remind_before_hours for d in cadence.deadlines]
    )
    if horizon <= 0:
        return 0
    near = _claim(
        session,
        select(Lead).where(
            *live,
            Lead.next_due_at > now,
            Lead.next_due_at <= now + timedelta(hours=horizon),
            or_(Lead.reminded_due_at.is_(None), Lead.reminded_due_at != Lead.next_due_at),
        ),
        limit,
    )
    count = 0
    for lead in near:
        hours = stage_deadline_hours(rules, lead.touch_stage)
        due, owner = lead.next_due_at, lead.owner_id
        if (
            due is None
            or owner is None
            or hours is None
            or hours[1] <= 0
            or due - timedelta(hours=hours[1]) > now
        ):
            continue
        notes.append(
            Note(
                owner,
                "touch_due_soon",
                f"touch_due_soon:{lead.id}:{due.isoformat()}",
                _payload(_values(lead), "deadline soon"),
            )
        )
        lead.reminded_due_at = lead.next_due_at
        count += 1
    return count


def _sweep_tasks(
    session: Session,
    rules: CompiledRules,
    now: datetime,
    limit: int,
    teams: dict[int, Team],
    notes: list[Note],
    outcome: SlaOutcome,
) -> None:
    remind = timedelta(hours=rules.document.cadence.remind_before_hours)
    stmt = (
        select(Task)
        .where(
            Task.state == "open",
            Task.owner_id.isnot(None),
            Task.due_at.isnot(None),
            or_(
                Task.escalated_at.is_(None) & (Task.due_at <= now),
                Task.reminded_at.is_(None) & (Task.due_at <= now + remind),
            ),
        )
        .order_by(Task.due_at, Task.id)
        .limit(limit)
    )
    tasks = list(session.scalars(claim_rows(session, stmt)))
    owners = {t.owner_id for t in tasks}
    owner_teams = dict(
        session.execute(select(User.id, User.team_id).where(User.id.in_(owners))).all()
    )
    for task in tasks:
        if task.due_at is None or task.owner_id is None:
            continue
        payload = {
            "task_id": task.id,
            "lead_id": task.lead_id,
            "subject": task.subject,
            "due_at": task.due_at.isoformat(),
        }
        if task.due_at <= now and task.escalated_at is None:
            notes.append(
                Note(task.owner_id, "approach_overdue", f"approach_overdue:{task.id}", payload)
            )
            manager = manager_of(owner_teams.get(task.owner_id), teams)
            if manager is not None and manager != task.owner_id:
                notes.append(
                    Note(manager, "escalation", f"approach_escalation:{task.id}:{manager}", payload)
                )
            task.escalated_at = now
            task.reminded_at = task.reminded_at or now
            outcome.tasks_escalated += 1
        elif task.reminded_at is None:
            notes.append(
                Note(task.owner_id, "approach_due_soon", f"approach_due_soon:{task.id}", payload)
            )
            task.reminded_at = now
            outcome.tasks_reminded += 1
