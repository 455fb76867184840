"""Exports are inert: text a spreadsheet could run as a formula comes out of every export
neutralised (the leads list, every report as CSV and as XLSX, an import's rejected rows on the web
and from the CLI), and numbers stay numbers. Hostile names, companies, sources, e-mails, owners,
campaigns, stages and reasons are put where each export shows them."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from leadops.cli import app
from leadops.ingest.importer import run_import
from leadops.ingest.mappings import resolve_mapping
from leadops.models import Campaign, CampaignMember, Lead, Opportunity, Task, User
from leadops.reports import REPORTS
from leadops.runtime import Runtime
from tests.factories import force_state
from tests.webapp import build_org, signed_in

HOSTILE = ('=HYPERLINK("http://evil")', "@SUM(1)", "+1+1", "-2+3", "\t=1+1", "\r=1+1")
#: The rule restated here rather than imported, so that the tests do not trust the code they test.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?(e[+-]?\d+)?")
runner = CliRunner()


def emails() -> list[str]:
    """Valid addresses that start like formulas (``=``, ``+`` and ``-`` may begin a local part)."""
    return [f"{'=+-'[i % 3]}{i}+1@evil.co.jp" for i in range(len(HOSTILE))]


def inert_csv(text: str) -> list[list[str]]:
    """The rows of a CSV, each cell checked: no cell starts like a formula unless it is a number."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    live = [c for row in rows for c in row if c.startswith(TRIGGERS) and not NUMBER.fullmatch(c)]
    assert live == []
    return rows


def inert_xlsx(content: bytes) -> Workbook:
    """The workbook, each cell checked: no formula, formula-like text quote-prefixed."""
    book = load_workbook(io.BytesIO(content))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith(TRIGGERS):
                    assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
    return book


def hostile_in(report: dict[str, Any]) -> set[str]:
    """The formula-like texts a report (as JSON) shows, in any of its tables."""
    tables = [report["rows"], *(s["rows"] for s in report["sections"].values())]
    return {
        value
        for rows in tables
        for row in rows
        for value in row.values()
        if isinstance(value, str) and value.startswith(TRIGGERS)
    }


def hostile_leads(client: TestClient, session: Session) -> list[Lead]:
    """A lead per hostile text, as its company, names and source, with a hostile e-mail, through
    the API; the API trims a leading tab or CR, so those values are also written as they would
    arrive from elsewhere (a CRM sync, an older version)."""
    for text, email in zip(HOSTILE, emails(), strict=True):
        fields = {"company": text, "last_name": text, "first_name": text, "source": text}
        assert client.put("/api/v1/leads", json={"email": email, **fields}).status_code == 201
    leads = list(session.scalars(select(Lead).order_by(Lead.id)))
    for lead, text in zip(leads, HOSTILE, strict=True):
        lead.company = lead.last_name = lead.first_name = lead.source = text
    session.commit()
    return leads


def hostile_history(client: TestClient, runtime: Runtime, session: Session) -> None:
    """Hostile text in every place a report shows text: leads (new-leads, sources, dwell), a score
    jump, campaigns with members (and a negative difference from their type's mean), an owner
    (status-board, dwell, tasks), a recycle reason and a CRM's own deal stage (pipeline)."""
    now = runtime.clock.now()
    leads = hostile_leads(client, session)
    for lead, text in zip(leads, HOSTILE, strict=True):
        signup = {"email": lead.email, "type": "trial_signup", "campaign": text}
        signup["occurred_at"] = (now - timedelta(hours=1)).isoformat()
        assert client.post("/api/v1/activities", json={"activities": [signup]}).status_code == 200
    owner = User(
        email="-1+1@evil.co.jp",
        name=HOSTILE[0],
        role="member",
        active=True,
        routing_weight=1.0,
        locale="en",
        created_at=now,
    )
    session.add(owner)
    session.flush()
    for number, (lead, text) in enumerate(zip(leads, HOSTILE, strict=True)):
        session.add(Task(lead_id=lead.id, owner_id=owner.id, subject=text, created_at=now))
        session.add(
            Opportunity(
                lead_id=lead.id,
                stage=text,
                amount=1000.0 * number,
                created_at=now - timedelta(days=2),
                stage_changed_at=now - timedelta(days=2),
            )
        )
        force_state(session, lead, owner_id=owner.id)
    campaign = session.scalars(select(Campaign).order_by(Campaign.id)).first()
    assert campaign is not None
    for lead in leads[:3]:  # one campaign with members, the others below their type's mean
        session.add(
            CampaignMember(campaign_id=campaign.id, lead_id=lead.id, status="sent", created_at=now)
        )
    session.commit()
    for lead, text in zip(leads, HOSTILE, strict=True):
        recycled = client.post(
            f"/api/v1/leads/{lead.id}/status", json={"status": "recycled", "reason": text}
        )
        assert recycled.status_code == 200, recycled.text


def numbers_kept(book: Workbook, report: dict[str, Any]) -> list[float]:
    """Check that each number of the report (as JSON) is a number in its XLSX cell and each
    formula-like text is that text in a string cell; the negative numbers seen."""
    negative: list[float] = []
    tables = [(report["report"], report), *report["sections"].items()]
    for name, table in tables:
        sheet = book[name[:31]]
        assert [c.value for c in sheet[1]] == table["columns"]
        for number, row in enumerate(table["rows"], start=2):
            for column, key in enumerate(table["columns"], start=1):
                value, cell = row[key], sheet.cell(row=number, column=column)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    assert isinstance(cell.value, int | float), (name, cell.coordinate)
                    assert cell.value == pytest.approx(value)
                    negative += [value] if value < 0 else []
                elif isinstance(value, str) and value.startswith(TRIGGERS):
                    assert (cell.data_type, cell.value) == ("s", value.replace("\r", "\n"))
    return negative


def test_every_report_is_inert_as_csv_and_as_xlsx(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    hostile_history(client, runtime, session)
    reached: set[str] = set()
    negative: dict[str, list[float]] = {}
    for name in sorted(REPORTS):
        report = client.get(f"/api/v1/reports/{name}").json()
        shown = hostile_in(report)
        reached |= {name} if shown else set()
        answer = client.get(f"/api/v1/reports/{name}", params={"format": "csv"})
        assert answer.status_code == 200, (name, answer.text)
        cells = {cell for row in inert_csv(answer.text) for cell in row}
        assert {f"'{text}" for text in shown} <= cells, name
        xlsx = client.get(f"/api/v1/reports/{name}", params={"format": "xlsx"})
        assert xlsx.status_code == 200, (name, xlsx.text)
        negative[name] = numbers_kept(inert_xlsx(xlsx.content), report)
        assert {str(n) for n in negative[name]} <= cells, name  # and plain numbers in the CSV
    listing = {"campaigns", "dwell", "new-leads", "pipeline", "recycle-reasons", "score-jumps"}
    assert reached >= listing | {"sources", "status-board", "tasks"}
    assert negative["campaigns"], "a campaign below its type's mean has a negative difference"


def test_the_leads_list_csv_is_inert(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    org = build_org(session, runtime, leads=0)
    hostile_leads(client, session)
    export = signed_in(runtime, org.users["admin"]).get("/leads.csv?sort=company")
    assert export.status_code == 200
    rows = inert_csv(export.text)
    header, body = rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert "Company" in header  # the headers are labels in the reader's language (here English)
    assert sorted(r["Company"] for r in body) == sorted(f"'{text}" for text in HOSTILE)
    assert {r["Last name"] for r in body} == {f"'{text}" for text in HOSTILE}
    assert {r["E-mail"] for r in body} == {f"'{email}" for email in emails()}
    assert all(NUMBER.fullmatch(r["ID"]) and NUMBER.fullmatch(r["Score"]) for r in body)


def hostile_import(runtime: Runtime, tmp_path: Path) -> int:
    """An import whose every row is rejected (no valid e-mail) and carries hostile cells, under a
    hostile column name too."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "company", "last_name", "employees", "@note"])
    writer.writerows([text, text, text, "-5", "note"] for text in HOSTILE)
    path = tmp_path / "hostile.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    summary = run_import(
        "leads",
        path,
        resolve_mapping(None, "leads"),
        runtime.factory,
        runtime.settings,
        runtime.clock,
    )
    assert (summary.taken, summary.rejected) == (0, len(HOSTILE))
    assert summary.job_id is not None
    return summary.job_id


def raw_cells(rows: list[list[str]]) -> list[list[str]]:
    """The company, last name and employees cells of each rejected row (the raw columns come in
    the order the database keeps a JSON object's keys)."""
    header = rows[0]
    assert [h.lower() for h in header[:3]] == ["row", "field", "error"]
    assert "'@note" in header
    picked = [header.index(c) for c in ("company", "last_name", "employees")]
    return [[row[i] for i in picked] for row in rows[1:]]


def test_rejected_rows_are_inert_on_the_web_and_from_the_cli(
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    runtime: Runtime,
    session: Session,
) -> None:
    org = build_org(session, runtime, leads=0)
    job = hostile_import(runtime, tmp_path)
    expected = [[f"'{text}", f"'{text}", "'-5"] for text in HOSTILE]  # a file's cells are text
    web = signed_in(runtime, org.users["marketing"]).get(f"/import/jobs/{job}/rejects.csv")
    assert web.status_code == 200
    assert raw_cells(inert_csv(web.text)) == expected
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    out = tmp_path / "rejects.csv"
    result = runner.invoke(app, ["import", "rejects", str(job), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig", newline="") as written:  # a CR in a cell stays a CR
        assert raw_cells(inert_csv(written.read())) == expected
