"""A report's XLSX cell by cell, without a database: each kind of value keeps its type and gets
the number format its column says; a formula-like text stays text; sheet names are ones Excel
accepts."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from leadops.reports.base import ReportResult
from leadops.reports.export import sheet_title, to_xlsx

TOKYO = ZoneInfo("Asia/Tokyo")
COLUMNS = ["lead_id", "name", "leads", "won_rate", "amount", "mean_days", "at", "on", "open"]
ROW = [
    42_001,
    "=HYPERLINK(1)",
    1234,
    0.2484,
    Decimal("1500000.00"),
    2.25,
    datetime(2026, 11, 30, 9, 3, 39, 50_887, tzinfo=UTC),
    date(2026, 11, 1),
    True,
]


def test_each_kind_of_value_is_its_own_kind_of_cell() -> None:
    result = ReportResult("pipeline", COLUMNS, [ROW, [None] * len(COLUMNS)], "definition")
    result.sections["by/stage: [all]?"] = {"columns": ["stage", "share"], "rows": [["new", 0.5]]}
    labels = {"pipeline": "パイプライン", "leads": "リード数"}
    content = to_xlsx(result, tz=TOKYO, label=lambda k: labels.get(k, k), word=str.upper)
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["パイプライン", "by stage   all"]
    sheet = book["パイプライン"]
    assert sheet.freeze_panes == "A2"  # the headers stay in view
    assert all(c.font.b for c in sheet[1])
    assert sheet.column_dimensions["G"].width == 21  # a time's 19 characters, and a margin
    assert [c.value for c in sheet[1]][:3] == ["lead_id", "name", "リード数"]
    cells = dict(zip(COLUMNS, sheet[2], strict=True))
    assert (cells["lead_id"].data_type, cells["lead_id"].number_format) == ("n", "0")
    assert (cells["name"].data_type, cells["name"].value) == ("s", "=HYPERLINK(1)")
    assert cells["name"].quotePrefix
    assert (cells["leads"].value, cells["leads"].number_format) == (1234, "#,##0")
    assert (cells["won_rate"].value, cells["won_rate"].number_format) == (0.2484, "0.0%")
    assert (cells["amount"].value, cells["amount"].number_format) == (1_500_000, '"¥"#,##0')
    assert cells["amount"].data_type == "n"
    assert cells["mean_days"].number_format == "#,##0.0"
    assert cells["at"].is_date
    assert (cells["at"].value, cells["at"].number_format) == (
        datetime(2026, 11, 30, 18, 3, 39),
        "yyyy-mm-dd hh:mm:ss",
    )
    assert cells["on"].is_date
    assert cells["on"].number_format == "yyyy-mm-dd"
    assert (cells["open"].data_type, cells["open"].value) == ("b", True)
    assert all(c.value is None for c in sheet[3])
    share = book["by stage   all"]["B2"]
    assert (share.value, share.number_format) == (0.5, "0.0%")
    assert book["by stage   all"]["A2"].value == "NEW"  # a code through ``word``


def test_without_labels_the_headers_are_the_keys() -> None:
    book = load_workbook(io.BytesIO(to_xlsx(ReportResult("funnel", COLUMNS, [ROW], "d"))))
    assert book.sheetnames == ["funnel"]
    assert [c.value for c in book["funnel"][1]] == COLUMNS
    assert book["funnel"]["B2"].value == "=HYPERLINK(1)"


def test_sheet_names_excel_accepts() -> None:
    taken: set[str] = set()
    long = "x" * 40
    assert sheet_title(long, taken) == "x" * 31
    assert sheet_title(long, taken) == "x" * 27 + " (2)"
    assert sheet_title("a/b", taken) == "a b"
    assert sheet_title("A B", taken) == "A B (2)"  # Excel compares names without case
    assert sheet_title("[]", taken) == "sheet"


def test_control_characters_xml_cannot_hold_are_shown_as_a_replacement() -> None:
    result = ReportResult("sources", ["source"], [["株式会社\x01光和"], ["=\x0bSUM(1)"]], "d")
    sheet = load_workbook(io.BytesIO(to_xlsx(result))).worksheets[0]
    assert [sheet["A2"].value, sheet["A3"].value] == ["株式会社\ufffd光和", "=\ufffdSUM(1)"]
    assert sheet["A3"].data_type == "s"
    assert sheet["A3"].quotePrefix
