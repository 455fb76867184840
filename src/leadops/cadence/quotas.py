"""Monthly quotas (目標): per team and per member, targets for touches logged, connects (a touch
connected or replied), appointments booked, opportunities owned and the amount won. Managers set
them for the teams they manage and those teams' members (``auth.may_act_for``: a team without a
manager of its own belongs to the nearest manager above it); admins for everyone; nobody else.
Setting a month's quota again replaces the targets given and keeps the others, so a retried request
changes nothing more."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.auth import may_act_for
from leadops.db import insert_for
from leadops.errors import FieldError, Forbidden, NotFound, ValidationFailed
from leadops.leads import find_user
from leadops.models import Quota, Team, User
from leadops.models.base import table_of
from leadops.models.opportunities import TARGET_MEASURES
from leadops.models.org import manager_of

MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
MAX_COUNT = 1_000_000_000
MAX_AMOUNT = 10**14 - 1
#: The targets that are counts (the amount won is money).
COUNTED = ("touches", "connects", "appointments", "opportunities")


def parse_month(text: str, path: str = "month") -> date:
    """``YYYY-MM`` as the first day of that month, else ValidationFailed naming ``path``."""
    found = MONTH.match(text.strip())
    if found and 1 <= int(found.group(2)) <= 12 and int(found.group(1)) >= 1900:
        return date(int(found.group(1)), int(found.group(2)), 1)
    raise ValidationFailed([FieldError(path, f"expected a month as YYYY-MM, got {text!r}")])


def month_after(month: date) -> date:
    """The first day of the month after ``month``'s."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class Targets:
    appointments: int | None = None
    opportunities: int | None = None
    won_amount: float | None = None
    touches: int | None = None
    connects: int | None = None

    def given(self) -> dict[str, Any]:
        return {m: v for m in TARGET_MEASURES if (v := getattr(self, m)) is not None}

    def check(self) -> None:
        errors = []
        for name in COUNTED:
            value = getattr(self, name)
            if value is not None and not 0 <= value <= MAX_COUNT:
                errors.append(FieldError(name, f"expected a count from 0 to {MAX_COUNT:,}"))
        amount = self.won_amount
        if amount is not None and (not math.isfinite(amount) or not 0 <= amount <= MAX_AMOUNT):
            errors.append(FieldError("won_amount", f"expected an amount from 0 to {MAX_AMOUNT:,}"))
        if not errors and not self.given():
            message = f"give at least one target: {', '.join(TARGET_MEASURES)}"
            errors.append(FieldError("targets", message))
        if errors:
            raise ValidationFailed(errors)


def _team(session: Session, ref: str) -> Team:
    text = ref.strip()
    team = session.scalar(select(Team).where(Team.name == text))
    if team is None and text.isascii() and text.isdigit() and len(text) < 19:
        team = session.get(Team, int(text))
    if team is None:
        raise ValidationFailed([FieldError("team", f"no team {ref!r} (a team's name or id)")])
    return team


def _member(session: Session, ref: str) -> User:
    try:
        return find_user(session, ref)
    except NotFound as exc:
        raise ValidationFailed([FieldError("member", exc.message)]) from None


def may_set_for_team(session: Session, actor: User, team: Team) -> bool:
    if actor.role == "admin":
        return True
    if actor.role != "manager":
        return False
    teams = {t.id: t for t in session.scalars(select(Team))}
    return manager_of(team.id, teams) == actor.id


def may_set_for_member(session: Session, actor: User, member: User) -> bool:
    return actor.role in ("admin", "manager") and may_act_for(session, actor, member)


@dataclass(frozen=True)
class Subject:
    key: str
    team: Team | None
    member: User | None


def subject_of(session: Session, *, team: str | None, member: str | None) -> Subject:
    """The team or the member a quota is for: exactly one of them."""
    if (team is None) == (member is None):
        message = "name either a team or a member"
        raise ValidationFailed([FieldError("team" if team is None else "member", message)])
    if team is not None:
        found = _team(session, team)
        return Subject(f"team:{found.id}", found, None)
    assert member is not None
    user = _member(session, member)
    return Subject(f"member:{user.id}", None, user)


def set_quota(
    session: Session,
    *,
    actor: User | None,
    month: date,
    team: str | None,
    member: str | None,
    targets: Targets,
    now: datetime,
) -> dict[str, Any]:
    """Set the month's targets of a team or a member (Forbidden for anyone else's; no ``actor``:
    the operator at the command line, who may set any); returns the quota as it is now."""
    targets.check()
    subject = subject_of(session, team=team, member=member)
    if actor is not None:
        check_may_set(session, actor, subject)
    by = actor.id if actor is not None else None
    values = targets.given()
    row = {
        "month": month,
        "subject_key": subject.key,
        "team_id": subject.team.id if subject.team else None,
        "user_id": subject.member.id if subject.member else None,
        "set_by_id": by,
        "set_at": now,
        **{m: None for m in TARGET_MEASURES},
        **values,
    }
    stmt = insert_for(session)(table_of(Quota)).values(row)
    stmt = stmt.on_conflict_do_update(
        index_elements=["month", "subject_key"],
        set_={**values, "set_by_id": by, "set_at": now},
    )
    session.execute(stmt)
    quota = session.scalars(
        select(Quota)
        .where(Quota.month == month, Quota.subject_key == subject.key)
        .execution_options(populate_existing=True)
    ).one()
    return describe(session, [quota])[0]


def check_may_set(session: Session, actor: User, subject: Subject) -> None:
    if subject.team is not None and not may_set_for_team(session, actor, subject.team):
        raise Forbidden(
            f"{actor.email} may not set the quota of {subject.team.name}: a manager sets the "
            "quotas of the teams they manage, an admin of every team"
        )
    if subject.member is not None and not may_set_for_member(session, actor, subject.member):
        who = subject.member.email or subject.member.name
        raise Forbidden(
            f"{actor.email} may not set the quota of {who}: a manager sets the quotas of the "
            "members of the teams they manage, an admin of everyone"
        )


def settable(session: Session, actor: User) -> tuple[list[Team], list[User]]:
    """The teams and the members whose quotas ``actor`` may set (the Settings page's choices)."""
    if actor.role not in ("admin", "manager"):
        return [], []
    teams = [t for t in session.scalars(select(Team).order_by(Team.name))]
    mine = [t for t in teams if may_set_for_team(session, actor, t)]
    people = session.scalars(
        select(User).where(User.active.is_(True), User.team_id.isnot(None)).order_by(User.name)
    )
    return mine, [u for u in people if may_set_for_member(session, actor, u)]


def list_quotas(
    session: Session, *, start: date | None = None, end: date | None = None
) -> list[dict[str, Any]]:
    """The quotas of the months from ``start`` up to ``end`` (exclusive), by month, teams first."""
    query = select(Quota)
    if start is not None:
        query = query.where(Quota.month >= start)
    if end is not None:
        query = query.where(Quota.month < end)
    return describe(session, list(session.scalars(query)))


def describe(session: Session, quotas: list[Quota]) -> list[dict[str, Any]]:
    teams = {t.id: t.name for t in session.scalars(select(Team))}
    ids = sorted({q.user_id for q in quotas if q.user_id is not None})
    people = {
        u.id: (u.email or u.name, u.team_id)
        for u in session.scalars(select(User).where(User.id.in_(ids)))
    }
    out = []
    for q in quotas:
        if q.user_id is not None:
            name, team_id = people.get(q.user_id, (str(q.user_id), None))
            kind, team_name = "member", teams.get(team_id) if team_id is not None else None
        else:
            kind, name = "team", teams.get(q.team_id or 0, str(q.team_id))
            team_name = name
        out.append(
            {
                "month": f"{q.month:%Y-%m}",
                "subject": kind,
                "name": name,
                "team": team_name,
                "team_id": q.team_id,
                "user_id": q.user_id,
                **{m: getattr(q, m) for m in TARGET_MEASURES},
                "set_at": q.set_at,
            }
        )
    out.sort(key=lambda r: (r["month"], r["subject"] != "team", r["team"] or "", r["name"] or ""))
    return out
