"""What-if: ``leadops rules preview`` of a changed document on N leads, against applying it.

Setup (untimed): N leads and 10·N activities of the scored types written straight into the tables
(as ``bench rescore`` does), then every lead scored under the default rules and the planner's
statistics gathered (as autovacuum would on a running system).
Timed, in the same database: the preview of a document that changes two things (a free trial
worth 60 instead of 25; cold below 30 instead of 40) — apply, rescore and re-route every lead in
a transaction that is rolled back — then the same document applied for real (a new version and
``catch_up``, what ``leadops rules apply`` does), then one SQL aggregate of the activities' points
(the raw speed of reading the same rows).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from common import analyze, backend_of, fresh_database
from leadops.clock import FixedClock
from leadops.config import Settings
from leadops.pipeline import catch_up, rescore_all
from leadops.rules.loader import default_rules_text
from leadops.rules.service import apply_rules
from leadops.runtime import Runtime
from leadops.whatif import preview_rules
from rescore import _load, points_aggregate

CHANGED = (
    default_rules_text()
    .replace("      points: 25\n", "      points: 60\n", 1)
    .replace("{name: cold, below: 40}", "{name: cold, below: 30}", 1)
)


def run(*, database_url: str | None, events: int, leads: int | None = None) -> dict[str, Any]:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    leads = leads or max(10, events // 10)
    with fresh_database(database_url) as url:
        rt = Runtime.create(Settings(database_url=url), FixedClock(now))
        try:
            _load(rt, leads, leads * 10, now)
            rescore_all(rt.factory, now, chunk=2000)
            analyze(rt)
            return _measure(rt, url, leads, now)
        finally:
            rt.close()


def _measure(rt: Runtime, url: str, leads: int, now: datetime) -> dict[str, Any]:
    started = time.perf_counter()
    preview = preview_rules(rt.factory, CHANGED, now, chunk=2000)
    preview_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with rt.factory() as session, session.begin():
        apply_rules(session, CHANGED, author="bench", comment="bench", now=now)
    applied = catch_up(rt.factory, now, chunk=2000)
    apply_seconds = time.perf_counter() - started
    sql_seconds, _ = points_aggregate(rt)
    backend = backend_of(url)
    result = {
        "backend": backend,
        "leads": leads,
        "activities": leads * 10,
        "preview_seconds": round(preview_seconds, 2),
        "preview_leads_changed": preview.score_changed,
        "apply_seconds": round(apply_seconds, 2),
        "applied_leads": applied.leads,
        "sql_aggregate_seconds": round(sql_seconds, 3),
        "preview_to_apply": round(preview_seconds / apply_seconds, 2),
    }
    result["summary"] = (
        f"preview a rules change on {leads:,} leads on {backend}: {preview_seconds:.1f} s "
        f"({preview.score_changed:,} would change score); applying it {apply_seconds:.1f} s; one "
        f"SQL aggregate of the activities' points {sql_seconds:.2f} s"
    )
    return result
