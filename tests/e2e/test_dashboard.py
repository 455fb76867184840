"""The dashboard over HTTP on both databases: a member's own counts against their quota, a
manager's rows per member with the team's total, and nobody else's numbers for a member."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
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
    one 3 days ago, one appointment today; the second rep: one touch today; the quotas: 4
    appointments for the rep, 2 for the second, 10 for the team."""
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
    for member, count in (("rep@firm.test", 4), ("rep2@firm.test", 2)):
        set_quota(
            session,
            actor=None,
            month=month,
            team=None,
            member=member,
            targets=Targets(appointments=count),
            now=now,
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


def test_a_member_sees_their_own_counts_against_their_target(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=2)
    work(runtime, session, org)
    page = signed_in(runtime, org.users["member"]).get("/dashboard")
    assert page.status_code == 200
    text = page.text
    assert 'href="/dashboard"' in text
    me = org.users["member"]
    assert cell(text, me, "today", "touches") == "3"
    assert cell(text, me, "today", "connects") == "1"
    assert cell(text, me, "today", "appointments") == "1"
    assert cell(text, me, "month", "touches") == "4"
    assert re.sub(r"\s+", " ", cell(text, me, "month", "appointments")) == "1 / 4 (25.0%)"
    # Nobody else's numbers, and no team total.
    assert f'data-member="{org.users["member2"]}"' not in text
    assert 'data-member="total"' not in text
    chart = json.loads(re.search(r'id="chart-option">(.*?)</script>', text, re.S).group(1))
    assert chart["xAxis"]["data"] == ["Member"]
    assert [s["data"] for s in chart["series"]] == [[4], [1], [1], [4.0]]


def test_a_manager_sees_a_row_per_member_and_the_team_total(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=2)
    work(runtime, session, org)
    client = signed_in(runtime, org.users["manager"])
    text = client.get("/dashboard?lang=ja").text
    rep, rep2 = org.users["member"], org.users["member2"]
    assert cell(text, rep, "month", "touches") == "4"
    assert cell(text, rep2, "today", "touches") == "1"
    assert re.sub(r"\s+", " ", cell(text, rep2, "month", "appointments")) == "0 / 2 (0.0%)"
    assert cell(text, "total", "today", "touches") == "4"
    assert cell(text, "total", "month", "touches") == "5"
    assert cell(text, "total", "month", "connects") == "1"
    assert re.sub(r"\s+", " ", cell(text, "total", "month", "appointments")) == "1 / 10 (10.0%)"
    assert "ダッシュボード" in text
    assert "チーム合計" in text
    chart = json.loads(re.search(r'id="chart-option">(.*?)</script>', text, re.S).group(1))
    assert chart["xAxis"]["data"] == ["Member", "Member2"]
    assert f'data-member="{org.users["manager"]}"' not in text
