"""Periods computed by the database (reports group in SQL) agree with the calendar of the configured
zone, at the moments where a naive UTC grouping or a fixed offset would go wrong: Tokyo midnight,
summer-time changes in Berlin and New York, a zone 5:45 ahead, the ends of weeks, quarters and
years."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.models import Lead
from leadops.reports import ReportParams
from leadops.reports.periods import period_key, period_of, transitions
from leadops.runtime import Runtime
from tests.factories import make_lead

EDGES = [
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # Berlin springs forward
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # Berlin falls back
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York springs forward
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York falls back
    datetime(2026, 3, 29, 22, 0, tzinfo=UTC),  # Berlin: the first midnight of summer time
    datetime(2026, 6, 30, 22, 0, tzinfo=UTC),  # Berlin: 1 July 00:00 (summer time), a new quarter
    datetime(2026, 7, 1, 4, 0, tzinfo=UTC),  # New York: 1 July 00:00 (summer time)
    datetime(2026, 11, 2, 5, 0, tzinfo=UTC),  # New York: Monday 00:00 after falling back
    datetime(2026, 11, 22, 15, 0, tzinfo=UTC),  # Tokyo: Monday 00:00
    datetime(2026, 9, 30, 15, 0, tzinfo=UTC),  # Tokyo: 1 October, a new quarter
    datetime(2025, 12, 31, 15, 0, tzinfo=UTC),  # Tokyo: new year
    datetime(2026, 12, 31, 23, 0, tzinfo=UTC),  # UTC's last hour of the year
]
ZONES = ["Asia/Tokyo", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "UTC"]


def test_transitions_follow_the_zone_database() -> None:
    berlin = transitions("Europe/Berlin", 2027)
    assert (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 120) in berlin
    assert (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 60) in berlin
    assert transitions("Asia/Tokyo", 2027) == ((datetime(1970, 1, 1, tzinfo=UTC), 540),)


def test_sql_periods_match_the_local_calendar(runtime: Runtime, session: Session) -> None:
    moments = sorted(
        {edge + timedelta(seconds=delta) for edge in EDGES for delta in (-1, 0, 1, 1799, 3600)}
    )
    for n, at in enumerate(moments):
        row = make_lead(session, runtime, email=f"edge{n}@edge.co.jp")
        row.created_at = at
    session.commit()
    for zone in ZONES:
        for period in ("day", "week", "month", "quarter", "year"):
            params = ReportParams(
                tz=ZoneInfo(zone), period=period, now=datetime(2026, 11, 23, tzinfo=UTC)
            )
            found = session.execute(
                select(Lead.created_at, period_key(session, Lead.created_at, params))
            ).all()
            assert len(found) == len(moments)
            wrong = [(at, key) for at, key in found if period_of(key, params) != params.bucket(at)]
            assert not wrong, (zone, period, wrong[:3])
