"""The one rule of exported cells: text a spreadsheet could take for a formula is neutralised, every
other value is left as it is."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from leadops.cells import TRIGGERS, csv_cell, csv_row, write_xlsx_row
from tests.conftest import NOW

HOSTILE = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(1)", "\t=1+1", "\r=1+1"]
SAFE = ["", "株式会社サンプル", "taro@example.co.jp", "2026-11", "1+1", " =1", "(blank)", "'="]
NOT_TEXT: list[Any] = [None, 0, -5, -2.5, 3.25, Decimal("-1.5"), True, NOW, date(2026, 11, 23)]


def test_the_triggers_are_owasps_six() -> None:
    assert set(TRIGGERS) == {"=", "+", "-", "@", "\t", "\r"}


@pytest.mark.parametrize("text", HOSTILE, ids=repr)
def test_text_starting_like_a_formula_gets_a_leading_quote_in_csv(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", [f"{trigger}x" for trigger in TRIGGERS], ids=repr)
def test_every_trigger_alone_is_enough(text: str) -> None:
    assert csv_cell(text) == "'" + text
    assert csv_cell(text[0]) == "'" + text[0]


@pytest.mark.parametrize("text", SAFE, ids=repr)
def test_other_text_is_unchanged(text: str) -> None:
    assert csv_cell(text) == text


@pytest.mark.parametrize("value", NOT_TEXT, ids=repr)
def test_values_that_are_not_text_are_unchanged(value: Any) -> None:
    assert csv_cell(value) is value


def test_a_csv_row_judges_each_cell() -> None:
    assert csv_row(["-5", -5, None, "ok", "@me"]) == ["'-5", -5, None, "ok", "'@me"]


def test_xlsx_text_is_a_string_cell_and_numbers_and_dates_keep_their_types() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    write_xlsx_row(sheet, 1, [*HOSTILE, *SAFE])
    write_xlsx_row(sheet, 2, [-5, -2.5, 7, True, None, NOW.replace(tzinfo=None)])
    buffer = io.BytesIO()
    book.save(buffer)
    read = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert read is not None
    text = list(read.iter_rows(min_row=1, max_row=1))[0]
    # The exact text, no quote added (XML reads a carriage return back as a line feed).
    assert [cell.value or "" for cell in text] == [t.replace("\r", "\n") for t in HOSTILE + SAFE]
    assert {cell.data_type for cell in text if cell.value} == {"s"}
    assert [cell.quotePrefix for cell in text[: len(HOSTILE)]] == [True] * len(HOSTILE)
    assert not any(cell.quotePrefix for cell in text[len(HOSTILE) :])
    values = [cell.value for cell in list(read.iter_rows(min_row=2, max_row=2, max_col=6))[0]]
    assert values == [-5, -2.5, 7, True, None, datetime(2026, 11, 23, 9, 0)]
    assert isinstance(values[0], int)
    assert isinstance(values[1], float)


def test_xlsx_text_with_control_characters_is_written_with_a_replacement() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    write_xlsx_row(sheet, 1, ["株式会社\x01光和", "=\x0bSUM(1)", "tab\tand\nline"])
    assert [c.value for c in sheet[1]] == ["株式会社\ufffd光和", "=\ufffdSUM(1)", "tab\tand\nline"]
    assert [c.data_type for c in sheet[1]] == ["s", "s", "s"]
