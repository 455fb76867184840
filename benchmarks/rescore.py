"""Rescore every lead from its activity history, against one SQL aggregate of the same points.

Setup (untimed): N leads and 10·N activities of the scored types written straight into the tables.
Timed: ``rescore_all`` under the default rules (replay per lead with caps and decay, ledger lines,
lead updates, milestone events), and, in the same database, a single ``SELECT lead_id, SUM(CASE …)
… GROUP BY lead_id`` giving each lead the rules' points per activity type (no caps, no decay): the
raw speed of reading the same rows and adding the same numbers.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text

from common import backend_of, fresh_database
from leadops.clock import FixedClock
from leadops.config import Settings
from leadops.db import insert_plain
from leadops.models import Lead
from leadops.models.base import table_of
from leadops.pipeline import rescore_all
from leadops.rules.service import active_rules
from leadops.runtime import Runtime

POINTS = {
    "content_download": 10,
    "email_click": 5,
    "trial_signup": 25,
    "unsubscribe": -5,
    "email_open": 2,
    "form_submit": 15,
    "page_view": 15,
}
TYPES = list(POINTS)


def run(*, database_url: str | None, events: int, leads: int | None = None) -> dict[str, Any]:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    leads = leads or max(10, events // 10)
    with fresh_database(database_url) as url:
        rt = Runtime.create(Settings(database_url=url), FixedClock(now))
        try:
            _load(rt, leads, events, now)
            return _measure(rt, url, leads, events, now)
        finally:
            rt.close()


def _load(rt: Runtime, leads: int, events: int, now: datetime) -> None:
    rng = random.Random(7)
    created = now - timedelta(days=200)
    with rt.factory() as session, session.begin():
        active_rules(session, now)
        rows = [
            {
                "email": f"lead{i}@bench{i % 5000}.co.jp",
                "created_at": created,
                "ingested_at": created,
                "updated_at": created,
                "lifecycle_stage": "inquiry",
                "status": "new",
                "touch_stage": "untouched",
                "score": 0,
                "behavior_score": 0,
                "fit_score": 0,
                "temperature": "cold",
                "is_valid": True,
                "custom": {},
                "flags": [],
                "group_scores": {},
                "score_state": {},
            }
            for i in range(leads)
        ]
        for start in range(0, len(rows), 20_000):
            session.execute(insert(table_of(Lead)), rows[start : start + 20_000])
        first_id = session.execute(text("SELECT min(id) FROM leads")).scalar_one()
        batch: list[tuple[Any, ...]] = []
        for i in range(events):
            type_ = rng.choice(TYPES)
            props = (
                {"form": "inquiry"}
                if type_ == "form_submit"
                else {"url": "/pricing"}
                if type_ == "page_view"
                else {}
            )
            at = created + timedelta(seconds=rng.randint(0, 195 * 86400))
            batch.append((first_id + rng.randrange(leads), type_, at, now, props, "bench", f"r{i}"))
            if len(batch) == 50_000:
                insert_plain(
                    session,
                    "activities",
                    (
                        "lead_id",
                        "type",
                        "occurred_at",
                        "received_at",
                        "properties",
                        "source_system",
                        "external_id",
                    ),
                    batch,
                )
                batch = []
        insert_plain(
            session,
            "activities",
            (
                "lead_id",
                "type",
                "occurred_at",
                "received_at",
                "properties",
                "source_system",
                "external_id",
            ),
            batch,
        )
    with rt.engine.connect() as connection:
        if backend_of(str(rt.engine.url)) == "postgresql":
            connection.execute(text("ANALYZE"))
            connection.commit()


def points_aggregate(rt: Runtime) -> tuple[float, list[Any]]:
    """One SQL aggregate of every lead's activity points (no caps, no decay), timed: the raw
    speed of reading the rows a rescore reads and adding the same numbers."""
    cases = " ".join(f"WHEN '{t}' THEN {p}" for t, p in POINTS.items())
    aggregate = text(
        f"SELECT lead_id, SUM(CASE type {cases} ELSE 0 END) FROM activities GROUP BY lead_id"
    )
    with rt.engine.connect() as connection:
        started = time.perf_counter()
        rows = list(connection.execute(aggregate).all())
        return time.perf_counter() - started, rows


def _measure(rt: Runtime, url: str, leads: int, events: int, now: datetime) -> dict[str, Any]:
    started = time.perf_counter()
    outcome = rescore_all(rt.factory, now, chunk=2000)
    rescore_seconds = time.perf_counter() - started
    sql_seconds, rows = points_aggregate(rt)
    backend = backend_of(url)
    result = {
        "backend": backend,
        "leads": leads,
        "activities": events,
        "rescored_leads": outcome.leads,
        "ledger_lines": outcome.lines,
        "rescore_seconds": round(rescore_seconds, 2),
        "activities_per_second": round(events / rescore_seconds),
        "sql_aggregate_seconds": round(sql_seconds, 3),
        "aggregate_rows": len(rows),
        "ratio": round(rescore_seconds / sql_seconds, 1),
    }
    result["summary"] = (
        f"rescore {leads:,} leads / {events:,} activities on {backend}: {rescore_seconds:.1f} s "
        f"({result['activities_per_second']:,} activities/s, {outcome.lines:,} ledger lines); one "
        "SQL aggregate of "
        f"the same points {sql_seconds:.2f} s; rescore takes {result['ratio']}× the aggregate"
    )
    return result
