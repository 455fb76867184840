"""A small organisation with accounts that sign in, a client signed in as one of them, and the
runners that do the app's background work (imports) while the test waits for nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from leadops.auth import hash_password, start_session
from leadops.models import Lead, Team, User
from leadops.runtime import Runtime
from leadops.web.app import create_app
from leadops.web.background import Job, Runner
from leadops.web.security import SESSION_COOKIE
from tests.factories import give, make_lead

PASSWORD = "correct horse battery"
EMAILS = {
    "member": "rep@firm.test",
    "member2": "rep2@firm.test",
    "manager": "boss@firm.test",
    "marketing": "mkt@firm.test",
    "admin": "root@firm.test",
}


@dataclass
class Org:
    team_id: int
    users: dict[str, int]
    leads: list[int]


def build_org(session: Session, runtime: Runtime, *, leads: int = 3) -> Org:
    """One inside-sales team (a manager, two reps), a marketing user and an admin; ``leads`` leads
    owned by the first rep with a touch overdue."""
    now = runtime.clock.now()
    digest = hash_password(PASSWORD)
    team = Team(name="東京IS", kind="inside_sales", created_at=now)
    session.add(team)
    session.flush()
    users: dict[str, int] = {}
    for key, email in EMAILS.items():
        role = key.rstrip("2")
        user = User(
            email=email,
            name=key.capitalize(),
            role=role,
            active=True,
            routing_weight=1.0,
            locale="en",
            password_hash=digest,
            created_at=now,
            team_id=team.id if role in ("member", "manager") else None,
        )
        session.add(user)
        session.flush()
        users[key] = user.id
    team.manager_id = users["manager"]
    ids = []
    for i in range(leads):
        lead = make_lead(
            session,
            runtime,
            email=f"lead{i}@customer{i}.co.jp",
            company=f"株式会社顧客{i}",
            last_name=f"顧客{i}",
        )
        give(session, runtime, lead, owner_id=users["member"], team_id=team.id)
        lead.next_due_at = now - timedelta(hours=1 + i)
        ids.append(lead.id)
    session.commit()
    return Org(team.id, users, ids)


class RunAtOnce:
    """Does each job before the request that started it answers."""

    def start(self, name: str, job: Job) -> None:
        job()


@dataclass
class Pending:
    """Keeps each job until the test runs it: the page between start and finish can be seen."""

    jobs: list[tuple[str, Job]] = field(default_factory=list)

    def start(self, name: str, job: Job) -> None:
        self.jobs.append((name, job))

    def run(self) -> int:
        """Runs the jobs waiting, in order; how many there were."""
        done = 0
        while self.jobs:
            _name, job = self.jobs.pop(0)
            job()
            done += 1
        return done


def signed_in(runtime: Runtime, user_id: int, *, runner: Runner | None = None) -> TestClient:
    """A client with a fresh session of this user; its CSRF token is sent as a header on every
    request. Background work is done by ``runner``, by default before each request answers."""
    with runtime.factory() as session, session.begin():
        secret, row = start_session(
            session, session.get_one(User, user_id), now=runtime.clock.now(), hours=8
        )
        csrf = row.csrf_token
    app = create_app(runtime, runner=runner or RunAtOnce())
    client = TestClient(app, headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, secret)
    return client


def sign_in_form(
    client: TestClient, email: str, password: str, next_: str = "/"
) -> tuple[int, str]:
    """Sign in through the form, as a browser does: (status, Location or page)."""
    page = client.get("/signin")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    answer = client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": match.group(1), "next": next_},
    )
    return answer.status_code, answer.headers.get("location", answer.text)


def lead_of(session: Session, lead_id: int) -> Lead:
    session.expire_all()
    return session.get_one(Lead, lead_id)
