"""Two real server processes on one PostgreSQL, racing on the same leads: every race makes exactly
one change, every lead's chain of events stays unbroken, and a touch stage is what its touches
say. (SQLite has one writer at a time, so the race is PostgreSQL's.)"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.clock import FixedClock
from leadops.config import Settings
from leadops.lifecycle.machine import touch_stage_after
from leadops.models import Lead, LeadEvent, Team, Touch
from leadops.runtime import Runtime
from tests.conftest import NOW, _truncate_pg, api_token
from tests.factories import give, make_lead, make_user

#: How long a server may take to start: generous, it never decides the result.
START_BOUND_SECONDS = 60
#: The state kinds whose events must chain, and each one's value before its first event.
CHAINS = {"status": "new", "touch_stage": "untouched", "owner": None, "team": None}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def pg_url(pg_database: str) -> str:
    _truncate_pg(pg_database)
    return pg_database


@pytest.fixture
def servers(pg_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two uvicorn processes of the app, each with its own connection pool, on the database."""
    env = {**os.environ, "LEADOPS_DATABASE_URL": pg_url}
    procs, urls = [], []
    for n in range(2):
        port = _free_port()
        log = (tmp_path / f"server{n}.log").open("wb")
        command = [sys.executable, "-m", "uvicorn", "--factory", "leadops.web.app:create_app"]
        command += ["--port", str(port), "--log-level", "warning"]
        procs.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url, proc in zip(urls, procs, strict=True):
            _wait_until_up(url, proc)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def _wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_BOUND_SECONDS
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the server at {url} exited with {proc.returncode}"
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a condition with a bound that does not decide the result
    raise AssertionError(f"the server at {url} did not answer within {START_BOUND_SECONDS} s")


def _org(pg_url: str, leads: int) -> tuple[list[int], dict[str, str], str]:
    """A team with a manager and two reps, and ``leads`` worked leads of the first rep."""
    runtime = Runtime.create(Settings(database_url=pg_url), FixedClock(NOW))
    try:
        token = api_token(runtime)
        with runtime.factory() as session:
            team = Team(name="東京IS", kind="inside_sales", created_at=NOW)
            session.add(team)
            session.flush()
            emails = {"rep1": "rep1@firm.test", "rep2": "rep2@firm.test"}
            users = {}
            for key, email in emails.items():
                users[key] = make_user(session, email=email, team_id=team.id, name=key).id
            ids = []
            for n in range(leads):
                lead = make_lead(session, runtime, email=f"race{n}@customer.co.jp", company="顧客")
                give(session, runtime, lead, owner_id=users["rep1"], team_id=team.id)
                ids.append(lead.id)
            session.commit()
        return ids, emails, token
    finally:
        runtime.close()


def _at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Send these requests together: every thread waits at a barrier, then all go."""
    barrier = threading.Barrier(len(calls))

    def go(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(go, calls))


def broken_chains(session: Session) -> list[str]:
    """Every event whose ``from`` is not what the previous event of its kind left (in the order
    they were written), and every lead whose columns are not what its last events say."""
    problems = []
    columns = {"status": "status", "touch_stage": "touch_stage", "owner": "owner_id"}
    columns["team"] = "team_id"
    for lead in session.scalars(select(Lead).order_by(Lead.id)):
        events = session.scalars(
            select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id)
        ).all()
        for kind, start in CHAINS.items():
            value = start
            for e in (e for e in events if e.kind == kind):
                if e.from_value != value:
                    problems.append(f"lead {lead.id} {kind}: {e.from_value} after {value}")
                value = e.to_value
            current = getattr(lead, columns[kind])
            if (None if current is None else str(current)) != value:
                problems.append(f"lead {lead.id} {kind} is {current}, its events say {value}")
    return problems


def stages_against_touches(session: Session) -> list[str]:
    problems = []
    for lead in session.scalars(select(Lead).order_by(Lead.id)):
        stage = "untouched"
        outcomes = session.scalars(
            select(Touch.outcome).where(Touch.lead_id == lead.id).order_by(Touch.id)
        )
        for outcome in outcomes:
            stage = touch_stage_after(stage, outcome)
        if stage != lead.touch_stage:
            problems.append(f"lead {lead.id} is {lead.touch_stage}, its touches say {stage}")
    return problems


def _post(base: str, token: str, path: str, body: dict[str, Any]) -> Callable[[], httpx.Response]:
    headers = {"Authorization": f"Bearer {token}"}
    return lambda: httpx.post(f"{base}/api/v1{path}", json=body, headers=headers, timeout=60)


def test_two_servers_racing_on_the_same_leads_make_each_change_once(
    pg_url: str, servers: list[str]
) -> None:
    ids, reps, token = _org(pg_url, 20)
    a, b = servers
    recycle = {"status": "recycled", "reason": "timing"}
    for lead_id in ids[:6]:
        answers = _at_once([_post(s, token, f"/leads/{lead_id}/status", recycle) for s in servers])
        assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
        assert sorted(r.json()["changed"] for r in answers) == [False, True]
    move = {"to": reps["rep2"], "reason": "顧客の希望"}
    for lead_id in ids[6:12]:
        answers = _at_once([_post(s, token, f"/leads/{lead_id}/reassign", move) for s in servers])
        assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
        assert sorted(r.json()["changed"] for r in answers) == [False, True]
    for n, lead_id in enumerate(ids[12:18]):
        touch = {"channel": "call", "outcome": "no_answer", "external_id": f"crm-touch-{n}"}
        answers = _at_once([_post(s, token, f"/leads/{lead_id}/touches", touch) for s in servers])
        assert sorted(r.status_code for r in answers) == [200, 201], [r.text for r in answers]
        assert len({r.json()["touch_id"] for r in answers}) == 1
    runtime = Runtime.create(Settings(database_url=pg_url), FixedClock(NOW))
    try:
        with runtime.factory() as session:
            assert broken_chains(session) == []
            assert stages_against_touches(session) == []
            moved = select(LeadEvent).where(LeadEvent.lead_id.in_(ids[6:12]))
            owner_moves = [e for e in session.scalars(moved) if e.kind == "owner"]
            assert len(owner_moves) == 12  # each: given to rep1, then moved to rep2 once
    finally:
        runtime.close()


def test_a_thousand_mixed_requests_from_two_servers_leave_every_chain_unbroken(
    pg_url: str, servers: list[str]
) -> None:
    ids, reps, token = _org(pg_url, 20)
    rng = random.Random(14)
    outcomes = ["no_answer", "no_answer", "sent", "voicemail_left", "connected"]
    calls = []
    for n in range(1000):
        base = servers[n % 2]
        lead_id = rng.choice(ids)
        pick = rng.random()
        if pick < 0.5:
            body: dict[str, Any] = {"channel": "call", "outcome": rng.choice(outcomes)}
            if rng.random() < 0.3:
                body["external_id"] = f"t-{lead_id}-{rng.randrange(5)}"
            calls.append(_post(base, token, f"/leads/{lead_id}/touches", body))
        elif pick < 0.75:
            body = rng.choice([{"status": "recycled", "reason": "timing"}, {"status": "lead"}])
            calls.append(_post(base, token, f"/leads/{lead_id}/status", body))
        else:
            body = {"to": reps[rng.choice(["rep1", "rep2"])], "reason": "負荷の調整"}
            calls.append(_post(base, token, f"/leads/{lead_id}/reassign", body))
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda call: call(), calls))
    codes = sorted({r.status_code for r in answers})
    assert set(codes) <= {200, 201, 409}, [r.text for r in answers if r.status_code >= 500][:3]
    runtime = Runtime.create(Settings(database_url=pg_url), FixedClock(NOW))
    try:
        with runtime.factory() as session:
            assert broken_chains(session) == []
            assert stages_against_touches(session) == []
    finally:
        runtime.close()
