"""The dashboard over HTTP on both databases: a member's own touches, connects and appointments
against their quota's targets (today's: the month's share of one business day), a manager's rows
per member with the team's total and target, a target not set shown as — (never 0 %), and nobody
else's numbers for a member."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Any

from leadops.cadence.quotas import Targets, set_quota
from leadops.cadence.service import book_appointment, log_touch
from leadops.models import User
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from tests.webapp import build_org, signed_in


def cell(page: str, member: object, kind: str, measure: str) -> str:
    row = re.search(rf'<tr data-member="{member}">(.*?)</tr>', page, re.S)
    assert row, page
    found = re.search(rf'data-{kind}="{measure}">(.*?)</td>', row.group(1), re.S)
    assert found, row.group(1)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def work(runtime: Runtime, session: Any, org: Any) -> None:
    """The rep: 3 touches today in Tokyo (one connected, one at 00:30, the day before in UTC) and
    one 3 days ago, one appointment today; the second rep: one touch today; the quotas: 38
    touches, 19 connects and 4 appointments for the rep, 2 appointments for the second (no touch
    or connect target), 10 appointments for the team (its touches and connects: the members')."""
    now = runtime.clock.now()
    rules = active_rules(session, now)
    rep = session.get_one(User, org.users["member"])
    rep2 = session.get_one(User, org.users["member2"])
    lead, other = org.leads[0], org.leads[1]
    for outcome, at in (
        ("no_answer", now - timedelta(days=3)),
        ("no_answer", now - timedelta(hours=8, minutes=30)),  # 00:30 JST: today in Tokyo
        ("no_answer", now - timedelta(minutes=30)),
        ("connected", now - timedelta(minutes=10)),
    ):
        log_touch(session, rules, lead, user=rep, channel="call", outcome=outcome, at=at, now=now)
    book_appointment(session, rules, lead, user=rep, now=now)
    log_touch(
        session, rules, other, user=rep2, channel="call", outcome="no_answer", at=now, now=now
    )
    month = date(now.year, now.month, 1)
    for member, targets in (
        ("rep@firm.test", Targets(appointments=4, touches=38, connects=19)),
        ("rep2@firm.test", Targets(appointments=2)),
    ):
        set_quota(
            session, actor=None, month=month, team=None, member=member, targets=targets, now=now
        )
    set_quota(
        session,
        actor=None,
        month=month,
        team="東京IS",
        member=None,
        targets=Targets(appointments=10),
        now=now,
    )
    session.commit()


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def option(page: str, chart: str) -> dict[str, Any]:
    found = re.search(rf'id="{chart}-option">(.*?)</script>', page, re.S)
    assert found, page
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_a_member_sees_their_own_counts_against_their_targets(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=2)
    work(runtime, session, org)
    page = signed_in(runtime, org.users["member"]).get("/dashboard")
    assert page.status_code == 200
    text = page.text
    assert 'href="/dashboard"' in text
    me = org.users["member"]
    # November 2026 has 19 business days (21 weekdays less 3 and 23 November); the 23rd, today
    # in the fixed clock, is a public holiday. Today's target: the month's ÷ 19.
    assert "its 19 business days" in flat(text)
    assert "Today is not a business day." in text
    assert flat(cell(text, me, "today", "touches")) == "3 / 2 (150.0%)"
    assert flat(cell(text, me, "today", "connects")) == "1 / 1 (100.0%)"
    assert flat(cell(text, me, "today", "appointments")) == "1 / 0.2 (475.0%)"
    assert flat(cell(text, me, "month", "touches")) == "4 / 38 (10.5%)"
    assert flat(cell(text, me, "month", "connects")) == "1 / 19 (5.3%)"
    assert flat(cell(text, me, "month", "appointments")) == "1 / 4 (25.0%)"
    assert text.count("<progress") == 6
    # Nobody else's numbers, and no team total.
    assert f'data-member="{org.users["member2"]}"' not in text
    assert 'data-member="total"' not in text
    chart = option(text, "attainment")
    assert chart["xAxis"]["data"] == ["Touches", "Connects", "Appointments"]
    assert [s["data"] for s in chart["series"]] == [[150.0, 100.0, 475.0], [10.5, 5.3, 25.0]]
    assert 'id="chart-option"' not in text  # no per-member chart for one person


def test_a_target_not_set_shows_a_dash_not_zero_percent(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=2)
    work(runtime, session, org)
    text = signed_in(runtime, org.users["member2"]).get("/dashboard?lang=ja").text
    me = org.users["member2"]
    assert cell(text, me, "today", "touches") == "1 / —"
    assert cell(text, me, "month", "connects") == "0 / —"
    assert flat(cell(text, me, "month", "appointments")) == "0 / 2 (0.0%)"
    assert text.count("<progress") == 2  # appointments only, today and this month
    chart = option(text, "attainment")
    assert [s["data"] for s in chart["series"]] == [[None, None, 0.0], [None, None, 0.0]]
    assert "本日は営業日ではありません" in text


def test_a_manager_sees_a_row_per_member_and_the_team_total(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=2)
    work(runtime, session, org)
    client = signed_in(runtime, org.users["manager"])
    text = client.get("/dashboard?lang=ja").text
    rep, rep2 = org.users["member"], org.users["member2"]
    assert flat(cell(text, rep, "month", "touches")) == "4 / 38 (10.5%)"
    assert cell(text, rep2, "today", "touches") == "1 / —"
    assert flat(cell(text, rep2, "month", "appointments")) == "0 / 2 (0.0%)"
    # The team's target: its own quota where set (appointments), else the members' sum.
    assert flat(cell(text, "total", "today", "touches")) == "4 / 2 (200.0%)"
    assert flat(cell(text, "total", "month", "touches")) == "5 / 38 (13.2%)"
    assert flat(cell(text, "total", "month", "connects")) == "1 / 19 (5.3%)"
    assert flat(cell(text, "total", "month", "appointments")) == "1 / 10 (10.0%)"
    assert "ダッシュボード" in text
    assert "チーム合計" in text
    chart = option(text, "chart")
    assert chart["xAxis"]["data"] == ["Member", "Member2"]
    assert [s["data"] for s in chart["series"]] == [[4, 1], [1, 0], [1, 0]]
    team = option(text, "attainment")
    assert [s["data"] for s in team["series"]] == [[200.0, 100.0, 190.0], [13.2, 5.3, 10.0]]
    assert f'data-member="{org.users["manager"]}"' not in text


def test_the_month_is_the_organisation_s_month_in_its_time_zone(
    runtime: Runtime, session: Any
) -> None:
    """1 November 00:30 in Tokyo is still 31 October in UTC, yet counts in November; 31 October
    23:30 in Tokyo does not, though it is November nowhere else either."""
    org = build_org(session, runtime, leads=1)
    now = runtime.clock.now()
    rep = session.get_one(User, org.users["member"])
    rules = active_rules(session, now)
    first = datetime(2026, 11, 1, tzinfo=runtime.settings.tz)
    for at in (first + timedelta(minutes=30), first - timedelta(minutes=30)):
        log_touch(
            session,
            rules,
            org.leads[0],
            user=rep,
            channel="call",
            outcome="no_answer",
            at=at,
            now=now,
        )
    session.commit()
    text = signed_in(runtime, org.users["member"]).get("/dashboard").text
    assert cell(text, org.users["member"], "month", "touches") == "1 / —"
    assert cell(text, org.users["member"], "today", "touches") == "0 / —"
