"""Spreadsheet cells that cannot run: the one rule every CSV and XLSX export applies.

A spreadsheet reads a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and a leading
tab or carriage return can hide such a start), so a lead named ``=HYPERLINK("http://evil")`` would
become a live link in whoever opens the export (OWASP, "CSV Injection"). Only text is ever judged:
numbers, dates, booleans and None are written as the values they are, so ``-5`` stays the number
-5 while the text ``"-5"`` or a phone number ``"+81 3 …"`` is neutralised like any other text.

- **CSV** has no cell types, so a text that starts with one of those characters gets a leading
  ``'`` (OWASP's advice): the spreadsheet shows it as text, ``'`` included.
- **XLSX** has cell types: text is stored as a string cell, never a formula, so it is not
  evaluated and keeps its exact value (no visible ``'``; reading the file back gives the text that
  was written). A text that starts with one of those characters also gets the cell's quote-prefix
  flag, which is what Excel itself stores when a user types a leading ``'``: editing the cell keeps
  it text instead of turning it into a formula.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from openpyxl.cell import WriteOnlyCell

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet
    from openpyxl.worksheet.worksheet import Worksheet

#: What a spreadsheet may take as the start of a formula.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Control characters XML (and so XLSX) cannot hold; shown as U+FFFD in a spreadsheet cell.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def is_formula_like(value: object) -> bool:
    """Whether ``value`` is text a spreadsheet could take for a formula."""
    return isinstance(value, str) and value.startswith(TRIGGERS)


def csv_cell(value: Any) -> Any:
    """``value`` for a CSV cell: a formula-like text with a leading ``'``, anything else as is."""
    return f"'{value}" if is_formula_like(value) else value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a CSV row through :func:`csv_cell`."""
    return [csv_cell(value) for value in values]


def write_xlsx_row(sheet: Worksheet, row: int, values: Iterable[Any]) -> None:
    """Write ``values`` into ``row`` (1-based) of ``sheet``, from its first column: text as string
    cells (openpyxl would make a formula of a text starting with ``=``), formula-like text also
    quote-prefixed, control characters XML cannot hold shown as U+FFFD (the database keeps the
    text as it came); numbers, dates, booleans and None keep their types."""
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=column)
        cell.value = NOT_IN_XML.sub("\ufffd", value) if isinstance(value, str) else value
        if isinstance(value, str):
            cell.data_type = "s"
            if is_formula_like(value):
                cell.quotePrefix = True


def xlsx_cells(sheet: WriteOnlyWorksheet, values: Iterable[Any]) -> list[WriteOnlyCell]:
    """``values`` as the cells of a row of a write-only ``sheet`` (a workbook written as it goes,
    for long exports), under the rule of :func:`write_xlsx_row`."""
    cells = []
    for value in values:
        text = isinstance(value, str)
        cell = WriteOnlyCell(sheet, value=NOT_IN_XML.sub("\ufffd", value) if text else value)
        if text:
            cell.data_type = "s"
            if is_formula_like(value):
                cell.quotePrefix = True
        cells.append(cell)
    return cells


#: The encodings a CSV export is written in: UTF-8 with a byte-order mark (Excel then reads it as
#: Unicode), or Shift_JIS as Excel in Japan writes it (Windows code page 932) for older tools.
CSV_ENCODINGS = {"utf-8": "utf-8", "shift_jis": "cp932"}
CSV_CHARSETS = {"utf-8": "utf-8", "shift_jis": "Shift_JIS"}


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    """A CSV file's bytes: UTF-8 with a BOM, or Shift_JIS with every character it cannot hold
    replaced by ``?`` (an export is never refused for one character)."""
    if encoding == "shift_jis":
        return text.encode(CSV_ENCODINGS[encoding], errors="replace")
    return ("\ufeff" + text.removeprefix("\ufeff")).encode("utf-8")


def csv_time(value: Any, tz: tzinfo) -> Any:
    """A time as the wall clock of ``tz`` to the second (no microseconds, no offset: a spreadsheet
    reads ``2026-11-30 18:03:39`` as a date and time); any other value as it is."""
    if isinstance(value, datetime):
        local = value.astimezone(tz) if value.tzinfo is not None else value
        return local.strftime("%Y-%m-%d %H:%M:%S")
    return value
