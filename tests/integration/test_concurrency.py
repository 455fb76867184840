"""Two processes ingesting activities for the same new leads at once: nothing fails, lost or
doubled."""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta

from sqlalchemy import func, select

from leadops.clock import FixedClock
from leadops.config import Settings
from leadops.db import run_in_transaction
from leadops.ingest.activities import ingest_activities
from leadops.ingest.context import IngestContext
from leadops.models import (
    Account,
    Activity,
    Lead,
    LeadAssignment,
    LeadEvent,
    Notification,
    ScoreLedger,
    User,
)
from leadops.routing.org import apply_org, parse_org
from leadops.runtime import Runtime
from leadops.worker import run_once
from tests.conftest import JST, NOW


def _ingest(url: str, batches: list[list[dict[str, str]]], at: datetime = NOW) -> None:
    """One process: each batch of activities in a transaction of its own, retried if it loses a
    race."""
    rt = Runtime.create(Settings(database_url=url), FixedClock(at))
    try:
        for items in batches:
            run_in_transaction(
                rt.factory,
                lambda s, items=items: ingest_activities(
                    IngestContext.from_settings(s, rt.settings, at), items
                ),
            )
    finally:
        rt.close()


def _run_two(target_batches: list[list[list[dict[str, str]]]], url: str) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_ingest, args=(url, batches)) for batches in target_batches]
    for process in workers:
        process.start()
    for process in workers:
        # Two real processes are the point here. join() returns when each ends; the bound only
        # keeps a deadlock from hanging the run (it fails as exit code None), it decides nothing.
        process.join(timeout=300)
    assert [p.exitcode for p in workers] == [0, 0]


def _shared_leads(worker: int) -> list[list[dict[str, str]]]:
    return [
        [
            {
                "email": f"p{i % 30}@firm{i % 30 % 7}.co.jp",
                "type": "email_click",
                "external_id": f"w{worker}-{batch}-{i}",
                "occurred_at": (
                    NOW - timedelta(days=20) + timedelta(minutes=batch * 60 + i)
                ).isoformat(),
            }
            for i in range(60)
        ]
        for batch in range(10)
    ]


def test_two_processes_ingesting_the_same_new_leads(db_url: str, runtime: Runtime) -> None:
    _run_two([_shared_leads(0), _shared_leads(1)], db_url)
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 1200
        assert session.scalar(select(func.count()).select_from(Lead)) == 30
        assert session.scalar(select(func.count()).select_from(Account)) == 7
        ledger = session.scalar(select(func.sum(ScoreLedger.delta)))
        scores = session.scalar(select(func.sum(Lead.score)))
        assert ledger == scores == 1200 * 5


IS_ORG = """
teams:
  - {name: 本社営業本部インサイドセールス部, kind: inside_sales, manager: boss@x.jp}
users:
  - {email: boss@x.jp, name: Boss, role: manager, team: 本社営業本部インサイドセールス部}
  - {email: r1@x.jp, name: R1, team: 本社営業本部インサイドセールス部}
  - {email: r2@x.jp, name: R2, team: 本社営業本部インサイドセールス部}
  - {email: r3@x.jp, name: R3, team: 本社営業本部インサイドセールス部, weight: 2}
"""


def _new_leads(worker: int) -> list[list[dict[str, str]]]:
    return [
        [
            {
                "email": f"w{worker}-{batch}-{i}@buyer{i % 9}.co.jp",
                "type": "email_click",
                "external_id": f"r{worker}-{batch}-{i}",
                "occurred_at": (NOW - timedelta(hours=2)).isoformat(),
            }
            for i in range(25)
        ]
        for batch in range(40)
    ]


def test_two_processes_routing_2000_new_leads_assign_each_once_with_exact_round_robin_counts(
    db_url: str, runtime: Runtime
) -> None:
    with runtime.factory() as session:
        apply_org(session, parse_org(IS_ORG), now=NOW, tz=JST)
        session.commit()
    _run_two([_new_leads(0), _new_leads(1)], db_url)
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 2000
        assert (
            session.scalar(select(func.count()).select_from(Lead).where(Lead.owner_id.is_(None)))
            == 0
        )
        per_lead = (
            select(LeadAssignment.lead_id).group_by(LeadAssignment.lead_id).having(func.count() > 1)
        )
        assert session.execute(per_lead).all() == []
        assert session.scalar(select(func.count()).select_from(LeadAssignment)) == 2000
        counts = dict(
            session.execute(
                select(User.email, func.count())
                .join(Lead, Lead.owner_id == User.id)
                .group_by(User.email)
            ).all()
        )
        assert counts == {"r1@x.jp": 500, "r2@x.jp": 500, "r3@x.jp": 1000}


def _sweeper(url: str, when: datetime) -> None:
    rt = Runtime.create(Settings(database_url=url), FixedClock(when))
    try:
        run_once(rt, when)
    finally:
        rt.close()


def test_two_workers_sweeping_at_once_never_act_twice(db_url: str, runtime: Runtime) -> None:
    monday = datetime(2026, 11, 16, 10, 0, tzinfo=JST)
    with runtime.factory() as session:
        apply_org(session, parse_org(IS_ORG), now=monday, tz=JST)
        session.commit()
    items = [
        {
            "email": f"stale{i}@firm{i % 13}.co.jp",
            "type": "email_click",
            "external_id": f"s{i}",
            "occurred_at": (monday - timedelta(hours=1)).isoformat(),
        }
        for i in range(400)
    ]
    _ingest(db_url, [items], at=monday)
    wednesday = monday + timedelta(days=2)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_sweeper, args=(db_url, wednesday)) for _ in range(2)]
    for process in workers:
        process.start()
    for process in workers:
        # Two real processes are the point here. join() returns when each ends; the bound only
        # keeps a deadlock from hanging the run (it fails as exit code None), it decides nothing.
        process.join(timeout=300)
    assert [p.exitcode for p in workers] == [0, 0]
    with runtime.factory() as session:
        sla = (
            select(func.count())
            .select_from(LeadAssignment)
            .where(LeadAssignment.rule_id == "sla-untouched")
        )
        assert session.scalar(sla) == 400
        per_lead = select(LeadEvent.lead_id).where(
            LeadEvent.kind == "owner", LeadEvent.at == wednesday
        )
        assert len(session.execute(per_lead).all()) == 400
        notified = (
            select(func.count())
            .select_from(Notification)
            .where(Notification.template == "sla_reassigned")
        )
        assert session.scalar(notified) == 400
        assert (
            session.scalar(
                select(func.count()).select_from(Lead).where(Lead.next_due_at <= wednesday)
            )
            == 0
        )
