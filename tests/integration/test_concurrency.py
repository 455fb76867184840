"""Two processes ingesting activities for the same new leads at once: nothing fails, lost or doubled."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

from sqlalchemy import func, select

from leadops.clock import FixedClock
from leadops.config import Settings
from leadops.db import run_in_transaction
from leadops.ingest.activities import ingest_activities
from leadops.ingest.context import IngestContext
from leadops.models import Account, Activity, Lead, ScoreLedger
from leadops.runtime import Runtime
from tests.conftest import NOW


def _worker(url: str, worker: int) -> None:
    rt = Runtime.create(Settings(database_url=url), FixedClock(NOW))
    try:
        for batch in range(10):
            items = [
                {
                    "email": f"p{i % 30}@firm{i % 30 % 7}.co.jp",
                    "type": "email_click",
                    "external_id": f"w{worker}-{batch}-{i}",
                    "occurred_at": (NOW - timedelta(days=20) + timedelta(minutes=batch * 60 + i)).isoformat(),
                }
                for i in range(60)
            ]
            run_in_transaction(
                rt.factory,
                lambda s, items=items: ingest_activities(IngestContext.from_settings(s, rt.settings, NOW), items),
            )
    finally:
        rt.close()


def test_two_processes_ingesting_the_same_new_leads(db_url: str, runtime: Runtime) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_worker, args=(db_url, w)) for w in range(2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [p.exitcode for p in workers] == [0, 0]
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 1200
        assert session.scalar(select(func.count()).select_from(Lead)) == 30
        assert session.scalar(select(func.count()).select_from(Account)) == 7
        ledger = session.scalar(select(func.sum(ScoreLedger.delta)))
        scores = session.scalar(select(func.sum(Lead.score)))
        assert ledger == scores == 1200 * 5
