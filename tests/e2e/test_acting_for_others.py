"""Whom a caller may name with ``by`` (or read the inbox of): an admin anyone, a manager the
members of the teams they manage, everyone else only themselves — every role against every kind
of target, on every route that takes one."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.auth import create_token
from leadops.models import Team, Touch, User
from leadops.runtime import Runtime
from leadops.web.app import create_app
from tests.conftest import NOW
from tests.factories import give, make_lead, make_user

PEOPLE = {
    "admin": ("admin", None),
    "manager_a": ("manager", "A"),
    "manager_b": ("manager", "B"),
    "rep_a": ("member", "A"),
    "rep_a2": ("member", "A"),
    "rep_b": ("member", "B"),
    "marketing": ("marketing", None),
}
CALLERS = ("admin", "manager_a", "manager_b", "rep_a", "marketing")
TARGETS = ("self", "rep_a", "rep_b", "manager_a", "admin")
#: Who acts for whom: the rule under test, written out as a table.
MAY_ACT = {
    "admin": {"self", "rep_a", "rep_b", "manager_a", "admin"},
    "manager_a": {"self", "rep_a", "manager_a"},
    "manager_b": {"self", "rep_b"},
    "rep_a": {"self", "rep_a"},
    "marketing": {"self"},
}
WORKERS = {"admin", "manager_a", "manager_b", "rep_a"}
MANAGERS = {"admin", "manager_a", "manager_b"}


def _org(session: Session, runtime: Runtime) -> tuple[dict[str, User], dict[str, str], int]:
    teams = {}
    for name in ("A", "B"):
        teams[name] = Team(name=f"チーム{name}", kind="inside_sales", created_at=NOW)
        session.add(teams[name])
    session.flush()
    users, tokens = {}, {}
    for key, (role, team) in PEOPLE.items():
        team_id = teams[team].id if team else None
        user = make_user(session, email=f"{key}@firm.test", role=role, team_id=team_id, name=key)
        users[key] = user
        tokens[key], _ = create_token(session, user, name="tests", scope="write", now=NOW)
    teams["A"].manager_id, teams["B"].manager_id = users["manager_a"].id, users["manager_b"].id
    lead = make_lead(session, runtime, email="buyer@customer.co.jp", company="顧客")
    give(session, runtime, lead, owner_id=users["rep_a"].id, team_id=teams["A"].id)
    session.commit()
    return users, tokens, lead.id


def _target(caller: str, target: str) -> str:
    return f"{caller if target == 'self' else target}@firm.test"


def _expected(caller: str, target: str, route: str) -> tuple[int, ...]:
    acting = target in MAY_ACT[caller]
    if route == "notifications":
        return (200,) if caller == "admin" or target in ("self", caller) else (403,)
    if route == "reassign":
        by = caller if target == "self" else target
        may_reassign = by in ("admin", "manager_a")  # the lead and the new owner are team A's
        return (200,) if caller in MANAGERS and acting and may_reassign else (403,)
    return (200, 201) if caller in WORKERS and acting else (403,)


def _call(client: TestClient, route: str, lead_id: int, by: str) -> Any:
    if route == "notifications":
        return client.get("/api/v1/notifications", params={"user": by})
    bodies: dict[str, dict[str, Any]] = {
        # a connected call: the lead stays on its cadence however many callers touch it
        "touches": {"channel": "call", "outcome": "connected", "by": by},
        "status": {"status": "lead", "by": by},
        "appointments": {"by": by},
        "reassign": {"to": "rep_a2@firm.test", "by": by, "reason": "負荷の調整"},
    }
    return client.post(f"/api/v1/leads/{lead_id}/{route}", json=bodies[route])


@pytest.mark.parametrize(
    "route", ["touches", "status", "appointments", "reassign", "notifications"]
)
def test_who_may_act_for_whom_on_every_route(
    runtime: Runtime, session: Session, route: str
) -> None:
    _, tokens, lead_id = _org(session, runtime)
    app = create_app(runtime)
    seen = {}
    for caller in CALLERS:
        with TestClient(app, headers={"Authorization": f"Bearer {tokens[caller]}"}) as client:
            for target in TARGETS:
                answer = _call(client, route, lead_id, _target(caller, target))
                seen[(caller, target)] = answer.status_code
                assert answer.status_code in _expected(caller, target, route), (
                    caller,
                    target,
                    answer.text,
                )
    assert len(seen) == len(CALLERS) * len(TARGETS)


def test_a_touch_sent_for_another_records_them_and_a_token_alone_acts_as_its_owner(
    runtime: Runtime, session: Session
) -> None:
    users, tokens, lead_id = _org(session, runtime)
    app = create_app(runtime)
    for caller, by in (("rep_a", None), ("manager_a", "rep_a@firm.test"), ("manager_a", None)):
        with TestClient(app, headers={"Authorization": f"Bearer {tokens[caller]}"}) as client:
            body = {"channel": "call", "outcome": "no_answer"} | ({"by": by} if by else {})
            assert client.post(f"/api/v1/leads/{lead_id}/touches", json=body).status_code == 201
    authors = session.scalars(select(Touch.user_id).order_by(Touch.id)).all()
    rep, manager = users["rep_a"].id, users["manager_a"].id
    assert list(authors) == [rep, rep, manager]


def test_a_manager_cannot_reassign_another_team_s_lead_by_naming_the_admin(
    runtime: Runtime, session: Session
) -> None:
    _, tokens, lead_id = _org(session, runtime)
    headers = {"Authorization": f"Bearer {tokens['manager_b']}"}
    with TestClient(create_app(runtime), headers=headers) as client:
        move = {"to": "rep_a2@firm.test", "reason": "x"}
        assert client.post(f"/api/v1/leads/{lead_id}/reassign", json=move).status_code == 403
        as_admin = move | {"by": "admin@firm.test"}
        refused = client.post(f"/api/v1/leads/{lead_id}/reassign", json=as_admin)
        assert refused.status_code == 403
        assert "may not act for admin@firm.test" in refused.json()["detail"]
