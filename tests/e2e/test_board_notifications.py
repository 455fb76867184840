"""The unread badge, "mark all read" and local times in the inbox; the board's reassign list (only
the lead's team's members, nothing chosen), its filters kept and the SLA list fresh after it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from leadops.models import Notification, Team, User
from leadops.runtime import Runtime
from tests.webapp import Org, build_org, lead_of, signed_in


def _notify(session: Any, runtime: Runtime, org: Org, n: int) -> None:
    now = runtime.clock.now()
    for i in range(n):
        session.add(
            Notification(
                recipient_id=org.users["member"],
                channel="in_app",
                template="approach_request",
                payload={
                    "lead_id": org.leads[0],
                    "company": "株式会社光和物流",
                    "due_at": "2026-11-30T18:03:39.050887+00:00",
                },
                created_at=now - timedelta(minutes=i),
                dedup_key=f"test:{i}",
            )
        )
    session.commit()


def _badge(page: str) -> str | None:
    found = re.search(r'id="unread-count">([^<]*)<', page)
    return found.group(1) if found else None


def test_the_badge_counts_unread_and_mark_all_read_empties_it_twice_over(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    _notify(session, runtime, org, 3)
    rep = signed_in(runtime, org.users["member"])
    assert _badge(rep.get("/queue").text) == "3"
    inbox = rep.get("/notifications").text
    assert _badge(inbox) == "3"
    assert 'action="/notifications/read-all"' in inbox
    for _ in range(2):  # posting it again is fine
        answer = rep.post("/notifications/read-all")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/notifications?done=1"
    page = rep.get("/notifications?done=1").text
    assert _badge(page) is None
    assert "All marked read." in page
    assert 'action="/notifications/read-all"' not in page
    session.expire_all()
    unread = session.scalars(
        select(Notification).where(
            Notification.recipient_id == org.users["member"], Notification.read_at.is_(None)
        )
    ).all()
    assert unread == []
    # Another user's inbox is left alone, and the post needs the CSRF token.
    other = signed_in(runtime, org.users["member2"])
    other.headers.pop("X-CSRF-Token")
    assert other.post("/notifications/read-all").status_code in (400, 403)


def test_an_inbox_entry_shows_local_times_apart_from_the_text(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    _notify(session, runtime, org, 1)
    rep = signed_in(runtime, org.users["member"])
    page = rep.get("/notifications?lang=ja").text
    assert "2026-11-30T18:03" not in page.replace('datetime="2026-11-30T18:03', "")
    assert "+00:00<" not in page
    # 18:03 UTC is 03:03 the next day in Tokyo, in its own element after the company name.
    assert re.search(r"株式会社光和物流</a>\s*</span>\s*<small class=\"note-due\">期限", page), page
    assert '<time datetime="2026-11-30T18:03:39.050887+00:00">2026-12-01 03:03</time>' in page
    assert '<time class="note-time"' in page


def _options(page: str, lead: int) -> tuple[list[str], str]:
    select_ = re.search(rf'<select id="to-{lead}".*?</select>', page, re.S)
    assert select_, page
    return re.findall(r'<option value="(\d+)"', select_.group(0)), select_.group(0)


def _row(page: str, lead: int) -> str:
    row = re.search(rf'<tr data-lead="{lead}">.*?</tr>', page, re.S)
    assert row, page
    return row.group(0)


def test_the_board_offers_only_the_leads_team_and_keeps_its_filter_after_a_reassignment(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=2)
    now = runtime.clock.now()
    osaka = Team(name="大阪IS", kind="inside_sales", created_at=now)
    session.add(osaka)
    session.flush()
    session.add(
        User(
            email="osaka@firm.test",
            name="Osaka",
            role="member",
            active=True,
            routing_weight=1.0,
            locale="en",
            created_at=now,
            team_id=osaka.id,
        )
    )
    # A marketing user in the team (as in the demo) is on the board but never takes leads.
    session.get_one(User, org.users["marketing"]).team_id = org.team_id
    session.commit()
    boss = signed_in(runtime, org.users["manager"])
    lead = org.leads[0]
    page = boss.get("/board?team=0").text
    offered, select_ = _options(page, lead)
    assert sorted(offered) == sorted(str(org.users[k]) for k in ("manager", "member2"))
    assert '<option value="" disabled selected>Choose…</option>' in select_
    assert select_.count("selected") == 1
    assert "Member" in _row(page, lead)

    refused = boss.post(
        f"/leads/{lead}/reassign?lang=ja",
        data={"to": "", "reason": "忙しい", "view": "board", "back": "team=0"},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 422
    assert "担当者を選択してください。" in refused.text
    assert lead_of(session, lead).owner_id == org.users["member"]

    done = boss.post(
        f"/leads/{lead}/reassign",
        data={
            "to": str(org.users["member2"]),
            "reason": "rep is overloaded",
            "view": "board",
            "back": "team=0",
        },
        headers={"HX-Request": "true"},
    )
    assert done.headers["HX-Redirect"] == "/board?team=0&done=1"
    session.rollback()  # a new snapshot
    assert lead_of(session, lead).owner_id == org.users["member2"]
    after = boss.get(done.headers["HX-Redirect"]).text
    assert "Reassigned." in after
    assert re.search(r'<option value="0" selected>', after)  # the filter is kept
    # The new owner starts the touch afresh: the lead leaves the SLA list, the other stays.
    moved = lead_of(session, lead)
    assert moved.next_due_at is not None
    assert moved.next_due_at > now
    assert f'data-lead="{lead}"' not in after
    assert "<td>Member</td>" in _row(after, org.leads[1])
    assert "1 touches overdue" in after


def test_a_reassignment_goes_back_to_the_team_shown_and_only_to_the_board(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    boss = signed_in(runtime, org.users["manager"])
    for back, expected in (
        (f"team={org.team_id}", f"/board?team={org.team_id}&done=1"),
        ("team=//evil.test&x=1", "/board?done=1"),
    ):
        done = boss.post(
            f"/leads/{org.leads[0]}/reassign",
            data={"to": str(org.users["member2"]), "reason": "r", "view": "board", "back": back},
            headers={"HX-Request": "true"},
        )
        assert done.headers["HX-Redirect"] == expected
