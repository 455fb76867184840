"""Quarters and years of the fiscal year (issue 16): its first month comes from the rules'
``calendar`` (April for a Japanese organisation unless set), the database cuts the periods at that
month on SQLite and PostgreSQL alike, and the labels name the fiscal year (2026年度 第1四半期 /
FY2026 Q1)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.errors import ValidationFailed
from leadops.models import Lead
from leadops.reports import ReportParams, run_report
from leadops.reports.base import period_label
from leadops.reports.periods import period_key, period_of
from leadops.rules.loader import RulesInvalid, default_rules_text, load_rules
from leadops.rules.service import apply_rules
from leadops.runtime import Runtime
from tests.conftest import JST, NOW
from tests.factories import make_lead

TOKYO = ZoneInfo("Asia/Tokyo")


def calendar_rules(block: str) -> str:
    text = default_rules_text()
    start = text.index("\ncalendar:")
    return text[:start] + "\n" + block


@pytest.mark.parametrize(
    ("day", "first", "period", "en", "ja"),
    [
        (date(2026, 3, 31), 4, "quarter", "FY2025 Q4", "2025年度 第4四半期"),
        (date(2026, 4, 1), 4, "quarter", "FY2026 Q1", "2026年度 第1四半期"),
        (date(2026, 3, 31), 4, "year", "FY2025", "2025年度"),
        (date(2026, 4, 1), 4, "year", "FY2026", "2026年度"),
        (date(2026, 12, 31), 1, "quarter", "FY2026 Q4", "2026年度 第4四半期"),
        (date(2027, 1, 1), 1, "year", "FY2027", "2027年度"),
        (date(2026, 9, 30), 10, "quarter", "FY2025 Q4", "2025年度 第4四半期"),
        (date(2026, 10, 1), 10, "quarter", "FY2026 Q1", "2026年度 第1四半期"),
        # A fiscal year from February: its fourth quarter runs November to January.
        (date(2026, 11, 1), 2, "quarter", "FY2026 Q4", "2026年度 第4四半期"),
        (date(2027, 1, 31), 2, "quarter", "FY2026 Q4", "2026年度 第4四半期"),
        (date(2027, 2, 1), 2, "quarter", "FY2027 Q1", "2027年度 第1四半期"),
        (date(2027, 1, 31), 2, "year", "FY2026", "2026年度"),
    ],
)
def test_fiscal_labels(day: date, first: int, period: str, en: str, ja: str) -> None:
    assert period_label(day, period, first, "en") == en
    assert period_label(day, period, first, "ja") == ja
    assert period_label(day, "month", first, "ja") == f"{day.year}-{day.month:02d}"


def test_the_fiscal_year_start_defaults_by_locale_and_is_checked() -> None:
    assert load_rules(default_rules_text()).document.calendar.fiscal_start == 4
    english = load_rules(calendar_rules("calendar:\n  locale: en\n")).document.calendar
    assert english.fiscal_start == 1
    october = calendar_rules("calendar:\n  locale: en\n  fiscal_year_start_month: 10\n")
    assert load_rules(october).document.calendar.fiscal_start == 10
    with pytest.raises(RulesInvalid) as caught:
        load_rules(calendar_rules("calendar:\n  fiscal_year_start_month: 13\n"))
    assert "calendar.fiscal_year_start_month" in str(caught.value)
    with pytest.raises(ValidationFailed):
        ReportParams(fiscal_start=0)


#: Local moments on both sides of where fiscal quarters and years of the starts below are cut.
EDGES = [
    datetime(2026, 3, 31, 23, 59, 59, tzinfo=JST),
    datetime(2026, 4, 1, 0, 0, tzinfo=JST),
    datetime(2025, 12, 31, 23, 59, 59, tzinfo=JST),
    datetime(2026, 1, 1, 0, 0, tzinfo=JST),
    datetime(2026, 1, 31, 23, 59, 59, tzinfo=JST),
    datetime(2026, 2, 1, 0, 0, tzinfo=JST),
    datetime(2026, 9, 30, 23, 59, 59, tzinfo=JST),
    datetime(2026, 10, 1, 0, 0, tzinfo=JST),
    datetime(2026, 11, 1, 0, 0, tzinfo=JST),
]


def test_sql_cuts_fiscal_periods_where_the_labels_do(runtime: Runtime, session: Session) -> None:
    for n, at in enumerate(EDGES):
        row = make_lead(session, runtime, email=f"fy{n}@fiscal.co.jp")
        row.created_at = at.astimezone(UTC)
    session.commit()
    for zone in ("Asia/Tokyo", "Europe/Berlin"):
        for first in range(1, 13):
            for period in ("quarter", "year"):
                params = ReportParams(
                    tz=ZoneInfo(zone), period=period, fiscal_start=first, locale="ja", now=NOW
                )
                found = session.execute(
                    select(Lead.created_at, period_key(session, Lead.created_at, params))
                ).all()
                assert len(found) == len(EDGES)
                wrong = [
                    (at, key) for at, key in found if period_of(key, params) != params.bucket(at)
                ]
                assert not wrong, (zone, first, period, wrong[:3])


def _new_leads(session: Session, period: str, **given: object) -> dict[str, int]:
    params = ReportParams(
        start=datetime(2025, 10, 1, tzinfo=JST),
        end=datetime(2027, 1, 1, tzinfo=JST),
        period=period,
        tz=TOKYO,
        now=NOW,
        **given,  # type: ignore[arg-type]
    )
    result = run_report(session, "kpis", params)
    return {row["period"]: row["new_leads"] for row in result.as_dicts()}


def test_kpis_follow_the_fiscal_year_of_the_rules(runtime: Runtime, session: Session) -> None:
    moments = [
        datetime(2025, 12, 31, 23, 0, tzinfo=JST),  # FY2025 Q3 (April start)
        datetime(2026, 1, 1, 0, 0, tzinfo=JST),  # FY2025 Q4
        datetime(2026, 3, 31, 23, 59, 59, tzinfo=JST),  # FY2025 Q4
        datetime(2026, 4, 1, 0, 0, tzinfo=JST),  # FY2026 Q1
        datetime(2026, 4, 1, 0, 0, 1, tzinfo=JST),  # FY2026 Q1
        datetime(2026, 11, 15, 12, 0, tzinfo=JST),  # FY2026 Q3
    ]
    for n, at in enumerate(moments):
        row = make_lead(session, runtime, email=f"k{n}@fiscal.co.jp")
        row.created_at = at.astimezone(UTC)
    session.commit()
    # The defaults: a Japanese organisation, its fiscal year from April.
    assert _new_leads(session, "quarter") == {
        "2025年度 第3四半期": 1,
        "2025年度 第4四半期": 2,
        "2026年度 第1四半期": 2,
        "2026年度 第3四半期": 1,
        "total": 6,
    }
    assert _new_leads(session, "year") == {"2025年度": 3, "2026年度": 3, "total": 6}
    # A viewer reading in English sees the same periods under English labels.
    assert _new_leads(session, "year", locale="en") == {"FY2025": 3, "FY2026": 3, "total": 6}
    # A fiscal year from February: its fourth quarter straddles the calendar year.
    apply_rules(
        session,
        calendar_rules("calendar:\n  locale: en\n  fiscal_year_start_month: 2\n"),
        author="test",
        comment="fiscal year from February",
        now=NOW,
    )
    session.commit()
    assert _new_leads(session, "quarter") == {
        "FY2025 Q4": 2,  # 31 December 2025 and 1 January 2026: one fiscal quarter
        "FY2026 Q1": 3,
        "FY2026 Q4": 1,
        "total": 6,
    }
    assert _new_leads(session, "year") == {"FY2025": 2, "FY2026": 4, "total": 6}
    assert _new_leads(session, "month")["2026-04"] == 2  # months are months whatever the year
