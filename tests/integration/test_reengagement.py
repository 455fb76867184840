"""Recycled leads come back (seed 000): a nurture lead that sends a new inquiry, rises 10 points in
a day or does a level-2 activity returns to inside sales — status lead, an IS rep by the routing
rules, an approach request for that rep, a ``reengaged`` event and a new cadence — and its
earlier touches stay in the history."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.cadence.service import book_appointment, change_status, log_touch
from leadops.ingest.importer import run_import
from leadops.ingest.mappings import default_mapping
from leadops.leads import find_lead
from leadops.lifecycle.door import Actor
from leadops.models import Lead, LeadEvent, Notification, Task, Team, Touch, User
from leadops.pipeline import rescore_all
from leadops.reports import ReportParams, run_report
from leadops.routing.org import apply_org, parse_org
from leadops.rules.loader import default_rules_text
from leadops.rules.service import active_rules, apply_rules
from leadops.runtime import Runtime
from tests.conftest import JST, NOW
from tests.integration.test_cadence import MARKETING, ORG

#: When the leads of these tests were recycled.
RECYCLED = NOW - timedelta(days=10)


@pytest.fixture
def org(runtime: Runtime, session: Session) -> None:
    apply_org(session, parse_org(ORG), now=NOW - timedelta(days=30), tz=JST)
    session.commit()


def post(
    client: TestClient, email: str, kind: str, key: str, hours_ago: float, **props: Any
) -> None:
    item = {
        "email": email,
        "type": kind,
        "occurred_at": (NOW - timedelta(hours=hours_ago)).isoformat(),
        "properties": props,
        "external_id": key,
    }
    answer = client.post("/api/v1/activities", json={"activities": [item]})
    assert answer.status_code == 200, answer.text


def fresh(session: Session, email: str) -> Lead:
    session.commit()
    session.expire_all()
    return find_lead(session, email)


def recycled(client: TestClient, runtime: Runtime, session: Session, email: str) -> Lead:
    """A lead that inside sales touched once and recycled: back with marketing, in nurture."""
    post(client, email, "form_submit", f"{email}-first", 24 * 20, form="inquiry")
    lead = fresh(session, email)
    assert lead.status == "lead"
    now = runtime.clock.now()
    rules = active_rules(session, now)
    rep = session.get_one(User, lead.owner_id)
    at = NOW - timedelta(days=19)
    log_touch(
        session, rules, lead.id, user=rep, channel="call", outcome="no_answer", at=at, now=now
    )
    change_status(
        session, rules, lead.id, "recycled", reason="timing", now=RECYCLED, actor=Actor.user(rep.id)
    )
    session.commit()
    lead = fresh(session, email)
    assert session.get_one(Team, lead.team_id).name == MARKETING
    assert (lead.status, lead.touch_stage) == ("recycled", "touch_1")
    return lead


def came_back(session: Session, lead: Lead) -> LeadEvent:
    events = session.scalars(
        select(LeadEvent).where(LeadEvent.lead_id == lead.id, LeadEvent.kind == "reengaged")
    ).all()
    assert len(events) == 1
    return events[0]


def test_a_new_inquiry_brings_a_recycled_lead_back_to_inside_sales(
    client: TestClient, runtime: Runtime, session: Session, org: None
) -> None:
    email = "again@kaisha.co.jp"
    lead = recycled(client, runtime, session, email)
    post(client, email, "form_submit", "again-2", 2, form="inquiry")
    lead = fresh(session, email)
    team = session.get_one(Team, lead.team_id)
    owner = session.get_one(User, lead.owner_id)
    assert team.kind == "inside_sales"
    assert owner.team_id == team.id
    assert (lead.status, lead.touch_stage) == ("lead", "untouched")
    assert lead.next_due_at is not None
    event = came_back(session, lead)
    assert (event.from_value, event.to_value, event.reason) == ("recycled", "lead", "form_submit")
    assert (event.actor_kind, event.actor_ref) == ("rule", "reengagement")
    assert event.at == NOW - timedelta(hours=2)
    # The inquiry's own approach request goes to the IS rep, not to marketing.
    tasks = session.scalars(select(Task).where(Task.lead_id == lead.id, Task.state == "open")).all()
    assert [(t.owner_id, t.rule_id) for t in tasks] == [(owner.id, "inquiry")]
    notified = session.scalars(
        select(Notification.recipient_id).where(Notification.template == "approach_request")
    ).all()
    assert owner.id in notified
    # The earlier cadence is history, not lost.
    assert len(session.scalars(select(Touch).where(Touch.lead_id == lead.id)).all()) == 1
    # The same inquiry again: nothing more.
    post(client, email, "form_submit", "again-2", 2, form="inquiry")
    came_back(session, fresh(session, email))


def test_a_level_two_activity_brings_it_back_with_a_request_of_its_own(
    client: TestClient, runtime: Runtime, session: Session, org: None
) -> None:
    email = "download@kaisha.co.jp"
    lead = recycled(client, runtime, session, email)
    post(client, email, "content_download", "dl-1", 1, asset="事例集")
    lead = fresh(session, email)
    assert lead.status == "lead"
    assert session.get_one(Team, lead.team_id).kind == "inside_sales"
    assert came_back(session, lead).reason.startswith("level 2")
    tasks = session.scalars(select(Task).where(Task.lead_id == lead.id, Task.state == "open")).all()
    assert [(t.owner_id, t.rule_id) for t in tasks] == [(lead.owner_id, "reengagement")]
    assert tasks[0].subject.startswith("再エンゲージ")


def test_a_score_rise_in_a_day_brings_it_back_and_a_slow_one_does_not(
    client: TestClient, runtime: Runtime, session: Session, org: None
) -> None:
    slow, quick = "slow@kaisha.co.jp", "quick@kaisha.co.jp"
    for email in (slow, quick):
        recycled(client, runtime, session, email)
    # Blog posts (+2 each): five within a day is +10, five spread over a week is not.
    for n in range(5):
        post(client, quick, "page_view", f"quick-{n}", 5 - n, url=f"/blog/{n}")
        post(client, slow, "page_view", f"slow-{n}", 24 * (7 - n), url=f"/blog/{n}")
    assert fresh(session, slow).status == "recycled"
    lead = fresh(session, quick)
    assert lead.status == "lead"
    assert came_back(session, lead).reason.startswith("score +10 within 24 h")


def test_a_disqualified_lead_does_not_come_back(
    client: TestClient, runtime: Runtime, session: Session, org: None
) -> None:
    email = "gone@kaisha.co.jp"
    post(client, email, "form_submit", "gone-1", 24 * 5, form="inquiry")
    lead = fresh(session, email)
    now = runtime.clock.now()
    rules = active_rules(session, now)
    change_status(session, rules, lead.id, "disqualified_sales", reason="competitor", now=now)
    session.commit()
    post(client, email, "form_submit", "gone-2", 1, form="inquiry")
    assert fresh(session, email).status == "disqualified_sales"


def test_the_report_tells_first_time_from_returning_leads(
    client: TestClient, runtime: Runtime, session: Session, org: None
) -> None:
    back, first = "back@kaisha.co.jp", "first@kaisha.co.jp"
    recycled(client, runtime, session, back)
    post(client, back, "form_submit", "back-2", 3, form="inquiry")
    post(client, first, "form_submit", "first-1", 24 * 3, form="inquiry")
    now = runtime.clock.now()
    rules = active_rules(session, now)
    for email in (back, first):
        lead = fresh(session, email)
        rep = session.get_one(User, lead.owner_id)
        book_appointment(session, rules, lead.id, user=rep, now=now, name="")
        session.commit()
    params = ReportParams(
        start=NOW - timedelta(days=30), end=NOW + timedelta(days=1), period="quarter", now=NOW
    )
    result = run_report(session, "reengagement", params)
    total = result.as_dicts()[-1]
    assert total["period"] == "total"
    assert (total["first_time_leads"], total["first_time_appointments"]) == (2, 1)
    assert total["first_time_appointment_rate"] == 0.5
    assert (total["reengaged"], total["reengaged_appointments"]) == (1, 1)
    assert total["reengaged_appointment_rate"] == 1.0
    assert result.sections["by_reason"]["rows"] == [["form_submit", 1, 1, 1.0]]


def test_what_happened_before_the_recycle_does_not_bring_it_back(
    client: TestClient, runtime: Runtime, session: Session, org: None
) -> None:
    email = "late@kaisha.co.jp"
    recycled(client, runtime, session, email)
    # An inquiry that arrives late but was made before the lead was recycled (its round ended).
    post(client, email, "form_submit", "late-1", 24 * 12, form="inquiry")
    # A late page view replays the lead's whole history: its first inquiry's +15 is old news.
    post(client, email, "page_view", "late-2", 24 * 21, url="/blog/old")
    assert fresh(session, email).status == "recycled"


def test_after_a_rules_change_one_view_does_not_bring_it_back_and_a_rise_still_does(
    client: TestClient, runtime: Runtime, session: Session, org: None
) -> None:
    email = "rules@kaisha.co.jp"
    recycled(client, runtime, session, email)
    # The same scoring under a new version (only a group's English label differs).
    renamed = default_rules_text().replace("label_en: Behaviour}", "label_en: Behavior}", 1)
    assert renamed != default_rules_text()
    apply_rules(session, renamed, author="t", comment="the same scoring again", now=NOW)
    session.commit()
    rescore_all(runtime.factory, NOW)  # the ledger now holds both versions' lines
    post(client, email, "page_view", "r-0", 3, url="/blog/0")
    assert fresh(session, email).status == "recycled"
    for n in range(1, 5):
        post(client, email, "page_view", f"r-{n}", 3 - n * 0.1, url=f"/blog/{n}")
    assert fresh(session, email).status == "lead"  # +10 within a day under the new version


def test_a_lost_deal_while_another_is_open_keeps_the_lead(
    client: TestClient, runtime: Runtime, session: Session, org: None, tmp_path: Path
) -> None:
    email = "two@kaisha.co.jp"
    post(client, email, "form_submit", "two-1", 24 * 5, form="inquiry")
    path = tmp_path / "deals.csv"
    path.write_text(
        "external_id,lead_email,stage,created_at,closed_at,lost_reason\n"
        f"d-open,{email},proposal_sent,2026-11-20,,\n"
        f"d-lost,{email},lost,2026-11-20,2026-11-23 12:00,予算\n"
    )
    done = run_import(
        "deals", path, default_mapping("deals"), runtime.factory, runtime.settings, runtime.clock
    )
    assert (done.taken, done.rejected) == (2, 0), done
    assert fresh(session, email).status == "lead"
