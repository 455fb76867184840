"""Every page of the web app on the demo database (default 5,000 leads, half a year of a team's
work), server-side: the time from request to the last byte of the answer, through the whole app
(sign-in check, CSRF, queries, templates), measured in-process so that no network is counted.

Setup (untimed): ``leadops demo`` into a fresh database; a session for the demo's admin (who may
open every page) and one for its rep (the queue).

Timed: each page 7 times after one warm-up; the median and the slowest are reported, against the
target of 300 ms. Then, in the same database, the raw speed: a plain ``SELECT`` of one page of leads
(50 rows) and a count of all of them — the least any list page must read.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

import search
from common import backend_of, on_fresh_database
from leadops.auth import start_session
from leadops.demo import build_demo, demo_sign_ins
from leadops.models import User
from leadops.runtime import Runtime
from leadops.web.app import create_app
from leadops.web.security import SESSION_COOKIE

TARGET_MS = 300.0
REPEAT = 7
PAGES = [
    "/queue",
    "/leads",
    "/leads?stage=touch_1&sort=-score",
    "/leads?status=lead&level=3&min_score=20",
    "/leads/1",
    "/board",
    "/board?team=0",
    "/reports",
    "/reports/funnel",
    "/reports/cohort",
    "/reports/dwell",
    "/reports/forecast",
    "/reports/pipeline",
    "/reports/kpis",
    "/reports/sources",
    "/reports/campaigns",
    "/reports/tasks",
    "/reports/status-board",
    "/reports/new-leads",
    "/reports/score-jumps",
    "/reports/recycle-reasons",
    "/rules",
    "/import",
    "/notifications",
    "/settings",
]


def run(*, database_url: str | None, events: int, leads: int | None = None) -> dict[str, Any]:
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    count = leads or 5000
    result = on_fresh_database(
        database_url,
        now,
        lambda rt: build_demo(rt, leads=count) and None,
        lambda rt, url: _measure(rt, url, count),
    )
    found = search.run(database_url=database_url)
    result["search"] = found
    result["summary"] += "\n" + found["summary"]
    return result


def _client(rt: Runtime, email: str) -> TestClient:
    with rt.factory() as session, session.begin():
        user = session.query(User).filter(User.email == email).one()
        secret, _ = start_session(session, user, now=rt.clock.now(), hours=8)
    client = TestClient(create_app(rt), follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, secret)
    return client


def _time(client: TestClient, path: str) -> tuple[float, float]:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def _measure(rt: Runtime, url: str, count: int) -> dict[str, Any]:
    with rt.factory() as session:
        accounts = {role: email for role, email, _ in demo_sign_ins(session)}
    admin, rep = _client(rt, accounts["admin"]), _client(rt, accounts["member"])
    pages = {}
    for path in PAGES:
        client = rep if path == "/queue" else admin
        median, slowest = _time(client, path)
        pages[path] = {"median_ms": round(median, 1), "max_ms": round(slowest, 1)}
    with rt.engine.connect() as connection:
        started = time.perf_counter()
        for _ in range(REPEAT):
            connection.execute(
                text("SELECT * FROM leads ORDER BY created_at DESC LIMIT 50")
            ).fetchall()
            connection.execute(text("SELECT count(*) FROM leads")).scalar()
        raw = (time.perf_counter() - started) * 1000 / REPEAT
    slowest_page = max(pages, key=lambda p: pages[p]["median_ms"])
    lines = [
        f"  {path:45} {v['median_ms']:7.1f} ms (slowest {v['max_ms']:.1f})"
        for path, v in pages.items()
    ]
    summary = (
        f"pages on the demo ({count} leads, {backend_of(url)}): the slowest page's median is "
        f"{pages[slowest_page]['median_ms']:.0f} ms ({slowest_page}); target {TARGET_MS:.0f} ms; "
        f"raw read of one list page {raw:.1f} ms\n" + "\n".join(lines)
    )
    return {
        "summary": summary,
        "backend": backend_of(url),
        "leads": count,
        "target_ms": TARGET_MS,
        "pages": pages,
        "slowest_page": slowest_page,
        "slowest_median_ms": pages[slowest_page]["median_ms"],
        "all_under_target": all(p["median_ms"] < TARGET_MS for p in pages.values()),
        "raw_list_read_ms": round(raw, 2),
    }
