"""The organisation as data: teams (kind, parent, manager) and users (role, team, weight, capacity,
active, out-of-office periods), applied from a YAML document. Applying is an upsert: teams by name,
users by e-mail; a user's out-of-office periods are replaced by the ones given."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from leadops.auth import end_access
from leadops.errors import FieldError, ValidationFailed
from leadops.models import OutOfOffice, Team, User, column_length
from leadops.normalize import YEARS, normalize_email, storable


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _within_years(value: date) -> date:
    first, last = YEARS
    if not first <= value.year <= last:
        raise ValueError(
            f"{value.isoformat()} is out of range: dates must fall in the years {first}-{last}"
        )
    return value


#: Text that can be stored as it is (no NUL, no lone surrogate), and a day or time within
#: the years dates may fall in.
_Text = Annotated[str, BeforeValidator(storable)]
_Moment = Annotated[date | datetime, AfterValidator(_within_years)]
_TEAM_NAME = column_length(Team.name)
_EMAIL = column_length(User.email)


class Away(_Strict):
    start: _Moment = Field(alias="from")
    end: _Moment = Field(alias="to", description="Inclusive when a date.")
    note: _Text | None = Field(None, max_length=column_length(OutOfOffice.note))


class TeamIn(_Strict):
    name: _Text = Field(min_length=1, max_length=_TEAM_NAME)
    kind: Literal["marketing", "inside_sales", "sales"]
    parent: _Text | None = Field(None, max_length=_TEAM_NAME)
    manager: _Text | None = Field(None, max_length=_EMAIL, description="The manager's e-mail.")


class UserIn(_Strict):
    email: _Text = Field(max_length=_EMAIL)
    name: _Text = Field(min_length=1, max_length=column_length(User.name))
    role: Literal["admin", "manager", "member", "marketing"] = "member"
    team: _Text | None = Field(None, max_length=_TEAM_NAME)
    #: At most what the column holds (8 digits, 3 of them decimals).
    weight: float = Field(1.0, ge=0, le=99_999, allow_inf_nan=False)
    capacity: int | None = Field(None, ge=0, le=1_000_000)
    active: bool = True
    locale: Literal["ja", "en"] = "ja"
    out_of_office: list[Away] | None = None


class OrgDocument(_Strict):
    teams: list[TeamIn] = Field(default_factory=list)
    users: list[UserIn] = Field(default_factory=list)


def parse_org(text: str) -> OrgDocument:
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValidationFailed([FieldError("(document)", f"not valid YAML: {exc}")]) from None
    return org_from_data(raw)


def org_from_data(raw: Any) -> OrgDocument:
    """An organisation document from parsed YAML or JSON, every problem named by its path."""
    try:
        document = OrgDocument.model_validate(raw)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(p) for p in e["loc"]) or "(document)", e["msg"])
            for e in exc.errors()
        ]
        raise ValidationFailed(errors) from None
    teams = {t.name for t in document.teams}
    problems = []
    emails = set()
    for index, user in enumerate(document.users):
        try:
            emails.add(normalize_email(user.email))
        except ValueError as exc:
            problems.append(FieldError(f"users.{index}.email", str(exc)))
        if user.team is not None and user.team not in teams:
            problems.append(
                FieldError(f"users.{index}.team", f"no team {user.team!r} in this document")
            )
    for index, team in enumerate(document.teams):
        if team.parent is not None and team.parent not in teams:
            problems.append(
                FieldError(f"teams.{index}.parent", f"no team {team.parent!r} in this document")
            )
        if team.manager is not None and _email_or_none(team.manager) not in emails:
            problems.append(
                FieldError(f"teams.{index}.manager", f"no user {team.manager!r} in this document")
            )
    if problems:
        raise ValidationFailed(problems)
    return document


def _email_or_none(value: str) -> str | None:
    try:
        return normalize_email(value)
    except ValueError:
        return None


def _moment(value: date | datetime, tz: Any, *, end: bool) -> datetime:
    """A time as given, or a date's start (``from``) or the start of the day after it (``to``,
    inclusive)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    return datetime.combine(value + timedelta(days=1) if end else value, time(), tzinfo=tz)


def apply_org(session: Session, document: OrgDocument, *, now: datetime, tz: Any) -> dict[str, int]:
    """Create or update every team and user of the document. Returns counts of what was created."""
    created = {"teams": 0, "users": 0}
    teams: dict[str, Team] = {t.name: t for t in session.scalars(select(Team))}
    for team_in in document.teams:
        team = teams.get(team_in.name)
        if team is None:
            team = Team(name=team_in.name, kind=team_in.kind, created_at=now)
            session.add(team)
            teams[team_in.name] = team
            created["teams"] += 1
        team.kind = team_in.kind
    session.flush()
    for team_in in document.teams:
        teams[team_in.name].parent_id = teams[team_in.parent].id if team_in.parent else None
    users: dict[str, User] = {u.email: u for u in session.scalars(select(User)) if u.email}
    for item in document.users:
        email = normalize_email(item.email)
        user = users.get(email)
        if user is None:
            user = User(email=email, name=item.name, created_at=now)
            session.add(user)
            users[email] = user
            created["users"] += 1
        user.name, user.role, user.active, user.locale = (
            item.name,
            item.role,
            item.active,
            item.locale,
        )
        user.team_id = teams[item.team].id if item.team else None
        user.routing_weight, user.capacity = item.weight, item.capacity
        if not item.active and user.id is not None:  # signed out everywhere, tokens revoked
            end_access(session, user.id, now=now)
    session.flush()
    for item in document.users:
        if item.out_of_office is None:
            continue
        user = users[normalize_email(item.email)]
        session.execute(delete(OutOfOffice).where(OutOfOffice.user_id == user.id))
        for away in item.out_of_office:
            session.add(
                OutOfOffice(
                    user_id=user.id,
                    starts_at=_moment(away.start, tz, end=False),
                    ends_at=_moment(away.end, tz, end=True),
                    note=away.note,
                )
            )
    for team_in in document.teams:
        manager = users[normalize_email(team_in.manager)] if team_in.manager else None
        teams[team_in.name].manager_id = manager.id if manager else None
    session.flush()
    return created


def describe_org(session: Session) -> list[dict[str, Any]]:
    """Teams with their manager and members, for `leadops org show`."""
    users = list(session.scalars(select(User).order_by(User.id)))
    away: dict[int, list[OutOfOffice]] = {}
    for period in session.scalars(select(OutOfOffice).order_by(OutOfOffice.starts_at)):
        away.setdefault(period.user_id, []).append(period)
    by_id = {u.id: u for u in users}
    out = []
    for team in session.scalars(select(Team).order_by(Team.id)):
        manager = by_id.get(team.manager_id) if team.manager_id else None
        parent = session.get(Team, team.parent_id) if team.parent_id else None
        out.append(
            {
                "team": team.name,
                "kind": team.kind,
                "parent": parent.name if parent else None,
                "manager": manager.email if manager else None,
                "members": [
                    {
                        "email": u.email,
                        "name": u.name,
                        "role": u.role,
                        "weight": u.routing_weight,
                        "capacity": u.capacity,
                        "active": u.active,
                        "out_of_office": [
                            (p.starts_at, p.ends_at, p.note) for p in away.get(u.id, [])
                        ],
                    }
                    for u in users
                    if u.team_id == team.id
                ],
            }
        )
    return out
