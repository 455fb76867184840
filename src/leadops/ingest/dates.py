"""All-number dates read by column: one order for the whole column, never two.

An all-number date with the year last (``26-6-2018``, ``2/5/24 1:51``, ``02.07.2018``) is day
first or month first. A column's order comes from its values: a first part above 12 is a day
(``26-6-2018``), a second part above 12 a day too (``6/26/2018``). When values of one column
disagree, the order most of them show is used; when none decides, the mapping's or the settings'
``date_order`` (``dmy`` reads day first, anything else month first). A value the column's order
cannot read is not read the other way: the importer flags its row and leaves the date empty.

Two-digit years follow Python's ``%y`` (POSIX): 69-99 are 1969-1999, 00-68 are 2000-2068.
Other dates (``2024/04/01``, ISO 8601, ``2024年4月1日``, ``令和6年4月1日``) are left to the usual
parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from leadops.normalize import nfkc

_YEAR_LAST = re.compile(
    r"^(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<y>\d{4}|\d{2})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?\s*(?P<ampm>[ap]\.?m\.?)?)?$",
    re.IGNORECASE,
)
#: Two-digit years below this are 20xx, the others 19xx (as Python's and POSIX's ``%y``).
PIVOT = 69
ORDER_NAMES = {"dmy": "day first (D/M/Y)", "mdy": "month first (M/D/Y)"}
#: How many rows a note lists before it says "and N more".
SHOWN = 8


def _parts(value: object) -> re.Match[str] | None:
    return _YEAR_LAST.match(nfkc(value).strip()) if isinstance(value, str) else None


def year_of(text: str) -> int:
    year = int(text)
    if len(text) == 4:
        return year
    return year + (1900 if year >= PIVOT else 2000)


def read_year_last(match: re.Match[str], order: str) -> str:
    """The date as ISO text (naive: in the settings' time zone), or ValueError."""
    a, b = int(match["a"]), int(match["b"])
    day, month = (a, b) if order == "dmy" else (b, a)
    hour, minute, second = int(match["H"] or 0), int(match["M"] or 0), int(match["S"] or 0)
    if match["ampm"]:
        hour = hour % 12 + (12 if match["ampm"].lower().startswith("p") else 0)
    at = datetime(year_of(match["y"]), month, day, hour, minute, second)  # noqa: DTZ001 - naive on purpose
    return at.isoformat()


def _rows(numbers: list[int]) -> str:
    listed = ", ".join(str(n) for n in numbers[:SHOWN])
    more = len(numbers) - SHOWN
    return listed + (f" and {more} more" if more > 0 else "")


@dataclass
class ColumnSurvey:
    """What the values of one date column say about their order."""

    column: str
    day_first: list[tuple[int, str]] = field(default_factory=list)
    month_first: list[tuple[int, str]] = field(default_factory=list)
    undecided: list[int] = field(default_factory=list)

    def add(self, row: int, value: object) -> None:
        match = _parts(value)
        if match is None:
            return
        a, b = int(match["a"]), int(match["b"])
        if a > 12 >= b:
            self.day_first.append((row, str(value)))
        elif b > 12 >= a:
            self.month_first.append((row, str(value)))
        else:
            self.undecided.append(row)

    def decide(self, fallback: str) -> tuple[str, str | None]:
        """The column's order and a note saying why (None for a column with no such dates)."""
        days, months = len(self.day_first), len(self.month_first)
        name = repr(self.column)
        if days and months:
            order = "dmy" if days > months else "mdy" if months > days else fallback
            minority = self.month_first if order == "dmy" else self.day_first
            return order, (
                f"column {name}: {days} dates are day first and {months} month first; all are "
                f"read {ORDER_NAMES[order]}, and rows {_rows([r for r, _ in minority])} cannot "
                "be read so (flagged, left empty)"
            )
        if days or months:
            order = "dmy" if days else "mdy"
            row, value = (self.day_first or self.month_first)[0]
            return order, f"column {name}: dates read {ORDER_NAMES[order]} ({value} on row {row})"
        if self.undecided:
            return fallback, (
                f"column {name}: no date says whether it is day or month first (rows "
                f"{_rows(self.undecided)}); read {ORDER_NAMES[fallback]} by date_order — set "
                f"date_order: {'mdy' if fallback == 'dmy' else 'dmy'} in a mapping if that is wrong"
            )
        return fallback, None


def fallback_order(date_order: str | None) -> str:
    """How an undecided column is read: ``dmy`` day first, anything else month first."""
    return "dmy" if date_order == "dmy" else "mdy"


@dataclass(frozen=True)
class DateColumns:
    """The order decided for each date column of a file."""

    orders: dict[str, str]

    def rewrite(self, data: dict[str, object]) -> tuple[dict[str, object], dict[str, str]]:
        """The row with its all-number dates as ISO text, and the columns whose value the
        column's order cannot read (column → why); those are left out of the row."""
        problems: dict[str, str] = {}
        out = data
        for column, order in self.orders.items():
            match = _parts(data.get(column))
            if match is None:
                continue
            if out is data:
                out = dict(data)
            try:
                out[column] = read_year_last(match, order)
            except ValueError:
                del out[column]
                problems[column] = (
                    f"{data[column]!r} is not a date when read {ORDER_NAMES[order]}, as the "
                    "column's dates are"
                )
        return out, problems
