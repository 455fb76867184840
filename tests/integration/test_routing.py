"""Routing through the public ingestion path: the right team, the right person, explained, handed
off."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import leadops.rules
from leadops.errors import Forbidden, LeadopsError
from leadops.ingest.activities import ingest_activities
from leadops.lifecycle.door import Actor, Door
from leadops.lifecycle.handoff import reassign, route_unassigned
from leadops.models import (
    Account,
    Lead,
    LeadAssignment,
    LeadEvent,
    Notification,
    Opportunity,
    Team,
    User,
)
from leadops.routing.org import apply_org, parse_org
from leadops.routing.service import assignments_of
from leadops.rules.service import active_rules, apply_rules
from leadops.runtime import Runtime
from tests.conftest import JST, NOW
from tests.factories import ingest_context, make_lead

IS_TEAM = "本社営業本部インサイドセールス部"
HQ_SALES = "本社営業本部法人営業部"
OSAKA = "大阪支社営業部"
MARKETING = "マーケティング部"

ORG = f"""
teams:
  - {{name: {MARKETING}, kind: marketing, manager: mk-boss@x.jp}}
  - {{name: {IS_TEAM}, kind: inside_sales, manager: is-boss@x.jp}}
  - {{name: {HQ_SALES}, kind: sales, manager: hq-boss@x.jp}}
  - {{name: {OSAKA}, kind: sales, parent: {HQ_SALES}, manager: osaka-boss@x.jp}}
users:
  - {{email: mk-boss@x.jp, name: MK Boss, role: manager, team: {MARKETING}}}
  - {{email: mk1@x.jp, name: MK One, role: marketing, team: {MARKETING}}}
  - {{email: is-boss@x.jp, name: IS Boss, role: manager, team: {IS_TEAM}}}
  - {{email: is1@x.jp, name: IS One, team: {IS_TEAM}}}
  - {{email: is2@x.jp, name: IS Two, team: {IS_TEAM}}}
  - {{email: is3@x.jp, name: IS Three, team: {IS_TEAM}, weight: 2}}
  - {{email: hq-boss@x.jp, name: HQ Boss, role: manager, team: {HQ_SALES}}}
  - {{email: hq1@x.jp, name: HQ One, team: {HQ_SALES}}}
  - {{email: hq2@x.jp, name: HQ Two, team: {HQ_SALES}}}
  - {{email: osaka-boss@x.jp, name: Osaka Boss, role: manager, team: {OSAKA}}}
  - {{email: osaka1@x.jp, name: Osaka One, team: {OSAKA}}}
  - {{email: admin@x.jp, name: Admin, role: admin}}
"""


def apply(session: Session, runtime: Runtime, text: str = ORG) -> None:
    apply_org(session, parse_org(text), now=NOW, tz=JST)
    session.commit()


def user(session: Session, email: str) -> User:
    found = session.scalar(select(User).where(User.email == email))
    assert found is not None
    return found


def team_of(session: Session, lead: Lead) -> str | None:
    session.refresh(lead)
    return session.get(Team, lead.team_id).name if lead.team_id else None


def owner_of(session: Session, lead: Lead) -> str | None:
    session.refresh(lead)
    return session.get(User, lead.owner_id).email if lead.owner_id else None


def activity(
    session: Session, runtime: Runtime, email: str, type_: str, key: str, **props: Any
) -> None:
    item = {
        "email": email,
        "type": type_,
        "external_id": key,
        "occurred_at": (NOW - timedelta(hours=1)).isoformat(),
        "properties": props,
    }
    result = ingest_activities(ingest_context(session, runtime), [item])
    assert not result.rejected, result.rejected
    session.commit()


def booth_talk(session: Session, runtime: Runtime, email: str) -> None:
    activity(session, runtime, email, "booth_visit", f"booth-{email}", detailed_talk=True)


def notes(session: Session, template: str) -> list[tuple[str, dict[str, Any]]]:
    rows = session.execute(
        select(User.email, Notification.payload)
        .join(User, User.id == Notification.recipient_id)
        .where(Notification.template == template)
        .order_by(Notification.id)
    ).all()
    return [(email, payload) for email, payload in rows]


def test_a_new_lead_is_routed_on_ingest_and_the_decision_is_explained(
    runtime: Runtime, session: Session
) -> None:
    apply(session, runtime)
    lead = make_lead(session, runtime, email="new@acme.co.jp", company="Acme", prefecture="東京都")
    session.commit()
    assert team_of(session, lead) == IS_TEAM
    assert owner_of(session, lead) in {"is1@x.jp", "is2@x.jp", "is3@x.jp"}
    [decision] = assignments_of(session, lead.id)
    assert decision["rule"] == "default-inside-sales"
    assert decision["strategy"] == "round_robin"
    assert {c["email"]: c["result"] for c in decision["candidates"]}[
        owner_of(session, lead)
    ] == "chosen"
    assert len(decision["candidates"]) == 3
    kinds = session.scalars(
        select(LeadEvent.kind).where(
            LeadEvent.lead_id == lead.id, LeadEvent.kind.in_(("team", "owner"))
        )
    ).all()
    assert sorted(kinds) == ["owner", "team"]
    assert [email for email, _ in notes(session, "lead_assigned")] == [owner_of(session, lead)]


@pytest.mark.parametrize(
    ("prefecture", "team"),
    [
        ("大阪府", OSAKA),
        ("京都府", OSAKA),
        ("兵庫県", OSAKA),
        ("奈良県", OSAKA),
        ("和歌山県", OSAKA),
        ("滋賀県", OSAKA),
        ("三重県", HQ_SALES),
        ("東京都", HQ_SALES),
    ],
)
def test_level_4_goes_to_osaka_in_kinki_and_to_hq_elsewhere_with_a_handoff(
    runtime: Runtime, session: Session, prefecture: str, team: str
) -> None:
    apply(session, runtime)
    lead = make_lead(
        session, runtime, email="buyer@maker.co.jp", company="Maker", prefecture=prefecture
    )
    session.commit()
    first_owner = owner_of(session, lead)
    assert team_of(session, lead) == IS_TEAM
    booth_talk(session, runtime, "buyer@maker.co.jp")
    session.refresh(lead)
    assert lead.level == 4
    assert team_of(session, lead) == team
    new_owner = owner_of(session, lead)
    assert new_owner == ("osaka1@x.jp" if team == OSAKA else new_owner)
    assert new_owner in {"osaka1@x.jp", "hq1@x.jp", "hq2@x.jp"}
    latest = assignments_of(session, lead.id)[0]
    assert latest["rule"] == ("level-4-kinki" if team == OSAKA else "level-4-other")
    events = session.execute(
        select(LeadEvent.kind, LeadEvent.actor_ref)
        .where(LeadEvent.lead_id == lead.id, LeadEvent.kind.in_(("team", "owner")))
        .order_by(LeadEvent.id)
    ).all()
    assert events[-2:] == [("team", latest["rule"]), ("owner", latest["rule"])]
    # Both sides hear of it: the IS rep who had the lead and the sales rep who now has it.
    assert [e for e, _ in notes(session, "lead_handed_off")] == [first_owner]
    assert [e for e, _ in notes(session, "lead_handed_over")] == [new_owner]


def test_a_level_change_within_the_same_team_moves_nothing(
    runtime: Runtime, session: Session
) -> None:
    apply(session, runtime)
    lead = make_lead(session, runtime, email="reader@firm.co.jp", company="Firm")
    session.commit()
    owner = owner_of(session, lead)
    activity(
        session, runtime, "reader@firm.co.jp", "content_download", "dl-1"
    )  # level 2: still inside sales
    session.refresh(lead)
    assert lead.level == 2
    assert owner_of(session, lead) == owner
    assert session.scalar(select(func.count()).select_from(LeadAssignment)) == 1


def test_out_of_office_and_inactive_reps_are_skipped_with_reasons_and_nobody_left_means_the_manager(
    runtime: Runtime, session: Session
) -> None:
    away = ORG.replace(
        "{email: is1@x.jp, name: IS One, team: " + IS_TEAM + "}",
        "{email: is1@x.jp, name: IS One, team: " + IS_TEAM + ", active: false}",
    )
    away = away.replace(
        "{email: is2@x.jp, name: IS Two, team: " + IS_TEAM + "}",
        "{email: is2@x.jp, name: IS Two, team: " + IS_TEAM + ", out_of_office: [{from: 2026-11-20, "
        "to: 2026-11-27}]}",
    )
    away = away.replace("weight: 2}", "weight: 2, capacity: 0}")
    assert away != ORG
    apply(session, runtime, away)
    lead = make_lead(session, runtime, email="lonely@firm.co.jp", company="Firm")
    session.commit()
    assert owner_of(session, lead) == "is-boss@x.jp"
    assert team_of(session, lead) == IS_TEAM
    [decision] = assignments_of(session, lead.id)
    assert {c["email"]: c["result"] for c in decision["candidates"]} == {
        "is1@x.jp": "inactive",
        "is2@x.jp": "out of office",
        "is3@x.jp": "at capacity (0/0)",
    }
    assert "manager's queue" in decision["reason"]
    assert [email for email, _ in notes(session, "manager_queue")] == ["is-boss@x.jp"]


def test_one_company_one_owner_across_departments(runtime: Runtime, session: Session) -> None:
    apply(session, runtime)
    make_lead(session, runtime, email="a@bigco.co.jp", company="BigCo", prefecture="東京都")
    session.commit()
    booth_talk(session, runtime, "a@bigco.co.jp")
    first = session.scalar(select(Lead).where(Lead.email == "a@bigco.co.jp"))
    assert first is not None
    owner = owner_of(session, first)
    account = session.get(Account, first.account_id)
    assert account is not None
    assert account.owner_id == first.owner_id
    # A colleague at the same company, in Osaka, reaches level 4: it still goes to the company's
    # owner.
    make_lead(session, runtime, email="b@bigco.co.jp", company="BigCo", prefecture="大阪府")
    session.commit()
    booth_talk(session, runtime, "b@bigco.co.jp")
    second = session.scalar(select(Lead).where(Lead.email == "b@bigco.co.jp"))
    assert second is not None
    assert owner_of(session, second) == owner
    assert team_of(session, second) == HQ_SALES
    assert "owner of the account" in assignments_of(session, second.id)[0]["reason"]


def test_an_open_opportunity_names_the_owner(runtime: Runtime, session: Session) -> None:
    apply(session, runtime)
    seed = make_lead(session, runtime, email="x@deal.co.jp", company="DealCo", prefecture="大阪府")
    session.commit()
    hq2 = user(session, "hq2@x.jp")
    session.add(
        Opportunity(
            lead_id=seed.id,
            account_id=seed.account_id,
            owner_id=hq2.id,
            stage="proposal_sent",
            created_at=NOW - timedelta(days=3),
            stage_changed_at=NOW - timedelta(days=1),
        )
    )
    session.commit()
    make_lead(session, runtime, email="y@deal.co.jp", company="DealCo", prefecture="大阪府")
    session.commit()
    booth_talk(session, runtime, "y@deal.co.jp")
    lead = session.scalar(select(Lead).where(Lead.email == "y@deal.co.jp"))
    assert lead is not None
    assert owner_of(session, lead) == "hq2@x.jp"


def test_without_the_team_the_lead_waits_with_a_reason_and_leadops_route_assigns_it_later(
    runtime: Runtime, session: Session
) -> None:
    lead = make_lead(session, runtime, email="early@firm.co.jp", company="Firm")
    session.commit()
    assert lead.owner_id is None
    activity(
        session, runtime, "early@firm.co.jp", "email_click", "click-1"
    )  # scored again: no second row
    [decision] = assignments_of(session, lead.id)
    assert decision["user"] is None
    assert "is not in the organisation" in decision["reason"]
    apply(session, runtime)
    outcome = route_unassigned(runtime.factory, NOW)
    assert outcome.assigned == 1
    assert team_of(session, lead) == IS_TEAM
    assert owner_of(session, lead) is not None
    assert route_unassigned(runtime.factory, NOW).assigned == 0  # nothing left to route


def test_manual_reassign_by_a_manager_is_recorded_and_checked(
    runtime: Runtime, session: Session
) -> None:
    apply(session, runtime)
    lead = make_lead(session, runtime, email="move@firm.co.jp", company="Firm")
    session.commit()
    before = owner_of(session, lead)
    target = next(e for e in ("is1@x.jp", "is2@x.jp") if e != before)

    def move(by: str, reason: str, at: datetime) -> LeadAssignment | None:
        manager = user(session, by)
        door = Door(session, active_rules(session, at), at, Actor.user(manager.id))
        return reassign(door, lead.id, user(session, target), by=manager, reason=reason)

    with pytest.raises(Forbidden, match="may not reassign"):
        move("is3@x.jp", "x", NOW)
    with pytest.raises(Forbidden):
        move("osaka-boss@x.jp", "x", NOW)
    with pytest.raises(LeadopsError, match="needs a reason"):
        move("is-boss@x.jp", " ", NOW)
    record = move("is-boss@x.jp", "顧客の希望", NOW + timedelta(hours=1))
    session.commit()
    assert record is not None
    assert record.strategy == "manual"
    assert owner_of(session, lead) == target
    assert move("is-boss@x.jp", "again", NOW + timedelta(hours=2)) is None
    owner_event = session.execute(
        select(LeadEvent.reason, LeadEvent.actor_kind, LeadEvent.actor_ref)
        .where(LeadEvent.lead_id == lead.id, LeadEvent.kind == "owner")
        .order_by(LeadEvent.id.desc())
    ).first()
    assert owner_event == ("顧客の希望", "user", str(user(session, "is-boss@x.jp").id))
    assert [e for e, _ in notes(session, "lead_reassigned_away")] == [before]


def test_rules_route_on_any_lead_or_account_field_with_bands_naming_reps_by_email(
    runtime: Runtime, session: Session
) -> None:
    apply(session, runtime)
    document = yaml.safe_load(
        (Path(leadops.rules.__file__).parent / "defaults.yaml").read_text(encoding="utf-8")
    )
    document["routing"]["rules"] = [
        {
            "id": "big-companies",
            "when": {"field": "account.employees", "gte": 11},
            "team": HQ_SALES,
            "strategy": "by_field",
            "options": {
                "field": "account.employees",
                "bands": [
                    {"min": 11, "max": 50, "user": "hq1@x.jp"},
                    {"min": 51, "user": "hq2@x.jp"},
                ],
            },
        },
        {"id": "tradeshow-nurture", "when": {"field": "source", "eq": "展示会"}, "team": MARKETING},
        {"id": "osaka-prefecture", "when": {"field": "prefecture", "eq": "大阪府"}, "team": OSAKA},
        {"id": "everyone-else", "team": IS_TEAM, "strategy": "least_loaded"},
    ]
    apply_rules(
        session,
        yaml.safe_dump(document, allow_unicode=True),
        author="t",
        comment="routing by score",
        now=NOW,
    )
    session.commit()
    cases = {
        "mid@mid.co.jp": ({"company": "Mid", "employees": 30}, "hq1@x.jp", "big-companies"),
        "big@big.co.jp": ({"company": "Big", "employees": 3000}, "hq2@x.jp", "big-companies"),
        "booth@s.co.jp": (
            {"company": "S", "employees": 5, "source": "展示会"},
            "mk1@x.jp",
            "tradeshow-nurture",
        ),
        "naniwa@shop.co.jp": (
            {"company": "Shop", "prefecture": "大阪府"},
            "osaka1@x.jp",
            "osaka-prefecture",
        ),
    }
    for email, (fields, owner, rule) in cases.items():
        lead = make_lead(session, runtime, email=email, **fields)
        session.commit()
        assert (owner_of(session, lead), assignments_of(session, lead.id)[0]["rule"]) == (
            owner,
            rule,
        ), email
    rest = [make_lead(session, runtime, email=f"r{i}@rest.co.jp", company="Rest") for i in range(3)]
    session.commit()
    # least loaded: three new leads spread over the three reps, who had none
    assert sorted(owner_of(session, lead) or "" for lead in rest) == [
        "is1@x.jp",
        "is2@x.jp",
        "is3@x.jp",
    ]
