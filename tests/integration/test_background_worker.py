"""The worker in a thread of the server: it sweeps at once and then every interval, outlives a
sweep that fails, and stops with the server."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.clock import FixedClock
from leadops.models import Lead, Team
from leadops.runtime import Runtime
from leadops.worker import SweepReport, background, run_forever
from tests.factories import give, make_lead, make_user

#: Bounds for waiting on the worker's thread: generous, they never decide a result.
BOUND_SECONDS = 60


def test_the_worker_sweeps_until_it_is_stopped(runtime: Runtime, session: Session) -> None:
    stop = threading.Event()
    reports: list[SweepReport] = []

    def count(report: SweepReport) -> None:
        reports.append(report)
        if len(reports) == 2:
            stop.set()

    run_forever(runtime, stop, interval=0, on_sweep=count)  # returns once stopped, here
    assert len(reports) == 2


def test_a_failed_sweep_does_not_end_the_worker(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def flaky(rt: Runtime, now: object) -> SweepReport:
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        stop.set()
        return SweepReport(runtime.clock.now())

    stop = threading.Event()
    monkeypatch.setattr("leadops.worker.run_once", flaky)
    run_forever(runtime, stop, interval=0)
    assert len(calls) == 2


def test_the_server_s_worker_reassigns_a_lead_nobody_touched(
    runtime: Runtime, session: Session
) -> None:
    assert isinstance(runtime.clock, FixedClock)
    boss = make_user(session, email="boss@firm.test", role="manager")
    team_rep = make_user(session, email="rep@firm.test")
    lead = make_lead(session, runtime, email="buyer@kaisha.co.jp", company="会社")
    team = Team(name="IS", kind="inside_sales", manager_id=boss.id, created_at=runtime.clock.now())
    session.add(team)
    session.flush()
    give(session, runtime, lead, owner_id=team_rep.id, team_id=team.id)
    session.commit()
    runtime.clock.set(runtime.clock.now() + timedelta(hours=49))
    swept = threading.Event()
    with background(runtime, interval=3600, on_sweep=lambda report: swept.set()) as thread:
        assert swept.wait(BOUND_SECONDS)
        assert thread.is_alive()
    assert not thread.is_alive()
    session.expire_all()
    owner = session.scalar(select(Lead.owner_id).where(Lead.id == lead.id))
    assert owner == boss.id  # nobody else in the team: the manager's queue
