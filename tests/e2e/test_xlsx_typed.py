"""XLSX downloads are typed for Excel, on both databases: numbers are numeric cells (rates with a
percent format, money in yen, counts with separators), times are date cells holding the configured
zone's wall clock to the second, dates date cells, booleans booleans, text text (formula-like text
quote-prefixed, never a formula); with ``?lang=`` the headers, sheet names and codes are in that
language, without it they are the report's keys. The lead list has the same typed download."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from openpyxl.cell import Cell
from sqlalchemy.orm import Session

from leadops.models import Lead
from leadops.reports import REPORTS, run_report
from leadops.reports.base import report_params
from leadops.runtime import Runtime
from tests.e2e.test_exports_inert import HOSTILE, TRIGGERS, hostile_history, inert_xlsx
from tests.webapp import build_org, signed_in

PERCENT = "0.0%"
YEN = '"¥"#,##0'
WALL_CLOCK = "yyyy-mm-dd hh:mm:ss"
#: Columns whose form is known, to check the formats by name (report, table, column).
FORMS = {
    ("pipeline", "pipeline", "amount"): YEN,
    ("revenue", "revenue", "won_amount"): YEN,
    ("funnel", "funnel", "from_first"): PERCENT,
    ("campaigns", "campaigns", "appointment_rate"): PERCENT,
    ("recycle-reasons", "recycle-reasons", "share"): PERCENT,
    ("dwell", "dwell", "mean_days"): "#,##0.0",
    ("campaign-months", "calendar_months", "leads"): "#,##0",
}


def book_of(answer: Any) -> Workbook:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    return inert_xlsx(answer.content)


def kind_of(value: Any, cell: Cell, runtime: Runtime, where: tuple[str, ...]) -> str | None:
    """Check one cell against the value the report holds; the kind of value it was."""
    if isinstance(value, bool):
        assert (cell.data_type, cell.value) == ("b", value), where
        return "bool"
    if isinstance(value, int | float):
        assert cell.data_type == "n", where
        assert cell.value == pytest.approx(value), where
        return "number"
    if isinstance(value, datetime):
        local = value.astimezone(runtime.settings.tz).replace(tzinfo=None, microsecond=0)
        assert cell.is_date, where
        assert (cell.number_format, cell.value) == (WALL_CLOCK, local), where
        return "time"
    if isinstance(value, date):
        assert cell.is_date, where
        assert (cell.number_format, cell.value.date()) == ("yyyy-mm-dd", value), where
        return "date"
    if isinstance(value, str):
        assert cell.data_type == "s", where
        if value.startswith(TRIGGERS):
            assert cell.quotePrefix, where
        return "text"
    return None


def test_every_report_as_xlsx_keeps_each_cell_s_type(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    hostile_history(client, runtime, session)
    seen: set[str] = set()
    for name in sorted(REPORTS):
        book = book_of(client.get(f"/api/v1/reports/{name}", params={"format": "xlsx"}))
        params = report_params(
            None, None, "month", "period", runtime.settings.tz, runtime.clock.now()
        )
        with runtime.factory() as fresh:
            result = run_report(fresh, name, params)
        tables = [(name, result.columns, result.rows)]
        tables += [(key, s["columns"], s["rows"]) for key, s in result.sections.items()]
        assert book.sheetnames == [t[0][:31] for t in tables]
        for table, columns, rows in tables:
            sheet = book[table[:31]]
            assert [c.value for c in sheet[1]] == columns  # no lang: the keys, as in the CSV
            for number, row in enumerate(rows, start=2):
                for index, (column, value) in enumerate(zip(columns, row, strict=True), start=1):
                    cell = sheet.cell(row=number, column=index)
                    where = (name, table, column, cell.coordinate)
                    seen |= {kind} if (kind := kind_of(value, cell, runtime, where)) else set()
                    form = FORMS.get((name, table, column))
                    if form and value is not None:
                        assert cell.number_format == form, where
    assert seen == {"bool", "number", "time", "date", "text"}


def test_a_report_as_xlsx_in_japanese_has_labels_and_words(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    hostile_history(client, runtime, session)
    book = book_of(client.get("/api/v1/reports/pipeline?format=xlsx&lang=ja"))
    assert book.sheetnames[0] == "パイプライン"
    headers = [c.value for c in book["パイプライン"][1]]
    assert "金額" in headers
    assert "amount" not in headers
    status = book_of(client.get("/api/v1/reports/status-board?format=xlsx&lang=ja"))
    assert status.sheetnames == ["ステータスボード", "タッチステージ"]
    english = book_of(client.get("/api/v1/reports/pipeline?format=xlsx&lang=en"))
    assert "Amount" in [c.value for c in english.worksheets[0][1]]
    refused = client.get("/api/v1/reports/pipeline?format=xlsx&lang=fr")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["path"].split(".")[-1] == "lang"


def test_the_lead_list_as_xlsx_is_typed_and_labelled(runtime: Runtime, session: Session) -> None:
    org = build_org(session, runtime, leads=3)
    created = runtime.clock.now() - timedelta(days=2, microseconds=123_456)
    for lead_id, company in zip(org.leads, HOSTILE, strict=False):
        lead = session.get_one(Lead, lead_id)
        lead.company, lead.created_at = company, created
    session.commit()
    client = signed_in(runtime, org.users["manager"])
    page = client.get("/leads?lang=ja").text
    assert 'href="/leads.xlsx?' in page
    report = client.get("/reports/pipeline?lang=ja").text
    assert "format=xlsx&amp;lang=ja" in report  # the page's download speaks the page's language
    book = book_of(client.get("/leads.xlsx?lang=ja&sort=company"))
    assert book.sheetnames == ["リード"]
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["ID", "タッチステージ", "会社名"]
    column = {h: i for i, h in enumerate(headers)}
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 3
    local = created.astimezone(runtime.settings.tz).replace(tzinfo=None, microsecond=0)
    for row in rows:
        ident = row[column["ID"]]
        assert (ident.data_type, ident.number_format) == ("n", "0")
        assert ident.value in org.leads
        assert row[column["スコア"]].data_type == "n"
        when = row[column["作成日時"]]
        assert when.is_date
        assert (when.number_format, when.value) == (WALL_CLOCK, local)
        assert row[column["会社名"]].data_type == "s"
        assert row[column["タッチステージ"]].value != "untouched"  # a word, not the code
    companies = {r[column["会社名"]].value for r in rows}
    assert companies == set(HOSTILE[:3])
