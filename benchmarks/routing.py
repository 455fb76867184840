"""Route N unassigned leads (default 100,000) with the default rules, against the plain writes of
the result.

Setup (untimed): seed 001's four departments (24 reps, mixed weights and capacities, one rep out of
office), N leads written straight into the table with levels 1–4 or none, prefectures across Japan
and companies (20 % of them already owned, for ``account_owner``).

Timed: ``route_unassigned`` (the path of `leadops route`: lock and load the leads, pick the team by
the first matching rule, lock the team, read roster, open-lead counts and credits, choose, write the
owner, team, events, assignment rows with candidates, notifications and credits), a chunk of 1,000
per transaction. Then, in the same database, the plainest writes of the same outcome: one
``executemany`` UPDATE of owner/team/assigned_at for every lead and one ``executemany`` INSERT of an
assignment row per lead.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from common import analyze, backend_of, bench_org, insert_in_chunks, on_fresh_database
from leadops.ingest.prefectures import PREFECTURES
from leadops.lifecycle.handoff import route_unassigned
from leadops.models import Account, Lead, LeadAssignment, User
from leadops.models.base import table_of
from leadops.routing.org import apply_org, parse_org
from leadops.rules.service import active_rules
from leadops.runtime import Runtime


def run(*, database_url: str | None, events: int, leads: int | None = None) -> dict[str, Any]:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    count = leads or 100_000
    return on_fresh_database(
        database_url,
        now,
        lambda rt: _load(rt, count, now),
        lambda rt, url: _measure(rt, url, count, now),
    )


def _load(rt: Runtime, count: int, now: datetime) -> None:
    rng = random.Random(11)
    created = now - timedelta(days=30)
    prefectures = [(p.name, p.region) for p in PREFECTURES]
    with rt.factory() as session, session.begin():
        active_rules(session, now)
        apply_org(session, parse_org(bench_org()), now=now, tz=rt.settings.tz)
        reps = list(session.scalars(select(User.id).where(User.role.in_(("member",)))))
        companies = max(1, count // 5)
        accounts = [
            {
                "name": f"Company {i}",
                "normalized_name": f"company {i}",
                "domain": f"c{i}.bench.jp",
                "owner_id": reps[i % len(reps)] if i % 5 == 0 else None,
                "custom": {},
                "created_at": created,
            }
            for i in range(companies)
        ]
        insert_in_chunks(session, Account, accounts)
        first_account = session.scalar(select(func.min(Account.id)))
        assert first_account is not None
        rows = []
        for i in range(count):
            prefecture, region = rng.choice(prefectures)
            rows.append(
                {
                    "email": f"lead{i}@c{i % companies}.bench.jp",
                    "created_at": created,
                    "ingested_at": created,
                    "updated_at": created,
                    "lifecycle_stage": "inquiry",
                    "status": "new",
                    "touch_stage": "untouched",
                    "score": rng.randint(0, 150),
                    "behavior_score": 0,
                    "fit_score": 0,
                    "temperature": "cold",
                    "is_valid": True,
                    "custom": {},
                    "flags": [],
                    "group_scores": {},
                    "score_state": {},
                    "level": rng.choice((None, 1, 2, 3, 4)),
                    "prefecture": prefecture,
                    "region": region,
                    "account_id": first_account + i % companies,
                }
            )
        insert_in_chunks(session, Lead, rows)
    analyze(rt)


def _measure(rt: Runtime, url: str, count: int, now: datetime) -> dict[str, Any]:
    started = time.perf_counter()
    outcome = route_unassigned(rt.factory, now, chunk=1000)
    route_seconds = time.perf_counter() - started
    with rt.factory() as session:
        rows = [
            {"lid": lid, "o": owner, "t": team, "at": now}
            for lid, owner, team in session.execute(
                select(Lead.id, Lead.owner_id, Lead.team_id).order_by(Lead.id)
            )
        ]
    started = time.perf_counter()
    with rt.factory() as session, session.begin():
        table = table_of(Lead)
        stmt = update(table).where(table.c.id == bindparam("lid"))
        session.execute(
            stmt.values(
                owner_id=bindparam("o"), team_id=bindparam("t"), assigned_at=bindparam("at")
            ),
            rows,
        )
        session.execute(
            insert(table_of(LeadAssignment)),
            [
                {
                    "lead_id": r["lid"],
                    "at": r["at"],
                    "team_id": r["t"],
                    "user_id": r["o"],
                    "rule_id": "plain",
                    "strategy": "plain",
                    "reason": "plain",
                    "candidates": [],
                    "actor_kind": "bench",
                }
                for r in rows
            ],
        )
    plain_seconds = time.perf_counter() - started
    backend = backend_of(url)
    result = {
        "backend": backend,
        "leads": count,
        "assigned": outcome.assigned,
        "to_manager": outcome.to_manager,
        "unrouted": outcome.unrouted,
        "route_seconds": round(route_seconds, 2),
        "leads_per_second": round(count / route_seconds),
        "plain_write_seconds": round(plain_seconds, 2),
        "ratio": round(route_seconds / plain_seconds, 1),
    }
    result["summary"] = (
        f"route {count:,} leads on {backend}: {route_seconds:.1f} s "
        f"({result['leads_per_second']:,} leads/s; "
        f"{outcome.assigned:,} assigned, {outcome.to_manager:,} to a manager, {outcome.unrouted:,} "
        "not routed); "
        f"plain executemany of the same owner updates and assignment rows {plain_seconds:.1f} s; "
        f"routing takes {result['ratio']}× the plain writes"
    )
    return result
