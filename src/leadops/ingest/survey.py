"""The first pass over a file, before anything is written: the order of each date column, and the
rows that are one lead.

The file is on disk, so it is read twice: once here, then in chunks by the importer. What this
pass learns is small (a few notes, and the row numbers of leads the file has more than once:
rows that ``identity`` would take for one lead — the same e-mail or source id, a phone with the
same name, or a name with company where nothing contradicts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from leadops.ingest.dates import ColumnSurvey, DateColumns, fallback_order
from leadops.ingest.identity import Keys, same_lead_groups
from leadops.ingest.mappings import DATE_FIELDS, Mapping, Plan
from leadops.ingest.readers import Row
from leadops.matching import name_key, normalize_phone, person_key
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


def lead_keys(row: Row, mapping: Mapping, plan: Plan) -> Keys:
    """Who a lead row is, as ``identity`` matches leads: its e-mail (normalized), its id in the
    source system, its phone's key, its name and its name with its company."""

    def given(name: str) -> str | None:
        value = mapping.blank(row.data.get(plan.column_of(name) or ""))
        return str(value).strip() or None if value is not None else None

    email = given("email")
    try:
        email = normalize_email(email) if email else None
    except ValueError:
        email = None
    external = given("external_id")
    phone = given("phone")
    try:
        phone_key = normalize_phone(phone) if phone else None
    except ValueError:
        phone_key = None
    last, first = given("last_name"), given("first_name")
    if last is None and first is None:
        last = given("full_name")
    company = given("company")
    return Keys(
        email=email,
        crm=(mapping.source_system or "import", external) if external else None,
        phone=phone_key,
        person=person_key(last, first),
        name=name_key(last, first, company),
    )


def survey_file(
    rows: Iterable[Row], kind: str, mapping: Mapping, plan: Plan, date_order: str | None
) -> FileReading:
    """Read every row once: the date columns' orders (and a note for each), and for leads the rows
    that name the same person."""
    columns = [c for f in DATE_FIELDS[kind] if (c := plan.column_of(f))]
    surveys = {c: ColumnSurvey(c) for c in columns}
    numbers: list[int] = []
    keys: list[Keys] = []
    for row in rows:
        if row.error:
            continue
        for column, survey in surveys.items():
            survey.add(row.number, row.data.get(column))
        if kind == "leads":
            numbers.append(row.number)
            keys.append(lead_keys(row, mapping, plan))
    fallback = fallback_order(date_order)
    orders: dict[str, str] = {}
    notes: list[str] = []
    for column, survey in surveys.items():
        orders[column], note = survey.decide(fallback)
        if note:
            notes.append(note)
    ones = [tuple(numbers[i] for i in group) for group in same_lead_groups(keys)]
    groups = {rows_of_lead[-1]: rows_of_lead for rows_of_lead in ones}
    later = {n: last for last, rows_of_lead in groups.items() for n in rows_of_lead[:-1]}
    return FileReading(mapping, plan, DateColumns(orders), tuple(notes), later, groups)
