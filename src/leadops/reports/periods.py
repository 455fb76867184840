"""Periods in SQL: the local period a stored UTC time falls in, computed by the database.

Reports group by the first day of the period (day, ISO week from Monday, month, quarter, year) in
the configured time zone; quarters and years are those of the fiscal year (its first month from the
rules' ``calendar``). PostgreSQL converts with its own zone database (``timezone(zone, at)``).
SQLite has no zones: the UTC offset is chosen by a ``CASE`` over the zone's transitions (from
Python's zone data, newest first so recent rows decide fast), which is exact for every zone, with or
without summer time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, case, cast, func, literal
from sqlalchemy.orm import Session

from leadops.models.base import UTCDateTime
from leadops.reports.base import ReportParams

#: Transitions are looked up from this year; earlier times use the zone's offset then.
FIRST_YEAR = 1970


@lru_cache(maxsize=32)
def transitions(zone: str, last_year: int) -> tuple[tuple[datetime, int], ...]:
    """(UTC moment, offset in minutes from then on) for each change of the zone's offset, oldest
    first, starting with the offset in force at the start of ``FIRST_YEAR``."""
    tz = ZoneInfo(zone)

    def offset(at: datetime) -> int:
        delta = at.astimezone(tz).utcoffset()
        return int(delta.total_seconds() // 60) if delta is not None else 0

    at = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    found = [(at, offset(at))]
    step = timedelta(days=1)
    while at < end:
        following = at + step
        if offset(following) != found[-1][1]:
            low, high = at, following  # the change lies in (low, high]: narrow it to the second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if offset(middle) == found[-1][1]:
                    low = middle
                else:
                    high = middle
            found.append((high.replace(microsecond=0), offset(following)))
        at = following
    return tuple(found)


def _modifier(minutes: int) -> str:
    return f"{minutes:+d} minutes"


def _sqlite_offset(column: Any, params: ReportParams) -> Any:
    changes = transitions(params.tz.key, params.moment.year + 2)
    if len(changes) == 1:
        return literal(_modifier(changes[0][1]))
    newest_first = list(reversed(changes))
    whens = [
        (column >= literal(at, UTCDateTime), literal(_modifier(minutes)))
        for at, minutes in newest_first[:-1]
    ]
    return case(*whens, else_=literal(_modifier(newest_first[-1][1])))


def period_key(session: Session, column: Any, params: ReportParams) -> Any:
    """SQL: the first day of the local period ``column`` falls in (a date on PostgreSQL, text on
    SQLite; :func:`period_of` reads either)."""
    fiscal = params.period in ("quarter", "year")
    # Fiscal quarters and years are the calendar ones moved by this many months.
    shift = (params.fiscal_month - 1) % (3 if params.period == "quarter" else 12)
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone(params.tz.key, column)
        if fiscal and shift:
            months = func.make_interval(0, cast(literal(shift), Integer))
            return cast(func.date_trunc(params.period, local - months) + months, Date)
        return cast(func.date_trunc(params.period, local), Date)
    offset = _sqlite_offset(column, params)
    if params.period == "day":
        return func.date(column, offset)
    if params.period == "week":
        return func.date(column, offset, "-6 days", "weekday 1")
    if params.period == "month":
        return func.date(column, offset, "start of month")
    if params.period == "year" and not shift:
        return func.date(column, offset, "start of year")
    month = cast(func.strftime("%m", column, offset), Integer)
    back = (month - params.fiscal_month + 12) % (3 if params.period == "quarter" else 12)
    return func.date(column, offset, "start of month", func.printf("-%d months", back))


def period_of(key: Any, params: ReportParams) -> str:
    """The label of a period from :func:`period_key`'s value (of a time that is not null)."""
    day = key if isinstance(key, date) else date.fromisoformat(str(key)[:10])
    return params.label(day)
