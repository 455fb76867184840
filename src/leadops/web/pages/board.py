"""The team board (seed 000): open leads per member × status and × touch stage, the SLA breaches
(touches overdue) and the escalations, with reassignment for managers."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadops.models import Lead, Team, User
from leadops.models.leads import TOUCH_STAGES
from leadops.normalize import MAX_INT64
from leadops.rules.service import active_rules
from leadops.web.deps import RuntimeDep, SessionDep
from leadops.web.render import render, status_labels, translator
from leadops.web.security import Manager

router = APIRouter(include_in_schema=False)
BREACH_LIMIT = 100
TAKER_ROLES = ("member", "manager")
BOARD_FILTERS = ("team",)


@router.get("/board", response_class=HTMLResponse)
def board_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: Manager,
    team: Annotated[int | None, Query(ge=0, le=MAX_INT64)] = None,
) -> HTMLResponse:
    """A manager sees their own team first; ``?team=`` picks another (0: every team)."""
    now = runtime.clock.now()
    rules = active_rules(session, now)
    teams = session.scalars(select(Team).order_by(Team.name)).all()
    if team is None:
        managed = [t.id for t in teams if t.manager_id == caller.user_id]
        team = managed[0] if managed else (caller.team_id or 0)
    members = session.scalars(
        select(User)
        .where(User.active.is_(True), User.team_id == team if team else User.team_id.isnot(None))
        .order_by(User.team_id, User.name)
    ).all()
    member_ids = [m.id for m in members]
    by_status: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_stage: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if member_ids:
        counts = session.execute(
            select(Lead.owner_id, Lead.status, Lead.touch_stage, func.count())
            .where(Lead.merged_into_id.is_(None), Lead.owner_id.in_(member_ids))
            .group_by(Lead.owner_id, Lead.status, Lead.touch_stage)
        )
        for owner, status, stage, n in counts:
            assert owner is not None
            by_status[owner][status] += n
            if status in rules.worked_statuses:
                by_stage[owner][stage] += n
    open_owned = (
        Lead.merged_into_id.is_(None),
        Lead.owner_id.in_(member_ids or [-1]),
        Lead.status.in_(rules.worked_statuses),
    )
    breaches = session.scalars(
        select(Lead)
        .where(*open_owned, Lead.next_due_at < now)
        .order_by(Lead.next_due_at)
        .limit(BREACH_LIMIT)
    ).all()
    breach_count = session.scalar(
        select(func.count()).select_from(Lead).where(*open_owned, Lead.next_due_at < now)
    )
    escalations = session.scalars(
        select(Lead)
        .where(
            *open_owned,
            Lead.escalated_due_at.isnot(None),
            Lead.escalated_due_at == Lead.next_due_at,
        )
        .order_by(Lead.next_due_at)
        .limit(BREACH_LIMIT)
    ).all()
    t = translator(request)
    owners_team = {m.id: m.team_id for m in members}
    lead_teams = {
        lead.id: lead.team_id or owners_team.get(lead.owner_id or -1) for lead in breaches
    }
    statuses = list(status_labels(rules, t.locale).items())
    names = {m.id: m.name for m in members}
    return render(
        request,
        "board.html",
        teams=teams,
        team=team,
        members=members,
        statuses=statuses,
        stages=TOUCH_STAGES,
        by_status=by_status,
        by_stage=by_stage,
        breaches=breaches,
        breach_count=breach_count or 0,
        escalations=escalations,
        names=names,
        lead_teams=lead_teams,
        takers=_takers(session, {tid for tid in lead_teams.values() if tid}),
        back=urlencode({"team": team}),
        done=request.query_params.get("done") == "1",
    )


def _takers(session: Session, team_ids: set[int]) -> dict[int, list[User]]:
    """Who may take a lead of each team: its active members and managers (not marketing)."""
    takers: dict[int, list[User]] = defaultdict(list)
    if not team_ids:
        return takers
    users = session.scalars(
        select(User)
        .where(
            User.active.is_(True),
            User.role.in_(TAKER_ROLES),
            User.team_id.in_(sorted(team_ids)),
        )
        .order_by(User.name)
    )
    for user in users:
        assert user.team_id is not None
        takers[user.team_id].append(user)
    return takers


def board_again(back: str) -> str:
    """The board to go back to after a reassignment: the filters it was shown with (``back``, its
    query string; only the known ones, so it stays a link to the board) and the message."""
    kept = {
        key: value
        for key, value in parse_qsl(back)
        if key in BOARD_FILTERS and value.isdigit() and len(value) <= 19
    }
    return "/board?" + urlencode({**kept, "done": "1"})
