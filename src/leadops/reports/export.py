"""A report as CSV or XLSX (the main table, then each section under its name), every cell inert
(``leadops.cells``: no text is ever taken for a formula).

The CSV keeps the report's column keys and codes (as the JSON API does: machines read it). The XLSX
is typed for a person in Excel: numbers as numbers with their column's form (a ratio as a
percentage, money in yen, days with one decimal), times as date cells of the report's zone to the
second, booleans as booleans, text as text; given ``label`` and ``word`` (the reader's language),
its headers and sheet names are labels and its codes words."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, tzinfo
from decimal import Decimal
from itertools import chain, islice
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from leadops.cells import csv_row, xlsx_cells
from leadops.reports.base import ReportResult

#: Columns that hold a ratio (0.248 = 24.8 %), money (yen) or days, by their keys.
RATIO = re.compile(r"(^|_)(rate|share|compliance|probability|from_previous|from_first|attainment)$")
RATIO_COLUMNS = frozenset({"from_previous", "from_first", "from_new_leads", "from_open_leads"})
MONEY = re.compile(r"(^|_)(amount|cost|average_deal_size)$|^cost_per_")
DAYS = re.compile(r"(^|_)days|hours")

#: Excel number formats of the XLSX cells, by the kind of value.
PERCENT_FORMAT = "0.0%"
YEN_FORMAT = '"¥"#,##0'
DAYS_FORMAT = "#,##0.0"
COUNT_FORMAT = "#,##0"
ID_FORMAT = "0"
DECIMAL_FORMAT = "#,##0.00"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
#: What a sheet's name may not hold (Excel's rule), and its longest.
SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_LENGTH = 31
BOLD = Font(bold=True)

Words = Callable[[str], str]


def number_format(column: str, value: int | float) -> str:
    """The Excel number format of a number in the column ``column`` (an id without separators)."""
    if column == "id" or column.endswith("_id"):
        return ID_FORMAT
    if RATIO.search(column) or column in RATIO_COLUMNS:
        return PERCENT_FORMAT
    if MONEY.search(column):
        return YEN_FORMAT
    if isinstance(value, float):
        return DAYS_FORMAT if DAYS.search(column) else DECIMAL_FORMAT
    return COUNT_FORMAT


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


def xlsx_cell(column: str, value: Any, tz: tzinfo | None) -> tuple[Any, str | None]:
    """A value as an XLSX cell and its number format: a time as the wall clock of ``tz`` (Excel
    has no time zones) without microseconds, money and ratios as numbers in their form, a
    structure as its JSON text, anything else as it is."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value, None
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, int | float):
        return value, number_format(column, value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = (value.astimezone(tz) if tz is not None else value).replace(tzinfo=None)
        return value.replace(microsecond=0), DATETIME_FORMAT
    if isinstance(value, date):
        return value, DATE_FORMAT
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str), None
    return str(value), None


def sheet_title(text: str, taken: set[str]) -> str:
    """A sheet name Excel accepts: no ``[]:*?/\\``, at most 31 characters, unique in the book."""
    base = SHEET_FORBIDDEN.sub(" ", text).strip()[:SHEET_LENGTH] or "sheet"
    title, number = base, 2
    while title.lower() in taken:
        suffix = f" ({number})"
        title, number = base[: SHEET_LENGTH - len(suffix)] + suffix, number + 1
    taken.add(title.lower())
    return title


#: The rows a sheet's column widths are measured on (the rest are written as they come).
MEASURED_ROWS = 500


def _widths(columns: list[str], rows: list[list[Any]]) -> list[float]:
    widths = [len(c) for c in columns]
    for row in rows:
        for index, (value, form) in enumerate(row):
            shown = 19 if form == DATETIME_FORMAT else len(str(value if value is not None else ""))
            widths[index] = max(widths[index], shown)
    return [min(max(w + 2, 8), 60) for w in widths]


def _write_table(
    sheet: Any,
    columns: list[str],
    rows: Iterable[list[Any]],
    *,
    tz: tzinfo | None,
    label: Words | None,
    word: Words | None,
) -> None:
    """One table into a write-only sheet: widths from its first rows, the header row bold and
    frozen, then each row typed."""

    def typed(row: list[Any]) -> list[tuple[Any, str | None]]:
        cells = [xlsx_cell(c, v, tz) for c, v in zip(columns, row, strict=True)]
        return [(word(v) if word and isinstance(v, str) else v, f) for v, f in cells]

    stream = (typed(row) for row in rows)
    first = list(islice(stream, MEASURED_ROWS))
    headers = [label(c) if label else c for c in columns]
    for index, width in enumerate(_widths(headers, first), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    header = xlsx_cells(sheet, headers)
    for cell in header:
        cell.font = BOLD
    sheet.append(header)
    for row in chain(first, stream):
        cells = xlsx_cells(sheet, [v for v, _ in row])
        for cell, (_, form) in zip(cells, row, strict=True):
            if form is not None:
                cell.number_format = form
        sheet.append(cells)


def tables_xlsx(
    tables: Iterable[tuple[str, list[str], Iterable[list[Any]]]],
    *,
    tz: tzinfo | None = None,
    label: Words | None = None,
    word: Words | None = None,
) -> bytes:
    """A workbook of a sheet per (title, column keys, rows), written as it goes (a long lead list
    is never held as cells): its first row the headers (bold, frozen; ``label`` of each key, else
    the key), each cell typed (:func:`xlsx_cell`), each text through ``word`` if given."""
    book = Workbook(write_only=True)
    taken: set[str] = set()
    for title, columns, rows in tables:
        sheet = book.create_sheet(sheet_title(title, taken))
        _write_table(sheet, columns, rows, tz=tz, label=label, word=word)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_xlsx(
    result: ReportResult,
    *,
    tz: tzinfo | None = None,
    label: Words | None = None,
    word: Words | None = None,
) -> bytes:
    """The report as a workbook: a sheet per table (the report's, then each section's). Without
    ``label`` the headers and sheet names are the report's keys; without ``word`` the codes stay
    codes."""
    tables = [(label(n) if label else n, c, r) for n, c, r in _tables(result)]
    return tables_xlsx(tables, tz=tz, label=label, word=word)
