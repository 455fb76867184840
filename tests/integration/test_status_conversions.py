"""Statuses follow the work: the rules' status conversions (seed 000's ステータスのCV条件, seed
002's リード状況) move a lead's status through the one door, the conversion named as the actor.
One test per row of the default table, and the table's own rules."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import leadops.rules
from leadops.cadence.qualify import Answers, qualify
from leadops.cadence.service import book_appointment, log_touch
from leadops.ingest.importer import run_import
from leadops.ingest.mappings import default_mapping
from leadops.leads import find_lead
from leadops.models import Lead, LeadEvent, Task, Team
from leadops.routing.org import apply_org, parse_org
from leadops.rules.loader import RulesInvalid, load_rules
from leadops.rules.service import active_rules, apply_rules
from leadops.runtime import Runtime
from tests.conftest import JST, NOW
from tests.factories import make_lead, make_user
from tests.integration.test_cadence import MARKETING, ORG

DEFAULTS = Path(leadops.rules.__file__).with_name("defaults.yaml")


@pytest.fixture
def org(runtime: Runtime, session: Session) -> None:
    apply_org(session, parse_org(ORG), now=NOW - timedelta(days=1), tz=JST)
    session.commit()


def fresh(session: Session, lead_id: int) -> Lead:
    session.commit()  # a new snapshot (SQLite keeps the transaction's)
    session.expire_all()
    return session.get_one(Lead, lead_id)


def status_events(session: Session, lead_id: int) -> list[tuple[Any, ...]]:
    session.commit()
    rows = session.execute(
        select(LeadEvent.from_value, LeadEvent.to_value, LeadEvent.reason, LeadEvent.actor_ref)
        .where(LeadEvent.lead_id == lead_id, LeadEvent.kind == "status")
        .order_by(LeadEvent.id)
    )
    return [tuple(r) for r in rows]


def unrouted(session: Session, runtime: Runtime, email: str) -> Lead:
    """A new lead nobody owns (no organisation: routing finds no team)."""
    lead = make_lead(session, runtime, email=email, company="会社")
    session.commit()
    assert (lead.status, lead.owner_id) == ("new", None)
    return lead


def test_inside_sales_taking_the_lead_makes_it_a_lead(
    runtime: Runtime, session: Session, org: None
) -> None:
    lead = make_lead(session, runtime, email="is@kaisha.co.jp", company="会社")
    lead = fresh(session, lead.id)
    team = session.get_one(Team, lead.team_id)
    assert team.kind == "inside_sales"
    assert lead.status == "lead"
    assert status_events(session, lead.id) == [("new", "lead", None, "inside-sales-takes-the-lead")]
    event = session.scalars(
        select(LeadEvent).where(LeadEvent.lead_id == lead.id, LeadEvent.kind == "status")
    ).one()
    assert event.actor_kind == "rule"
    assert event.at == lead.assigned_at  # dated at the hand-over


def test_a_lead_handed_to_marketing_stays_new(
    runtime: Runtime, session: Session, org: None
) -> None:
    mine = {"id": "all-to-marketing", "team": MARKETING, "strategy": "round_robin"}
    document = yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))
    document["routing"]["rules"] = [mine]
    apply_rules(
        session, yaml.safe_dump(document, allow_unicode=True), author="t", comment="t", now=NOW
    )
    session.commit()
    lead = fresh(session, make_lead(session, runtime, email="mk@kaisha.co.jp", company="会社").id)
    assert session.get_one(Team, lead.team_id).kind == "marketing"
    assert (lead.status, status_events(session, lead.id)) == ("new", [])


def test_the_first_touch_works_the_lead(runtime: Runtime, session: Session) -> None:
    lead = unrouted(session, runtime, "touch@kaisha.co.jp")
    now = runtime.clock.now()
    rules = active_rules(session, now)
    log_touch(
        session, rules, lead.id, user=None, channel="call", outcome="no_answer", at=now, now=now
    )
    assert fresh(session, lead.id).status == "lead"
    assert status_events(session, lead.id)[-1][2:] == (None, "first-touch-works-the-lead")


def test_a_qualification_makes_a_new_lead_a_lead(runtime: Runtime, session: Session) -> None:
    lead = unrouted(session, runtime, "sql@kaisha.co.jp")
    now = runtime.clock.now()
    qualify(
        session, active_rules(session, now), lead.id, Answers(budget="300万円"), user=None, now=now
    )
    lead = fresh(session, lead.id)
    assert (lead.status, lead.lifecycle_stage) == ("lead", "sql")
    assert status_events(session, lead.id)[-1][3] == "qualified-lead"


def test_an_appointment_makes_a_new_lead_a_lead(runtime: Runtime, session: Session) -> None:
    lead = unrouted(session, runtime, "appo@kaisha.co.jp")
    rep = make_user(session, email="rep@kaisha.co.jp")
    session.commit()
    now = runtime.clock.now()
    book_appointment(session, active_rules(session, now), lead.id, user=rep, now=now, name="")
    lead = fresh(session, lead.id)
    assert (lead.status, lead.lifecycle_stage) == ("lead", "opportunity")
    assert status_events(session, lead.id)[-1][3] == "appointment-lead"


def test_a_bounce_disqualifies_for_marketing_and_stops_the_work(
    client: TestClient, runtime: Runtime, session: Session, org: None
) -> None:
    inquiry = {
        "email": "gone@kaisha.co.jp",
        "type": "form_submit",
        "occurred_at": (NOW - timedelta(hours=2)).isoformat(),
        "properties": {"form": "inquiry"},
        "external_id": "inq-gone",
    }
    assert client.post("/api/v1/activities", json={"activities": [inquiry]}).status_code == 200
    lead = find_lead(session, "gone@kaisha.co.jp")
    assert fresh(session, lead.id).status == "lead"
    bounced_at = NOW - timedelta(hours=1)
    bounce = {**inquiry, "type": "email_bounce", "occurred_at": bounced_at.isoformat()}
    bounce.update(external_id="bounce-1", properties={})
    assert client.post("/api/v1/activities", json={"activities": [bounce]}).status_code == 200
    lead = fresh(session, lead.id)
    assert (lead.status, lead.status_reason, lead.is_valid) == (
        "disqualified_marketing",
        "email_bounced",
        False,
    )
    assert lead.next_due_at is None
    open_tasks = select(Task).where(Task.lead_id == lead.id, Task.state == "open")
    assert session.scalars(open_tasks).all() == []
    event = session.scalars(
        select(LeadEvent)
        .where(LeadEvent.lead_id == lead.id, LeadEvent.kind == "status")
        .order_by(LeadEvent.id.desc())
    ).first()
    assert event is not None
    # Learnt after inside sales took the lead (at NOW): the move follows that one in the history.
    assert bounced_at < NOW
    assert (event.actor_kind, event.actor_ref, event.at) == ("rule", "email-bounced", NOW)
    # The same bounce again changes nothing.
    client.post("/api/v1/activities", json={"activities": [bounce]})
    assert len(status_events(session, lead.id)) == 2


def _deals(runtime: Runtime, tmp_path: Path, rows: str) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("external_id,lead_email,stage,amount,created_at,closed_at,lost_reason\n" + rows)
    done = run_import(
        "deals", path, default_mapping("deals"), runtime.factory, runtime.settings, runtime.clock
    )
    assert (done.taken, done.rejected) == (1, 0), done


def test_a_won_deal_makes_the_lead_a_customer(
    runtime: Runtime, session: Session, org: None, tmp_path: Path
) -> None:
    lead = make_lead(session, runtime, email="won@kaisha.co.jp", company="会社")
    session.commit()
    _deals(runtime, tmp_path, "d-1,won@kaisha.co.jp,won,1000000,2026-11-10,2026-11-20,\n")
    lead = fresh(session, lead.id)
    assert (lead.status, lead.lifecycle_stage) == ("customer", "customer")
    assert status_events(session, lead.id)[-1] == ("lead", "customer", "won", "won-customer")
    assert lead.next_due_at is None


def test_a_lost_deal_recycles_the_lead_to_nurture_with_its_reason(
    runtime: Runtime, session: Session, org: None, tmp_path: Path
) -> None:
    lead = make_lead(session, runtime, email="lost@kaisha.co.jp", company="会社")
    session.commit()
    _deals(runtime, tmp_path, "d-2,lost@kaisha.co.jp,lost,,2026-11-10,2026-11-20,予算\n")
    lead = fresh(session, lead.id)
    assert (lead.status, lead.status_reason) == ("recycled", "lost: 予算")
    assert session.get_one(Team, lead.team_id).name == MARKETING  # handed to nurture
    assert status_events(session, lead.id)[-1][3] == "lost-recycled"
    # The same file again: the deal was lost before, nothing happens.
    _deals(runtime, tmp_path, "d-2,lost@kaisha.co.jp,lost,,2026-11-10,2026-11-20,予算\n")
    assert len(status_events(session, lead.id)) == 2


def test_a_state_declared_by_another_system_is_kept_as_it_says(
    runtime: Runtime, session: Session, org: None, tmp_path: Path
) -> None:
    """A file's lifecycle stage and status are the other system's word: no conversion follows."""
    path = tmp_path / "crm.csv"
    path.write_text("email,company,lifecycle_stage,status\ncrm@kaisha.co.jp,会社,customer,lead\n")
    done = run_import(
        "leads", path, default_mapping("leads"), runtime.factory, runtime.settings, runtime.clock
    )
    assert done.taken == 1, done
    lead = find_lead(session, "crm@kaisha.co.jp")
    assert (lead.status, lead.lifecycle_stage) == ("lead", "customer")


def test_a_conversion_table_of_ones_own(
    client: TestClient, runtime: Runtime, session: Session, org: None
) -> None:
    document = yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))
    document["conversions"] = [
        {
            "id": "unsubscribed-nurture",
            "event": "unsubscribed",
            "to": "recycled",
            "reason": "配信停止",
        }
    ]
    apply_rules(
        session, yaml.safe_dump(document, allow_unicode=True), author="t", comment="t", now=NOW
    )
    session.commit()
    lead = fresh(session, make_lead(session, runtime, email="u@kaisha.co.jp", company="会社").id)
    assert lead.status == "new"  # the table no longer says inside sales makes it a lead
    unsubscribe = {
        "email": "u@kaisha.co.jp",
        "type": "unsubscribe",
        "occurred_at": (NOW - timedelta(minutes=5)).isoformat(),
        "external_id": "unsub-1",
    }
    assert client.post("/api/v1/activities", json={"activities": [unsubscribe]}).status_code == 200
    lead = fresh(session, lead.id)
    assert (lead.status, lead.status_reason) == ("recycled", "配信停止")
    assert status_events(session, lead.id)[-1][3] == "unsubscribed-nurture"


@pytest.mark.parametrize(
    ("conversion", "path"),
    [
        ({"id": "x", "event": "won", "to": "closed_won"}, "conversions[0].to"),
        ({"id": "x", "event": "won", "from": ["nope"], "to": "customer"}, "conversions[0].from"),
        (
            {"id": "x", "event": "won", "team_kind": "sales", "to": "customer"},
            "conversions[0].team_kind",
        ),
        ({"id": "x", "event": "booked", "to": "customer"}, "conversions[0].event"),
    ],
)
def test_a_bad_conversion_is_named(conversion: dict[str, Any], path: str) -> None:
    document = yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))
    document["conversions"] = [conversion]
    with pytest.raises(RulesInvalid) as refused:
        load_rules(yaml.safe_dump(document, allow_unicode=True), version=1)
    assert path in str(refused.value)
