"""A file import writes set-based: the statements a chunk sends the database do not grow with its
rows (no per-row round trip), while every row still gets its lead, account, events, ledger lines,
assignment and notification."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from leadops.ingest.importer import run_import
from leadops.ingest.mappings import default_mapping
from leadops.models import Lead, LeadAssignment, LeadEvent, Notification, ScoreLedger
from leadops.routing.org import apply_org, parse_org
from leadops.runtime import Runtime
from tests.conftest import NOW
from tests.integration.test_cadence import ORG

HEADER = "email,last_name,first_name,company,title,phone,prefecture,source,employees,予算\n"


def write_file(path: Path, first: int, count: int) -> Path:
    """``count`` new leads, three to a company, each with a phone and a custom column."""
    lines = [HEADER]
    for n in range(first, first + count):
        company = n // 3
        lines.append(
            f"lead{n}@company{company}.co.jp,佐藤,太郎{n},株式会社テスト{company},部長,"
            f"03-{1000 + n % 9000}-{2000 + n % 7000},大阪府,展示会,{(8, 120, 3500)[n % 3]},"
            f"{n}万円\n"
        )
    path.write_text("".join(lines), encoding="utf-8")
    return path


def statements_of_import(runtime: Runtime, path: Path) -> list[str]:
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        summary = run_import(
            "leads",
            path,
            default_mapping("leads"),
            runtime.factory,
            runtime.settings,
            runtime.clock,
        )
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    assert (summary.taken, summary.rejected) == (summary.total, 0)
    return sent


def counted(runtime: Runtime, model: Any) -> int:
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_an_import_sends_as_many_statements_for_many_rows_as_for_few(
    runtime: Runtime, tmp_path: Path
) -> None:
    with runtime.factory() as session, session.begin():
        apply_org(session, parse_org(ORG), now=NOW, tz=runtime.settings.tz)
    few = statements_of_import(runtime, write_file(tmp_path / "few.csv", 0, 30))
    many = statements_of_import(runtime, write_file(tmp_path / "many.csv", 30, 300))
    # One chunk each: a tenfold file costs the same statements (leads and accounts inserted in one
    # executemany, not one INSERT … RETURNING each).
    assert len(many) <= len(few) + 2, sorted(set(many) - set(few))
    inserts = [s for s in many if s.lstrip().upper().startswith("INSERT INTO LEADS ")]
    assert len(inserts) == 1
    assert "RETURNING" not in inserts[0].upper()
    # And all of the work was done: every lead has its account, its events, its fit lines, its
    # owner (with an assignment row) and its rep told.
    assert counted(runtime, Lead) == 330
    with runtime.factory() as session:
        leads = session.scalars(select(Lead).order_by(Lead.id)).all()
        assert all(lead.account_id is not None and lead.owner_id is not None for lead in leads)
        assert [lead.email for lead in leads[:2]] == [
            "lead0@company0.co.jp",
            "lead1@company0.co.jp",
        ]
        created = session.scalar(
            select(func.count()).select_from(LeadEvent).where(LeadEvent.kind == "created")
        )
        owners = session.scalar(
            select(func.count()).select_from(LeadEvent).where(LeadEvent.kind == "owner")
        )
    assert (created, owners) == (330, 330)
    assert counted(runtime, LeadAssignment) == 330
    assert counted(runtime, Notification) >= 330
    assert counted(runtime, ScoreLedger) > 0


def test_a_big_import_keeps_the_planner_statistics_of_the_tables_it_grows(
    runtime: Runtime, tmp_path: Path
) -> None:
    """On PostgreSQL, a table an import doubles is analyzed between its chunks (the identity
    lookups of the next chunk then use the keys' indexes instead of scanning every lead)."""
    sent = statements_of_import(runtime, write_file(tmp_path / "big.csv", 0, 1200))
    analyzed = sorted(s.split()[1] for s in sent if s.upper().startswith("ANALYZE"))
    postgres = runtime.engine.dialect.name == "postgresql"
    assert analyzed == (["accounts", "leads"] if postgres else [])
    if postgres:
        with runtime.engine.connect() as connection:
            tuples = connection.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE oid = 'leads'::regclass"
            ).scalar()
        assert tuples == 1200
    # A small one, on a table its statistics know, is left to autovacuum.
    again = statements_of_import(runtime, write_file(tmp_path / "small.csv", 5000, 100))
    assert not [s for s in again if s.upper().startswith("ANALYZE")]
