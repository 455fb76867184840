"""Rescore every lead from its activity history, against one SQL aggregate of the same points.

Setup (untimed): N leads and 10·N activities of the scored types written straight into the tables.
Timed: ``rescore_all`` under the default rules (replay per lead with caps and decay, ledger lines,
lead updates, milestone events), and, in the same database:

- the plain writes of its result: the same ledger rows inserted and the same lead columns updated
  with a bare ``executemany`` each, in the same chunks of 2,000 leads, one transaction per chunk
  (the lines are read back and deleted first, untimed) — the figure the rescore is held to;
- a single ``SELECT lead_id, SUM(CASE …) … GROUP BY lead_id`` giving each lead the rules' points
  per activity type (no caps, no decay): the raw speed of reading the same rows and adding the
  same numbers.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb
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
from leadops.scoring.service import LEDGER_COLUMNS

#: The lead columns a rescore writes.
LEAD_COLUMNS = (
    "score",
    "behavior_score",
    "fit_score",
    "group_scores",
    "score_state",
    "scored_version",
    "score_due_at",
    "last_activity_at",
    "temperature",
    "lifecycle_stage",
    "level",
    "is_valid",
)
CHUNK = 2000

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


def plain_writes(rt: Runtime) -> float:
    """The rescore's result written again the plainest way, timed: its ledger lines (read back and
    deleted first) inserted and its leads' columns updated with a bare executemany each, a
    transaction per chunk of leads as the rescore commits them."""
    postgres = rt.engine.dialect.name == "postgresql"
    with rt.engine.connect() as connection:
        ledger = ", ".join(LEDGER_COLUMNS)
        lines = connection.exec_driver_sql(
            f"SELECT {ledger} FROM score_ledger ORDER BY lead_id, id"
        ).all()
        leads = connection.exec_driver_sql(
            f"SELECT id, {', '.join(LEAD_COLUMNS)} FROM leads ORDER BY id"
        ).all()
        connection.exec_driver_sql("DELETE FROM score_ledger")
        connection.commit()
    json_at = {LEAD_COLUMNS.index(c) + 1 for c in ("group_scores", "score_state")}

    def lead_row(row: Any) -> tuple[Any, ...]:
        values = [Jsonb(v) if postgres and i in json_at else v for i, v in enumerate(row)]
        return (*values[1:], values[0])

    chunks: list[tuple[list[Any], list[tuple[Any, ...]]]] = []
    by_lead: dict[int, list[Any]] = {}
    for line in lines:
        by_lead.setdefault(line[0], []).append(tuple(line))
    for start in range(0, len(leads), CHUNK):
        part = leads[start : start + CHUNK]
        chunk_lines = [line for row in part for line in by_lead.get(row[0], [])]
        chunks.append((chunk_lines, [lead_row(row) for row in part]))
    mark = "%s" if postgres else "?"
    insert_sql = (
        f"INSERT INTO score_ledger ({ledger}) VALUES ({', '.join([mark] * len(LEDGER_COLUMNS))})"
    )
    sets = ", ".join(f"{c} = {mark}" for c in LEAD_COLUMNS)
    update_sql = f"UPDATE leads SET {sets} WHERE id = {mark}"
    with rt.engine.connect() as connection:
        dbapi: Any = connection.connection.dbapi_connection
        started = time.perf_counter()
        for chunk_lines, chunk_leads in chunks:
            cursor = dbapi.cursor()
            if not postgres:
                cursor.execute("BEGIN")
            cursor.executemany(insert_sql, chunk_lines)
            cursor.executemany(update_sql, chunk_leads)
            dbapi.commit()
            cursor.close()
        return time.perf_counter() - started


def _measure(rt: Runtime, url: str, leads: int, events: int, now: datetime) -> dict[str, Any]:
    started = time.perf_counter()
    outcome = rescore_all(rt.factory, now, chunk=CHUNK)
    rescore_seconds = time.perf_counter() - started
    sql_seconds, rows = points_aggregate(rt)
    plain_seconds = plain_writes(rt)
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
        "plain_writes_seconds": round(plain_seconds, 2),
        "ratio_to_plain_writes": round(rescore_seconds / plain_seconds, 2),
        "ratio": round(rescore_seconds / sql_seconds, 1),
    }
    result["summary"] = (
        f"rescore {leads:,} leads / {events:,} activities on {backend}: {rescore_seconds:.1f} s "
        f"({result['activities_per_second']:,} activities/s, {outcome.lines:,} ledger lines); "
        f"plain executemany of the same ledger rows and lead updates {plain_seconds:.2f} s: "
        f"rescore takes {result['ratio_to_plain_writes']}× the plain writes; one SQL aggregate "
        f"of the same points {sql_seconds:.2f} s ({result['ratio']}×)"
    )
    return result
