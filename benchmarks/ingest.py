"""Bulk ingest of activities through leadops' real path, against a plain executemany of the same
rows.

The events form a live feed: in time order over half a year, each batch of 10,000 arriving just
after its newest event, for N/10 leads that exist beforehand. leadops scores every event (rules,
caps, decay, levels, validity, ledger lines, lead events) as it goes in.

Both write the same N rows into the same ``activities`` table of the same database, in batches of
10,000 (the API's batch size) with a commit per batch. leadops validates each event, resolves its
lead by e-mail, inserts with ON CONFLICT DO NOTHING … RETURNING and moves each lead's
last_activity_at; the baseline only inserts rows prepared in advance.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from common import backend_of, bench_org, fresh_database
from leadops.clock import FixedClock
from leadops.config import Settings
from leadops.ingest.activities import ingest_activities
from leadops.ingest.context import IngestContext
from leadops.ingest.leads import LeadInput, LeadWriter
from leadops.models import Activity, Lead
from leadops.routing.org import apply_org, parse_org
from leadops.runtime import Runtime

BATCH = 10_000
TYPES = [
    "page_view",
    "email_open",
    "email_click",
    "content_download",
    "form_submit",
    "webinar_attend",
]


def make_events(
    count: int, leads: int, now: datetime, *, in_order: bool = True
) -> list[dict[str, Any]]:
    """N events over 180 days for ``leads`` leads, in time order (a live feed) or shuffled (a
    backfill)."""
    rng = random.Random(42)
    start = now - timedelta(days=180)
    events = []
    for i in range(count):
        type_ = rng.choice(TYPES)
        props: dict[str, Any] = (
            {"url": "/pricing"}
            if type_ == "page_view"
            else {"email_id": f"nl-{rng.randint(1, 40)}"}
        )
        at = start + timedelta(seconds=rng.randint(0, 180 * 86400))
        lead = rng.randrange(leads)
        events.append(
            {
                "email": f"lead{lead}@bench{lead % (leads // 5 + 1)}.co.jp",
                "type": type_,
                "occurred_at": at.isoformat(),
                "properties": props,
                "source": "bench",
                "external_id": f"ev-{i}",
            }
        )
    events.sort(key=lambda e: str(e["occurred_at"]))
    if not in_order:
        rng.shuffle(events)
    return events


def run(*, database_url: str | None, events: int) -> dict[str, Any]:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    leads = max(10, events // 10)
    with fresh_database(database_url) as url:
        rt = Runtime.create(Settings(database_url=url), FixedClock(now))
        try:
            return _measure(rt, url, make_events(events, leads, now), leads, now)
        finally:
            rt.close()


def _measure(
    rt: Runtime, url: str, items: list[dict[str, Any]], leads: int, now: datetime
) -> dict[str, Any]:
    # The organisation and the leads (routed to their owners) exist beforehand (untimed), as they
    # would in a running system.
    with rt.factory() as session, session.begin():
        apply_org(session, parse_org(bench_org()), now=now, tz=rt.settings.tz)
        ctx = IngestContext.from_settings(
            session, rt.settings, now, actor_kind="import", actor_ref="bench"
        )
        writer = LeadWriter(ctx)
        emails = sorted({str(item["email"]) for item in items})
        inputs = [LeadInput(email=e, created_at=now - timedelta(days=200)) for e in emails]
        writer.preload(inputs)
        for lead_input in inputs:
            writer.upsert(lead_input)
        writer.finish()
    with rt.factory() as session:
        lead_ids = dict(session.execute(select(Lead.email, Lead.id)).all())

    backend = backend_of(url)
    rows = _raw_rows(items, lead_ids, now, backend)
    raw_seconds = _executemany(rt, rows, backend)
    with rt.factory() as session, session.begin():
        session.execute(delete(Activity))

    started = time.perf_counter()
    accepted = 0
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        # A live feed: each batch arrives just after its newest event.
        arrived = max(
            datetime.fromisoformat(str(item["occurred_at"])) for item in batch
        ) + timedelta(minutes=1)
        with rt.factory() as session, session.begin():
            ctx = IngestContext.from_settings(session, rt.settings, arrived, actor_kind="api")
            accepted += ingest_activities(ctx, batch).accepted
    leadops_seconds = time.perf_counter() - started
    assert accepted == len(items), (accepted, len(items))

    n = len(items)
    result = {
        "backend": backend,
        "events": n,
        "leads": len(lead_ids),
        "batch": BATCH,
        "leadops_seconds": round(leadops_seconds, 3),
        "leadops_per_second": round(n / leadops_seconds),
        "executemany_seconds": round(raw_seconds, 3),
        "executemany_per_second": round(n / raw_seconds),
        "ratio": round(raw_seconds / leadops_seconds, 3),
    }
    result["summary"] = (
        f"ingest {n:,} events on {backend}: leadops {result['leadops_per_second']:,}/s, plain "
        "executemany "
        f"{result['executemany_per_second']:,}/s, ratio {result['ratio']:.0%} of the raw rate"
    )
    return result


def _raw_rows(
    items: list[dict[str, Any]], lead_ids: dict[str, int], now: datetime, backend: str
) -> list[tuple]:  # type: ignore[type-arg]
    rows = []
    for item in items:
        at = datetime.fromisoformat(str(item["occurred_at"]))
        props = json.dumps(item["properties"])
        if backend == "sqlite":
            rows.append(
                (
                    lead_ids[str(item["email"])],
                    item["type"],
                    at.replace(tzinfo=None).isoformat(" "),
                    now.replace(tzinfo=None).isoformat(" "),
                    None,
                    None,
                    props,
                    item["source"],
                    item["external_id"],
                )
            )
        else:
            rows.append(
                (
                    lead_ids[str(item["email"])],
                    item["type"],
                    at,
                    now,
                    None,
                    None,
                    props,
                    item["source"],
                    item["external_id"],
                )
            )
    return rows


def _executemany(rt: Runtime, rows: list[tuple], backend: str) -> float:  # type: ignore[type-arg]
    mark = "?" if backend == "sqlite" else "%s"
    cast = "" if backend == "sqlite" else "::jsonb"
    sql = (
        "INSERT INTO activities (lead_id, type, occurred_at, received_at, campaign_id, channel, "
        "properties, "
        f"source_system, external_id) VALUES ({', '.join([mark] * 6)}, {mark}{cast}, {mark}, "
        f"{mark})"
    )
    connection = rt.engine.raw_connection()
    try:
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            cursor = connection.cursor()
            if (
                backend == "sqlite"
            ):  # leadops opens SQLite transactions itself: one per batch, as leadops does
                cursor.execute("BEGIN")
            cursor.executemany(sql, rows[start : start + BATCH])
            connection.commit()
            cursor.close()
        return time.perf_counter() - started
    finally:
        connection.close()
