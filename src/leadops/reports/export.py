"""A report as CSV or XLSX (the main table, then each section under its name), every cell inert
(``leadops.cells``: no text is ever taken for a formula)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from leadops.cells import csv_row, write_xlsx_row
from leadops.reports.base import ReportResult


def _tables(result: ReportResult) -> list[tuple[str, list[str], list[list[Any]]]]:
    tables = [(result.name, result.columns, result.rows)]
    tables += [(name, s["columns"], s["rows"]) for name, s in result.sections.items()]
    return tables


def _csv_cell(value: Any) -> Any:
    """A time as its wall clock to the second (the report's zone once localized): a spreadsheet
    reads ``2026-11-30 18:03:39`` as a date and time; ``…18:03:39.050887+09:00`` as text."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def to_csv(result: ReportResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for index, (name, columns, rows) in enumerate(_tables(result)):
        if index:
            writer.writerow([])
            writer.writerow([f"# {name}"])
        writer.writerow(csv_row(columns))
        writer.writerows(csv_row(_csv_cell(v) for v in row) for row in rows)
    return out.getvalue()


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return str(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(
            tzinfo=None
        )  # Excel has no time zones: the wall time of the report's zone
    return value


def to_xlsx(result: ReportResult) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for index, (name, columns, rows) in enumerate(_tables(result)):
        if index:
            sheet = book.create_sheet()
        sheet.title = name[:31]
        write_xlsx_row(sheet, 1, columns)
        for number, row in enumerate(rows, start=2):
            write_xlsx_row(sheet, number, [_xlsx_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
