"""The unread badge, "mark all read" and local times in the inbox; the board's reassign list (only
the lead's team's members, nothing chosen), its filters kept and the SLA list fresh after it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from leadops.models import Notification
from leadops.runtime import Runtime
from tests.webapp import Org, build_org, signed_in


def _notify(session: Any, runtime: Runtime, org: Org, n: int) -> None:
    now = runtime.clock.now()
    for i in range(n):
        session.add(
            Notification(
                recipient_id=org.users["member"],
                channel="in_app",
                template="touch_due",
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
