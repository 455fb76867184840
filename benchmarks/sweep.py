"""One SLA sweep over N open leads (default 100,000), against the plain query and writes of the same
result.

Setup (untimed): seed 001's four departments; N assigned, worked leads written straight into the
table with touch stages and deadlines spread as a busy team's would be: about 2 % untouched past
their first-touch deadline (reassigned), 2 % past a touch deadline (escalated), 1 % past the reply
grace after touch 4 (recycled), 3 % within four hours of a deadline (reminded), the rest due later.

Timed: ``leadops worker --once`` at that moment (score decay and the SLA sweep: claim what is due,
reassign through the router with events, assignment rows and notifications, escalate, recycle,
remind). Then, in the same database, the plainest version of the same work: one SELECT of the due
and nearly due leads and one ``executemany`` UPDATE of their deadline.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text, update

from common import analyze, backend_of, bench_org, insert_in_chunks, on_fresh_database
from leadops.models import Lead, User
from leadops.models.base import table_of
from leadops.routing.org import apply_org, parse_org
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from leadops.worker import run_once

IS_TEAM = "本社営業本部インサイドセールス部"


def run(*, database_url: str | None, events: int, leads: int | None = None) -> dict[str, Any]:
    now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    count = leads or 100_000
    return on_fresh_database(
        database_url,
        now,
        lambda rt: _load(rt, count, now),
        lambda rt, url: _measure(rt, url, count, now),
    )


def _load(rt: Runtime, count: int, now: datetime) -> None:
    rng = random.Random(5)
    with rt.factory() as session, session.begin():
        rules = active_rules(session, now)
        apply_org(session, parse_org(bench_org()), now=now, tz=rt.settings.tz)
        team_id = session.scalar(text("SELECT id FROM teams WHERE name = :n").bindparams(n=IS_TEAM))
        reps = list(
            session.scalars(select(User.id).where(User.team_id == team_id, User.role == "member"))
        )
        rows = []
        for i in range(count):
            roll = rng.random()
            if roll < 0.02:
                stage, due = "untouched", now - timedelta(minutes=rng.randint(1, 600))
            elif roll < 0.04:
                stage, due = (
                    rng.choice(("touch_1", "touch_2", "touch_3")),
                    now - timedelta(minutes=rng.randint(1, 600)),
                )
            elif roll < 0.05:
                stage, due = "touch_4", now - timedelta(minutes=rng.randint(1, 600))
            elif roll < 0.08:
                stage, due = (
                    rng.choice(("untouched", "touch_1", "touch_2")),
                    now + timedelta(minutes=rng.randint(1, 230)),
                )
            else:
                stage, due = (
                    rng.choice(("untouched", "touch_1", "touch_2", "touch_3")),
                    now + timedelta(hours=rng.randint(5, 90)),
                )
            rows.append(
                {
                    "email": f"lead{i}@c{i % 20000}.bench.jp",
                    "created_at": now - timedelta(days=10),
                    "ingested_at": now - timedelta(days=10),
                    "updated_at": now,
                    "lifecycle_stage": "inquiry",
                    "status": "lead",
                    "touch_stage": stage,
                    "score": 50,
                    "behavior_score": 50,
                    "fit_score": 0,
                    "temperature": "warm",
                    "is_valid": True,
                    "custom": {},
                    "flags": [],
                    "group_scores": {},
                    "score_state": {},
                    "scored_version": rules.version,
                    "owner_id": reps[i % len(reps)],
                    "team_id": team_id,
                    "assigned_at": now - timedelta(days=3),
                    "next_due_at": due,
                }
            )
        insert_in_chunks(session, Lead, rows)
    analyze(rt)


def _measure(rt: Runtime, url: str, count: int, now: datetime) -> dict[str, Any]:
    started = time.perf_counter()
    report = run_once(rt, now)
    sweep_seconds = time.perf_counter() - started
    sla = report.sla
    started = time.perf_counter()
    with rt.factory() as session, session.begin():
        due = session.execute(
            select(Lead.id).where(
                Lead.status == "lead",
                Lead.owner_id.isnot(None),
                Lead.next_due_at <= now + timedelta(hours=4),
            )
        ).all()
        table = table_of(Lead)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("lid"))
            .values(reminded_due_at=bindparam("at")),
            [{"lid": lid, "at": now} for (lid,) in due],
        )
    plain_seconds = time.perf_counter() - started
    backend = backend_of(url)
    result = {
        "backend": backend,
        "open_leads": count,
        "actions": sla.actions,
        "reassigned": sla.reassigned,
        "escalated": sla.escalated,
        "recycled": sla.recycled,
        "reminded": sla.reminded,
        "sweep_seconds": round(sweep_seconds, 2),
        "plain_seconds": round(plain_seconds, 3),
        "ratio": round(sweep_seconds / plain_seconds, 1),
    }
    result["summary"] = (
        f"SLA sweep over {count:,} open leads on {backend}: {sweep_seconds:.2f} s for "
        f"{sla.actions:,} actions "
        f"({sla.reassigned:,} reassigned, {sla.escalated:,} escalated, {sla.recycled:,} recycled, "
        f"{sla.reminded:,} "
        f"reminded); the plain select and update of the same {len(due):,} leads "
        f"{plain_seconds:.2f} s; "
        f"the sweep takes {result['ratio']}× that"
    )
    return result
