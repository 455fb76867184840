"""Two servers and two workers on one PostgreSQL at once: the workers race for the same import jobs
and the same overdue leads while the servers take touches, and afterwards nothing is lost,
nothing is done twice and every lead's history is one unbroken chain. (SQLite has one writer at
a time, so the race is PostgreSQL's.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from leadops.cli import app
from leadops.clock import FixedClock
from leadops.config import Settings
from leadops.ingest.jobs import MappingChoice, submit
from leadops.models import (
    ImportJob,
    Lead,
    LeadAssignment,
    LeadEvent,
    Notification,
    Task,
    Touch,
)
from leadops.runtime import Runtime
from leadops.worker import run_once
from tests.conftest import NOW, api_token
from tests.e2e.test_two_servers import (  # noqa: F401 - the fixtures are used by name
    _at_once,
    _post,
    broken_chains,
    pg_url,
    servers,
    stages_against_touches,
)
from tests.factories import make_lead

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "org.yaml"
#: How long the workers may take to finish the imports: generous, it never decides the result.
DONE_BOUND_SECONDS = 300
FILES, ROWS = 3, 40


def _file(n: int) -> bytes:
    lines = ["email,last_name,first_name,company,phone"]
    lines += [
        f"w{n}-{i}@import{n}.co.jp,佐藤,太郎{i},株式会社インポート{n},03-5555-{n:02d}{i:02d}"
        for i in range(ROWS)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_two_servers_and_two_workers_do_everything_once(
    pg_url: str,  # noqa: F811
    servers: list[str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", pg_url)
    assert CliRunner().invoke(app, ["org", "apply", str(EXAMPLE)]).exit_code == 0
    runtime = Runtime.create(Settings(database_url=pg_url), FixedClock(NOW))
    try:
        token = api_token(runtime)
        with runtime.factory() as session:
            # Routed a week and more ago and never touched: every deadline has passed, so both
            # workers find them due (reminders, escalations, reassignment) at once.
            overdue = [
                make_lead(session, runtime, email=f"late{n}@overdue.co.jp", company=f"遅延{n}").id
                for n in range(20)
            ]
            for n in range(FILES + 1):  # the last file is the first one again
                submit(
                    session,
                    kind="leads",
                    filename=f"leads{n}.csv",
                    content=_file(n % FILES),
                    mapping=MappingChoice("default"),
                    now=NOW,
                    actor="test",
                )
            session.commit()
    finally:
        runtime.close()

    a, b = servers
    for n in range(12):
        lead = {"email": f"live{n}@touched.co.jp", "company": f"接触{n}"}
        headers = {"Authorization": f"Bearer {token}"}
        answer = httpx.put(f"{a}/api/v1/leads", json=lead, headers=headers, timeout=60)
        assert answer.status_code in (200, 201), answer.text

    started = _workers(pg_url, tmp_path)
    try:
        for n in range(12):  # the same touch through both servers: stored once
            touch = {"channel": "call", "outcome": "no_answer", "external_id": f"two-w-{n}"}
            path = f"/leads/live{n}@touched.co.jp/touches"
            answers = _at_once([_post(s, token, path, touch) for s in (a, b)])
            assert sorted(r.status_code for r in answers) == [200, 201], [r.text for r in answers]
        _wait_for_imports(pg_url, started)
    finally:
        for proc in started:
            proc.terminate()
        for proc in started:
            proc.wait(timeout=60)

    runtime = Runtime.create(Settings(database_url=pg_url))
    try:
        now = datetime.now(UTC)
        run_once(runtime, now)  # what the workers had not come to yet
        with runtime.factory() as session:
            events = session.scalar(select(func.count()).select_from(LeadEvent))
        run_once(runtime, now)
        with runtime.factory() as session:
            assert session.scalar(select(func.count()).select_from(LeadEvent)) == events
            _nothing_lost_or_twice(session, overdue)
    finally:
        runtime.close()


def _workers(url: str, tmp_path: Path) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "LEADOPS_DATABASE_URL": url}
    command = [str(Path(sys.executable).parent / "leadops"), "worker", "--interval", "0.2"]
    procs = []
    for n in range(2):
        log = (tmp_path / f"worker{n}.log").open("wb")
        procs.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
    return procs


def _wait_for_imports(url: str, procs: list[subprocess.Popen[bytes]]) -> None:
    runtime = Runtime.create(Settings(database_url=url))
    try:
        deadline = time.monotonic() + DONE_BOUND_SECONDS
        while True:
            assert all(p.poll() is None for p in procs), "a worker exited"
            with runtime.factory() as session:
                states = list(session.scalars(select(ImportJob.state)))
            if states and all(s == "done" for s in states):
                return
            assert time.monotonic() < deadline, f"the imports did not finish: {states}"
            time.sleep(0.2)  # polling a condition with a bound that does not decide the result
    finally:
        runtime.close()


def _nothing_lost_or_twice(session: Session, overdue: list[int]) -> None:
    emails = set(session.scalars(select(Lead.email).where(Lead.merged_into_id.is_(None))))
    wanted = {f"late{n}@overdue.co.jp" for n in range(20)}
    wanted |= {f"live{n}@touched.co.jp" for n in range(12)}
    wanted |= {f"w{f}-{i}@import{f}.co.jp" for f in range(FILES) for i in range(ROWS)}
    assert emails == wanted
    assert session.scalar(select(func.count()).select_from(Lead)) == len(wanted)
    jobs = session.scalars(select(ImportJob).order_by(ImportJob.id)).all()
    assert [(j.rows_taken, j.rows_rejected) for j in jobs[:FILES]] == [(ROWS, 0)] * FILES
    assert (jobs[FILES].rows_taken, jobs[FILES].rows_unchanged) == (0, ROWS)  # the same again
    assert session.scalar(select(func.count()).select_from(Touch)) == 12

    assert broken_chains(session) == []
    assert stages_against_touches(session) == []
    repeated = Counter(
        (e.lead_id, e.kind, e.at, e.from_value, e.to_value)
        for e in session.scalars(select(LeadEvent))
    )
    assert [k for k, n in repeated.items() if n > 1] == []
    assigned = Counter(
        (a.lead_id, a.at, a.user_id) for a in session.scalars(select(LeadAssignment))
    )
    assert [k for k, n in assigned.items() if n > 1] == []
    told = Counter(
        (
            n.recipient_id,
            n.channel,
            n.template,
            orjson.dumps(n.payload, option=orjson.OPT_SORT_KEYS),
        )
        for n in session.scalars(select(Notification))
    )
    assert [k for k, n in told.items() if n > 1] == []
    open_requests = Counter(
        t.lead_id
        for t in session.scalars(
            select(Task).where(Task.kind == "approach_request", Task.state == "open")
        )
    )
    assert [lead for lead, n in open_requests.items() if n > 1] == []
    # The overdue leads were worked by the sweeps (reminded, escalated or handed on).
    swept = session.scalar(
        select(func.count(func.distinct(LeadEvent.lead_id))).where(
            LeadEvent.lead_id.in_(overdue), LeadEvent.at > NOW
        )
    )
    assert swept
