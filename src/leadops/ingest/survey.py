"""The first pass over a file, before anything is written: the order of each date column, and the
rows that are one lead.

The file is on disk, so it is read twice: once here, then in chunks by the importer. What this
pass learns is small (a few notes, and the row numbers of leads the file has more than once).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from leadops.ingest.dates import ColumnSurvey, DateColumns, fallback_order
from leadops.ingest.mappings import DATE_FIELDS, Mapping, Plan
from leadops.ingest.readers import Row
from leadops.normalize import normalize_email


@dataclass(frozen=True)
class FileReading:
    """How the importer reads this file's rows."""

    mapping: Mapping
    plan: Plan
    dates: DateColumns
    notes: tuple[str, ...] = ()
    #: An earlier row of a lead the file has again → the lead's last row, which takes it in.
    later: dict[int, int] = field(default_factory=dict)
    #: A lead's last row → every row of that lead, in the file's order.
    groups: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def field_of(self, column: str) -> str:
        """The field a column feeds (the column's own name if it feeds none)."""
        return next((f for f, c in self.plan.fields.items() if c == column), column)


def lead_key(row: Row, mapping: Mapping, plan: Plan) -> tuple[str, str] | None:
    """Who a lead row is: its e-mail (normalized), else its id in the source system."""
    email = mapping.blank(row.data.get(plan.column_of("email") or ""))
    if email is not None:
        try:
            return ("email", normalize_email(str(email)))
        except ValueError:
            return None
    external = mapping.blank(row.data.get(plan.column_of("external_id") or ""))
    if external is not None and str(external).strip():
        return ("id", str(external).strip())
    return None


def survey_file(
    rows: Iterable[Row], kind: str, mapping: Mapping, plan: Plan, date_order: str | None
) -> FileReading:
    """Read every row once: the date columns' orders (and a note for each), and for leads the rows
    that name the same person."""
    columns = [c for f in DATE_FIELDS[kind] if (c := plan.column_of(f))]
    surveys = {c: ColumnSurvey(c) for c in columns}
    rows_of: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        if row.error:
            continue
        for column, survey in surveys.items():
            survey.add(row.number, row.data.get(column))
        if kind == "leads" and (key := lead_key(row, mapping, plan)) is not None:
            rows_of.setdefault(key, []).append(row.number)
    fallback = fallback_order(date_order)
    orders: dict[str, str] = {}
    notes: list[str] = []
    for column, survey in surveys.items():
        orders[column], note = survey.decide(fallback)
        if note:
            notes.append(note)
    groups = {numbers[-1]: tuple(numbers) for numbers in rows_of.values() if len(numbers) > 1}
    later = {n: last for last, numbers in groups.items() for n in numbers[:-1]}
    return FileReading(mapping, plan, DateColumns(orders), tuple(notes), later, groups)
