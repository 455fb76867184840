"""Deadlines in wall-clock hours, or in business hours: weekdays between the day's start and end in
the cadence's time zone, skipping Japanese public holidays (the ``holidays`` package's calendar)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from leadops.rules.schema import Cadence


@lru_cache(maxsize=64)
def _japanese_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("JP", years=year))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _japanese_holidays(day.year)


def add_hours(start: datetime, hours: float, cadence: Cadence) -> datetime:
    """``start`` plus ``hours``: on the wall clock, or counting only business hours when the
    cadence says so."""
    if not cadence.business_hours:
        return start + timedelta(hours=hours)
    tz = ZoneInfo(cadence.timezone)
    opens = time(cadence.business_day_start)
    day_length = timedelta(hours=cadence.business_day_end - cadence.business_day_start)
    remaining = timedelta(hours=hours)
    at = start.astimezone(tz)
    for _ in range(3660):  # ten years of days: a bound, never reached by a sane deadline
        day = at.date()
        day_start = datetime.combine(day, opens, tzinfo=tz)
        day_end = day_start + day_length
        if not is_business_day(day) or at >= day_end:
            at = datetime.combine(day + timedelta(days=1), opens, tzinfo=tz)
            continue
        at = max(at, day_start)
        if at + remaining <= day_end:
            return at + remaining
        remaining -= day_end - at
        at = datetime.combine(day + timedelta(days=1), opens, tzinfo=tz)
    raise ValueError(f"no business time found within ten years of {start.isoformat()}")
