"""Deadlines on the wall clock or on the business calendar (weekdays 9–18 in Tokyo, no public
holidays)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from leadops.rules.calendar import add_hours, is_business_day
from leadops.rules.schema import Cadence

JST = ZoneInfo("Asia/Tokyo")
BUSINESS = Cadence(business_hours=True)


def test_wall_clock_hours_by_default() -> None:
    start = datetime(2026, 11, 20, 17, 0, tzinfo=JST)
    assert add_hours(start, 48, Cadence()) == start + timedelta(hours=48)


def test_business_hours_skip_the_weekend_and_a_public_holiday() -> None:
    # Friday 20 Nov 2026, 17:00; Monday 23 Nov is 勤労感謝の日, so the next business hour is
    # Tuesday.
    assert not is_business_day(datetime(2026, 11, 23).date())
    friday = datetime(2026, 11, 20, 17, 0, tzinfo=JST)
    assert add_hours(friday, 2, BUSINESS) == datetime(2026, 11, 24, 10, 0, tzinfo=JST)
    # 48 business hours from Tuesday 10:00 are five days of nine hours and three more: Tuesday next
    # week 13:00.
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=JST)
    assert add_hours(tuesday, 48, BUSINESS) == datetime(2026, 12, 1, 13, 0, tzinfo=JST)


def test_a_start_outside_business_hours_counts_from_the_next_opening() -> None:
    night = datetime(2026, 11, 24, 22, 30, tzinfo=JST)
    assert add_hours(night, 1, BUSINESS) == datetime(2026, 11, 25, 10, 0, tzinfo=JST)
    # Golden Week: 3–6 May 2026 are holidays (6 May a substitute holiday).
    before = datetime(2026, 5, 1, 17, 0, tzinfo=JST)
    assert add_hours(before, 2, BUSINESS) == datetime(2026, 5, 7, 10, 0, tzinfo=JST)


@given(st.integers(0, 24 * 365 * 2), st.floats(0.5, 200))
def test_business_deadlines_fall_inside_business_hours_and_grow_with_the_hours(
    offset: int, hours: float
) -> None:
    start = datetime(2026, 1, 1, tzinfo=JST) + timedelta(hours=offset)
    due = add_hours(start, hours, BUSINESS).astimezone(JST)
    assert is_business_day(due.date())
    assert 9 <= due.hour + due.minute / 60 + due.second / 3600 <= 18
    assert due >= start + timedelta(hours=hours)
    assert add_hours(start, hours + 1, BUSINESS) > due
