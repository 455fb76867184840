"""A file of leads through leadops' real import path, against a plain executemany of the same rows.

The file is a 20-column CSV of N leads (a CRM or Excel export: e-mail, names, company, department,
title, phone, prefecture, source, created date, employees, industry and eight custom columns), at
about three leads per company. ``leadops import leads FILE`` reads it in chunks of
``LEADOPS_IMPORT_CHUNK_SIZE`` rows, each chunk one transaction: it validates every row, finds the
lead by e-mail (none exists: every row is new), matches or creates the company's account, writes
the lead and its first event, scores its fit rules, checks its validity and routes it to a rep of
seed 001's departments (round robin, with its assignment row, its owner and team events and the
rep's notification).

The baseline inserts the same N rows (the same columns, with the custom columns as JSON) into the
same ``leads`` table with one ``executemany`` per chunk and a commit per chunk, from values
prepared in advance.

A second baseline, the ceiling of what the import writes: every row the import wrote (the leads,
their accounts, events, assignments, notifications, ledger lines and search keys), read back
afterwards and written again into a fresh database with the same org, one ``executemany`` per
table per chunk of leads and a commit per chunk. An import that did nothing but write its own
output could go no faster.
"""

from __future__ import annotations

import csv
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Engine

from common import backend_of, bench_org, fresh_database
from leadops.clock import FixedClock
from leadops.config import Settings
from leadops.ingest.importer import run_import
from leadops.ingest.mappings import default_mapping
from leadops.models.base import Base
from leadops.routing.org import apply_org, parse_org
from leadops.runtime import Runtime

LAST = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
FIRST = ["太郎", "花子", "翔", "葵", "蓮", "結衣", "大輔", "美咲", "健", "さくら"]
PREFECTURES = ["東京都", "大阪府", "愛知県", "福岡県", "北海道", "京都府", "神奈川県", "兵庫県"]
TITLES = ["部長", "課長", "主任", "担当", "マネージャー", "取締役", ""]
DEPARTMENTS = ["営業部", "マーケティング部", "情報システム部", "経営企画部", "総務部"]
SOURCES = ["展示会", "資料ダウンロード", "ウェビナー", "問い合わせフォーム", "外部DB"]
INDUSTRIES = ["製造", "小売", "IT", "金融", "物流", "建設"]
CUSTOM = [
    "利用中のMAシステム",
    "予算",
    "導入時期",
    "関心製品",
    "決裁者",
    "競合",
    "備考",
    "担当地域",
]
HEADER = [
    "email",
    "last_name",
    "first_name",
    "company",
    "department",
    "title",
    "phone",
    "prefecture",
    "source",
    "created_at",
    "employees",
    "industry",
    *CUSTOM,
]


def write_file(path: Path, rows: int, now: datetime) -> list[list[str]]:
    """N rows of 20 columns, written as UTF-8 CSV; returns the rows."""
    rng = random.Random(15)
    start = now - timedelta(days=365)
    table = []
    for n in range(rows):
        company = n // 3
        created = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
        table.append(
            [
                f"lead{n}@company{company}.co.jp",
                rng.choice(LAST),
                rng.choice(FIRST),
                f"株式会社ベンチ{company}",
                rng.choice(DEPARTMENTS),
                rng.choice(TITLES),
                f"03-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}",
                rng.choice(PREFECTURES),
                rng.choice(SOURCES),
                created.strftime("%Y-%m-%d %H:%M"),
                str(rng.choice([8, 45, 120, 800, 3500])),
                rng.choice(INDUSTRIES),
                rng.choice(["Marketo", "HubSpot", "SATORI", "なし"]),
                str(rng.choice([100, 300, 1000])) + "万円",
                rng.choice(["今期", "来期", "未定"]),
                rng.choice(["SFA", "MA", "BI"]),
                rng.choice(["はい", "いいえ"]),
                rng.choice(["A社", "B社", ""]),
                "展示会で名刺交換",
                rng.choice(["関東", "関西", "中部"]),
            ]
        )
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(table)
    return table


def run(*, database_url: str | None, events: int, rows: int | None = None) -> dict[str, Any]:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    count = rows or events
    with tempfile.TemporaryDirectory(prefix="leadops-bench-file-") as folder:
        path = Path(folder) / "leads.csv"
        table = write_file(path, count, now)
        with fresh_database(database_url) as url:
            raw_seconds, chunk = _baseline(url, table, now)
        with fresh_database(database_url) as url:
            rt = Runtime.create(Settings(database_url=url), FixedClock(now))
            try:
                with rt.factory() as session, session.begin():
                    apply_org(session, parse_org(bench_org()), now=now, tz=rt.settings.tz)
                before = _highest_ids(rt.engine)
                started = time.perf_counter()
                summary = run_import(
                    "leads", path, default_mapping("leads"), rt.factory, rt.settings, rt.clock
                )
                leadops_seconds = time.perf_counter() - started
                written = _written(rt.engine, before)
            finally:
                rt.close()
        with fresh_database(database_url) as url:
            output_seconds, output_rows = _output_baseline(url, written, now, chunk)
    assert (summary.taken, summary.rejected) == (count, 0), summary.as_dict()
    result = _result(backend_of(url), count, chunk, leadops_seconds, raw_seconds)
    result["output_rows"] = output_rows
    result["output_executemany_seconds"] = round(output_seconds, 3)
    result["output_executemany_per_second"] = round(count / output_seconds)
    result["output_ratio"] = round(output_seconds / leadops_seconds, 3)
    result["summary"] += (
        f"; the {sum(output_rows.values()):,} rows it wrote, written plainly: "
        f"{result['output_executemany_per_second']:,} leads/s "
        f"(leadops at {result['output_ratio']:.0%} of that)"
    )
    return result


def _result(
    backend: str, count: int, chunk: int, leadops_seconds: float, raw_seconds: float
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "backend": backend,
        "rows": count,
        "columns": len(HEADER),
        "chunk": chunk,
        "leadops_seconds": round(leadops_seconds, 3),
        "leadops_per_second": round(count / leadops_seconds),
        "executemany_seconds": round(raw_seconds, 3),
        "executemany_per_second": round(count / raw_seconds),
        "ratio": round(raw_seconds / leadops_seconds, 3),
    }
    result["summary"] = (
        f"import {count:,} leads ({len(HEADER)} columns) on {backend}: leadops "
        f"{result['leadops_per_second']:,}/s, plain executemany "
        f"{result['executemany_per_second']:,}/s, ratio {result['ratio']:.0%} of the raw rate"
    )
    return result


def _baseline(url: str, table: list[list[str]], now: datetime) -> tuple[float, int]:
    """The same rows into ``leads`` with one executemany and one commit per chunk."""
    rt = Runtime.create(Settings(database_url=url), FixedClock(now))
    try:
        backend = backend_of(url)
        chunk = rt.settings.import_chunk_size
        prepared = [_raw(row, now, backend) for row in table]
        mark = "?" if backend == "sqlite" else "%s"
        cast = "" if backend == "sqlite" else "::jsonb"
        columns = [*HEADER[:10], "custom", "ingested_at", "updated_at"]
        columns += ["flags", "status", "lifecycle_stage", "touch_stage", "temperature"]
        columns += ["score", "behavior_score", "fit_score", "is_valid", "group_scores"]
        columns += ["score_state"]
        values = [mark] * 10 + [mark + cast, mark, mark, mark + cast] + [mark] * 8
        values += [mark + cast, mark + cast]
        sql = f"INSERT INTO leads ({', '.join(columns)}) VALUES ({', '.join(values)})"
        with rt.engine.connect() as connection:
            dbapi: Any = connection.connection.dbapi_connection
            started = time.perf_counter()
            for start in range(0, len(prepared), chunk):
                cursor = dbapi.cursor()
                if backend == "sqlite":
                    cursor.execute("BEGIN")
                cursor.executemany(sql, prepared[start : start + chunk])
                dbapi.commit()
                cursor.close()
            return time.perf_counter() - started, chunk
    finally:
        rt.close()


def _raw(row: list[str], now: datetime, backend: str) -> tuple[Any, ...]:
    created = datetime.fromisoformat(row[9]).replace(tzinfo=UTC)
    stamp: Any = now
    if backend == "sqlite":
        created_value: Any = created.replace(tzinfo=None).isoformat(" ")
        stamp = now.replace(tzinfo=None).isoformat(" ")
    else:
        created_value = created
    custom = json.dumps(dict(zip(CUSTOM, row[12:], strict=True)), ensure_ascii=False)
    state = ("untouched", "cold", 0, 0, 0, True, "{}", "{}")
    return (*row[:9], created_value, custom, stamp, stamp, "[]", "new", "inquiry", *state)


#: Tables the import does not grow per lead, or that are its own bookkeeping.
NOT_OUTPUT = ("import_jobs", "import_flags", "import_rejects", "alembic_version")


def _highest_ids(engine: Engine) -> dict[str, int]:
    """Each table's highest id before the import (its rows after that are the import's)."""
    found: dict[str, int] = {}
    with engine.connect() as connection:
        cursor: Any = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for table in Base.metadata.sorted_tables:
            if "id" in table.c and table.name not in NOT_OUTPUT:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table.name}")
                found[table.name] = cursor.fetchone()[0]
        cursor.close()
    return found


def _written(engine: Engine, before: dict[str, int]) -> dict[str, tuple[list[str], list[Any]]]:
    """The rows the import added, by table (in the order foreign keys need): columns and rows as
    the driver gives them. (Routing credits, a row per rep updated in place, are left out.)"""
    backend = backend_of(str(engine.url))
    written: dict[str, tuple[list[str], list[Any]]] = {}
    with engine.connect() as connection:
        cursor: Any = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for table in Base.metadata.sorted_tables:
            if table.name in before:
                where = f"id > {before[table.name]}"
            elif "lead_id" in table.c and table.name not in NOT_OUTPUT:
                where = f"lead_id > {before['leads']}"  # the search keys of the new leads
            else:
                continue
            names = [c.name for c in table.c]
            order = ", ".join(c.name for c in table.primary_key.columns)
            cursor.execute(
                f"SELECT {', '.join(names)} FROM {table.name} WHERE {where} ORDER BY {order}"
            )
            rows = cursor.fetchall()
            if rows:
                if backend == "postgresql":
                    rows = _for_psycopg(table, rows)
                written[table.name] = (names, rows)
        cursor.close()
    return written


def _for_psycopg(table: Any, rows: list[Any]) -> list[Any]:
    """JSON values wrapped to go back in as JSON."""
    kinds = [isinstance(c.type, JSON) for c in table.c]
    return [
        tuple(Jsonb(v) if json and v is not None else v for v, json in zip(row, kinds, strict=True))
        for row in rows
    ]


def _output_baseline(
    url: str, written: dict[str, tuple[list[str], list[Any]]], now: datetime, chunk: int
) -> tuple[float, dict[str, int]]:
    """Every row the import wrote, into a fresh database with the same org: per chunk of leads,
    the accounts they name first, then each table's rows of those leads, one executemany each and
    a commit per chunk."""
    rt = Runtime.create(Settings(database_url=url), FixedClock(now))
    try:
        with rt.factory() as session, session.begin():
            apply_org(session, parse_org(bench_org()), now=now, tz=rt.settings.tz)
        backend = backend_of(url)
        mark = "?" if backend == "sqlite" else "%s"
        parts = _by_chunk(written, chunk)
        statements = {
            name: f"INSERT INTO {name} ({', '.join(columns)}) "
            f"VALUES ({', '.join([mark] * len(columns))})"
            for name, (columns, _) in written.items()
        }
        with rt.engine.connect() as connection:
            dbapi: Any = connection.connection.dbapi_connection
            started = time.perf_counter()
            for part in parts:
                cursor = dbapi.cursor()
                if backend == "sqlite":
                    cursor.execute("BEGIN")
                for name, rows in part.items():
                    if rows:
                        cursor.executemany(statements[name], rows)
                dbapi.commit()
                cursor.close()
            seconds = time.perf_counter() - started
        return seconds, {name: len(rows) for name, (_, rows) in written.items()}
    finally:
        rt.close()


def _by_chunk(
    written: dict[str, tuple[list[str], list[Any]]], chunk: int
) -> list[dict[str, list[Any]]]:
    """The rows split by chunk of leads: a lead's rows (by ``lead_id``) with it, the accounts
    its leads name before them, the rest (the rules version) with the first."""
    columns, leads = written["leads"]
    account_at = columns.index("account_id")
    chunk_of = {row[0]: n // chunk for n, row in enumerate(leads)}
    account_chunk: dict[Any, int] = {}
    for row in leads:
        if row[account_at] is not None:
            account_chunk.setdefault(row[account_at], chunk_of[row[0]])
    count = max(chunk_of.values(), default=0) + 1
    parts: list[dict[str, list[Any]]] = [{name: [] for name in written} for _ in range(count)]
    for name, (names, rows) in written.items():
        at = names.index("lead_id") if "lead_id" in names else None
        for row in rows:
            if name == "leads":
                number = chunk_of[row[0]]
            elif name == "accounts":
                number = account_chunk.get(row[0], 0)
            else:
                number = chunk_of.get(row[at], 0) if at is not None else 0
            parts[number][name].append(row)
    return parts
