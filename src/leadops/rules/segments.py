"""Segments of leads (issue 16): industry, department, title class, employee band, prefecture,
Japan's eight regions and any custom field. The lead list filters by them and the reports break
down by them; both go through :class:`Segmentation`, which turns a segment's name and a value into
SQL built from the rules and bound parameters, never from the text a user typed.

Title classes are regular expressions over the lead's title, evaluated in Python (the same on both
databases): the distinct titles in the store are classified once per query and the SQL picks the
class by title. Employee bands, prefectures and regions are ``CASE`` expressions over the lead's
columns and its account's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ARRAY, String, any_, case, cast, func, literal, select
from sqlalchemy.orm import Session

from leadops.errors import FieldError, ValidationFailed
from leadops.models import Lead
from leadops.normalize import text_problem
from leadops.rules.schema import Segments

DIMENSIONS = ("industry", "department", "title_class", "employee_band", "prefecture", "region")
CUSTOM = "custom."
BLANK = "(blank)"
#: The longest value a segment filter takes.
VALUE_LENGTH = 300
_CUSTOM_NAME_LENGTH = 100
_BAD_CUSTOM_NAME = re.compile(r'["\\\x00-\x1f\x7f]')

#: Japan's eight regions (八地方区分), each with its prefectures; 沖縄県 is in 九州.
REGIONS: dict[str, tuple[str, ...]] = {
    "北海道": ("北海道",),
    "東北": ("青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県"),
    "関東": ("茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県"),
    "中部": (
        "新潟県",
        "富山県",
        "石川県",
        "福井県",
        "山梨県",
        "長野県",
        "岐阜県",
        "静岡県",
        "愛知県",
    ),
    "近畿": ("三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県"),
    "中国": ("鳥取県", "島根県", "岡山県", "広島県", "山口県"),
    "四国": ("徳島県", "香川県", "愛媛県", "高知県"),
    "九州": (
        "福岡県",
        "佐賀県",
        "長崎県",
        "熊本県",
        "大分県",
        "宮崎県",
        "鹿児島県",
        "沖縄県",
    ),
}
PREFECTURES: tuple[str, ...] = tuple(p for prefectures in REGIONS.values() for p in prefectures)


def dimension_problem(name: str) -> str | None:
    """Why ``name`` is not a segment (one of DIMENSIONS or custom.NAME), or None."""
    if name in DIMENSIONS:
        return None
    if name.startswith(CUSTOM):
        key = name.removeprefix(CUSTOM)
        if not key or len(key) > _CUSTOM_NAME_LENGTH or _BAD_CUSTOM_NAME.search(key):
            return (
                f"expected custom.NAME with a field name of 1-{_CUSTOM_NAME_LENGTH} characters "
                f"(no quotes, backslashes or control characters), got {name!r}"
            )
        return text_problem(key)
    return f"expected one of {', '.join(DIMENSIONS)} or custom.NAME, got {name!r}"


@dataclass(frozen=True)
class Columns:
    """Where a query finds what segments look at: the lead's columns and its account's (an
    account column may be None when the query does not join accounts)."""

    title: Any
    department: Any
    prefecture: Any
    custom: Any
    industry: Any = None
    employees: Any = None
    account_prefecture: Any = None


def needs_account(dimension: str) -> bool:
    """Whether the segment reads the lead's account (industry, employees, its prefecture)."""
    return dimension in ("industry", "employee_band", "prefecture", "region")


@dataclass
class Segmentation:
    """The rules' segments, ready to classify in Python and to group or filter in SQL."""

    segments: Segments
    session: Session
    _titles: dict[str, list[str]] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._patterns = [
            (c.name, [re.compile(p, re.IGNORECASE) for p in c.patterns])
            for c in self.segments.title_classes
        ]

    # -- in Python -------------------------------------------------------------------------------

    def title_class(self, title: str | None) -> str:
        if title:
            for name, patterns in self._patterns:
                if any(p.search(title) for p in patterns):
                    return name
        return self.segments.other_title

    def band_labels(self) -> list[str]:
        labels, low = [], 1
        for end in self.segments.employee_bands:
            labels.append(f"{low}–{end - 1}")
            low = end
        return [*labels, f"{low}+"]

    def band_of(self, employees: int | None) -> str:
        if employees is None or employees < 1:
            return BLANK
        for label, end in zip(self.band_labels(), self.segments.employee_bands, strict=False):
            if employees < end:
                return label
        return self.band_labels()[-1]

    def values(self, dimension: str) -> list[str] | None:
        """The values a segment takes, in their order; None for open ones (any text)."""
        if dimension == "title_class":
            return [c.name for c in self.segments.title_classes] + [self.segments.other_title]
        if dimension == "employee_band":
            return [*self.band_labels(), BLANK]
        if dimension == "prefecture":
            return [*PREFECTURES, BLANK]
        if dimension == "region":
            return [*REGIONS, BLANK]
        return None

    def order(self, dimension: str, labels: Iterable[str]) -> list[str]:
        """Labels in the segment's order: its values' order, else by name with blank last."""
        known = self.values(dimension)
        found = set(labels)
        if known is not None:
            return [v for v in known if v in found] + sorted(found - set(known))
        return sorted(found - {BLANK}) + ([BLANK] if BLANK in found else [])

    def problems(self, filters: Mapping[str, str]) -> list[FieldError]:
        """Each filter (segment → value) whose segment or value is unknown, named by the segment."""
        errors = []
        for dimension, value in filters.items():
            problem = dimension_problem(dimension)
            if problem is None:
                known = self.values(dimension)
                if known is not None and value not in known:
                    problem = f"expected one of {', '.join(known)}, got {value!r}"
                else:
                    problem = text_problem(value, VALUE_LENGTH)
            if problem is not None:
                errors.append(FieldError(dimension, problem))
        return errors

    # -- in SQL ----------------------------------------------------------------------------------

    def _classified_titles(self) -> dict[str, list[str]]:
        if self._titles is None:
            self._titles = {}
            for title in self.session.scalars(
                select(Lead.title).where(Lead.title.isnot(None)).distinct()
            ):
                if title is None:
                    continue
                found = self.title_class(title)
                if found != self.segments.other_title:
                    self._titles.setdefault(found, []).append(title)
        return self._titles

    def _one_of(self, column: Any, values: list[str]) -> Any:
        """SQL: ``column`` is one of ``values``, however many, as one bound parameter (a
        PostgreSQL array; on SQLite a JSON array read back with ``json_each``)."""
        if self.session.get_bind().dialect.name == "postgresql":
            return column == any_(literal(values, ARRAY(String)))
        listed = func.json_each(literal(json.dumps(values), String)).table_valued("value")
        return column.in_(select(listed.c.value))

    def expression(self, dimension: str, columns: Columns) -> Any:
        """SQL: the segment (its label, text) of each row."""
        prefecture = (
            func.coalesce(columns.prefecture, columns.account_prefecture)
            if columns.account_prefecture is not None
            else columns.prefecture
        )
        if dimension == "title_class":
            titles = self._classified_titles()
            whens = [
                (self._one_of(columns.title, titles[name]), literal(name))
                for name, _ in self._patterns
                if titles.get(name)
            ]
            other = literal(self.segments.other_title)
            return case(*whens, else_=other) if whens else other
        if dimension == "employee_band":
            employees = columns.employees
            ends = self.segments.employee_bands
            labels = self.band_labels()
            return case(
                (employees.is_(None), literal(BLANK)),
                (employees < 1, literal(BLANK)),
                *(
                    (employees < end, literal(label))
                    for end, label in zip(ends, labels, strict=False)
                ),
                else_=literal(labels[-1]),
            )
        if dimension == "region":
            return case(
                *(
                    (prefecture.in_(list(prefs)), literal(region))
                    for region, prefs in REGIONS.items()
                ),
                else_=literal(BLANK),
            )
        if dimension == "prefecture":
            return func.coalesce(prefecture, literal(BLANK))
        if dimension == "industry":
            return func.coalesce(columns.industry, literal(BLANK))
        if dimension == "department":
            return func.coalesce(columns.department, literal(BLANK))
        key = dimension.removeprefix(CUSTOM)
        found = [cast(columns.custom[key].as_string(), String)]
        escaped = json.dumps(key)[1:-1]
        if escaped != key and self.session.get_bind().dialect.name == "sqlite":
            # SQLite stores JSON as written (keys beyond ASCII as \uXXXX escapes) and compares a
            # path's key with the key as stored: look it up both ways.
            found.append(cast(columns.custom[escaped].as_string(), String))
        return func.coalesce(*found, literal(BLANK))

    def condition(self, dimension: str, value: str, columns: Columns) -> Any:
        """SQL: the rows in the segment ``value`` (a value :meth:`problems` let through)."""
        return self.expression(dimension, columns) == value


def lead_columns(account: Any = None) -> Columns:
    """The segments' columns on the leads table (and ``account``, the accounts table or an alias
    of it, when the query joins it)."""
    return Columns(
        title=Lead.title,
        department=Lead.department,
        prefecture=Lead.prefecture,
        custom=Lead.custom,
        industry=account.industry if account is not None else None,
        employees=account.employees if account is not None else None,
        account_prefecture=account.prefecture if account is not None else None,
    )


def segment_filters(given: Mapping[str, str | None], custom: Iterable[str] = ()) -> dict[str, str]:
    """Segment filters from query parameters: the named segments that have a value, and each
    ``custom`` item ``NAME=VALUE`` as ``custom.NAME``. Raises ValidationFailed (field ``custom``)
    for an item without ``=``."""
    found = {name: value for name, value in given.items() if value}
    errors = []
    for item in custom:
        if not item:
            continue
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            errors.append(FieldError("custom", f"expected NAME=VALUE, got {item!r}"))
            continue
        found[f"{CUSTOM}{name.strip()}"] = value.strip()
    if errors:
        raise ValidationFailed(errors)
    return found
