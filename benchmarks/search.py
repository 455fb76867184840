"""The header's search box on 100,000 leads (``leadops.search``), run by ``leadops bench pages``.

Setup (untimed): 100,000 leads written in one executemany (names, kana, companies in their legal
forms, phones), and their search keys as the ingest services write them (``refresh_search_keys``).

Timed: queries of each kind (a name with and without its space, kana in hiragana and half-width,
a company with a legal form, a phone in three formats, an e-mail, ``%``), each ``REPEAT`` times
through ``search_leads``; p50 and p95 against the target of 200 ms. In the same database, the raw
speed: the plain SQL of the same index range for the same prefixes.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, text

from common import backend_of, on_fresh_database
from leadops.models import Lead
from leadops.runtime import Runtime
from leadops.search import HIGH, query_keys, refresh_search_keys, search_leads

LEADS = 100_000
TARGET_MS = 200.0
REPEAT = 20
LAST = ["小川", "鈴木", "佐藤", "田中", "高橋", "伊藤", "渡辺", "山本", "中村", "小林"]
LAST_KANA = ["おがわ", "すずき", "さとう", "たなか", "たかはし", "いとう", "わたなべ", "やまもと"]
FIRST = ["聡", "太郎", "花子", "健", "由美", "翔", "愛", "誠"]
FORMS = ["株式会社{}", "{}株式会社", "（株）{}", "㈱{}", "{}有限会社"]
QUERIES = {
    "name with space": "小川 聡",
    "name without space": "鈴木太郎",
    "kana (hiragana)": "おがわ",
    "kana (half-width)": "ｽｽﾞｷ",
    "company (legal form)": "（株）スター電機12",
    "company (half-width kana)": "ｽﾀｰ電機7",
    "phone 03-…": "03-1234-0042",
    "phone +81": "+81 3 1234 0042",
    "phone full-width": "０３１２３４００４２",
    "e-mail": "lead4242@",
    "percent": "%",
}


def _rows(now: datetime) -> list[dict[str, Any]]:
    rows = []
    for i in range(LEADS):
        company = FORMS[i % len(FORMS)].format(f"スター電機{i % 5000}")
        rows.append(
            {
                "id": i + 1,
                "email": f"lead{i}@example{i % 977}.co.jp",
                "last_name": LAST[i % len(LAST)],
                "first_name": FIRST[i % len(FIRST)],
                "company": company,
                "phone": f"03-1234-{i % 10000:04d}",
                "phone_key": f"+8131234{i % 10000:04d}",
                "custom": {"苗字(ふりがな)": LAST_KANA[i % len(LAST_KANA)]},
                "flags": [],
                "created_at": now,
                "ingested_at": now,
                "updated_at": now,
            }
        )
    return rows


def _load(rt: Runtime) -> None:
    now = rt.clock.now()
    with rt.factory() as session, session.begin():
        rows = _rows(now)
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Lead), rows[start : start + 10_000])
        refresh_search_keys(session, range(1, LEADS + 1))
    with rt.engine.begin() as connection:
        connection.execute(text("ANALYZE"))  # planner statistics, as a live database has


def _percentiles(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(p95, 2)}


def _measure(rt: Runtime, url: str) -> dict[str, Any]:
    results: dict[str, Any] = {}
    raw_sql = text(
        "SELECT lead_id FROM lead_search_keys WHERE key >= :low AND key < :high LIMIT 2000"
    )
    with rt.factory() as session:
        for label, query in QUERIES.items():
            search_leads(session, query)  # warm-up
            times, raw = [], []
            for _ in range(REPEAT):
                started = time.perf_counter()
                hits = search_leads(session, query)
                times.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                for key in query_keys(query):
                    session.execute(raw_sql, {"low": key, "high": key + HIGH}).fetchall()
                raw.append((time.perf_counter() - started) * 1000)
            results[label] = {
                "query": query,
                "hits": len(hits),
                **_percentiles(times),
                "raw": _percentiles(raw),
            }
    worst = max(results.values(), key=lambda r: r["p95_ms"])
    lines = [
        f"  {label:26} {r['query']:18} p50 {r['p50_ms']:6.1f} ms p95 {r['p95_ms']:6.1f} ms "
        f"(raw SQL p50 {r['raw']['p50_ms']:.1f} ms) {r['hits']} hits"
        for label, r in results.items()
    ]
    summary = (
        f"search on {LEADS:,} leads ({backend_of(url)}): "
        f"the worst p95 is {worst['p95_ms']:.0f} ms; "
        f"target {TARGET_MS:.0f} ms\n" + "\n".join(lines)
    )
    return {
        "summary": summary,
        "backend": backend_of(url),
        "leads": LEADS,
        "target_ms": TARGET_MS,
        "queries": results,
        "worst_p95_ms": worst["p95_ms"],
        "all_under_target": all(r["p95_ms"] < TARGET_MS for r in results.values()),
    }


def run(*, database_url: str | None) -> dict[str, Any]:
    return on_fresh_database(
        database_url, datetime(2026, 11, 23, 3, 0, tzinfo=UTC), _load, _measure
    )
