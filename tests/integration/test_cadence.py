"""Statuses, touches, approach requests and the SLA sweep; seed 002's timeline as the acceptance
test."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadops.cadence.service import _bring_forward, change_status, log_touch
from leadops.clock import FixedClock
from leadops.errors import InvalidTransition, ValidationFailed
from leadops.ingest.activities import ingest_activities
from leadops.leads import find_lead
from leadops.lifecycle.door import Actor, Door
from leadops.models import Lead, LeadEvent, Notification, Task, Team, Touch, User
from leadops.routing.org import apply_org, parse_org
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from leadops.worker import run_once
from tests.conftest import JST
from tests.factories import give, ingest_context, make_lead

IS_TEAM = "本社営業本部インサイドセールス部"
MARKETING = "マーケティング部"
ORG = f"""
teams:
  - {{name: {MARKETING}, kind: marketing, manager: mk-boss@x.jp}}
  - {{name: {IS_TEAM}, kind: inside_sales, manager: is-boss@x.jp}}
users:
  - {{email: mk-boss@x.jp, name: MK Boss, role: manager, team: {MARKETING}}}
  - {{email: mk1@x.jp, name: MK One, role: marketing, team: {MARKETING}}}
  - {{email: is-boss@x.jp, name: IS Boss, role: manager, team: {IS_TEAM}}}
  - {{email: is1@x.jp, name: IS One, team: {IS_TEAM}}}
  - {{email: is2@x.jp, name: IS Two, team: {IS_TEAM}}}
"""
MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=JST)


def at(days: float, hours: float = 0) -> datetime:
    return MONDAY + timedelta(days=days, hours=hours)


@pytest.fixture
def org(runtime: Runtime, session: Session) -> None:
    apply_org(session, parse_org(ORG), now=MONDAY, tz=JST)
    session.commit()


def reload(session: Session, lead: Lead) -> None:
    """End the session's transaction (on SQLite it keeps its snapshot) and read the lead again."""
    session.commit()
    session.refresh(lead)


def email_of(session: Session, user_id: int | None) -> str | None:
    return session.get(User, user_id).email if user_id else None  # type: ignore[union-attr]


def sweep(runtime: Runtime, when: datetime) -> Any:
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.set(when)
    return run_once(runtime, when).sla


def notes(session: Session) -> list[tuple[str | None, str]]:
    session.commit()
    rows = session.execute(
        select(Notification.recipient_id, Notification.template).order_by(Notification.id)
    )
    return [(email_of(session, r), t) for r, t in rows]


def touch(
    runtime: Runtime, session: Session, lead: Lead, when: datetime, outcome: str = "no_answer"
) -> str:
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.set(when)
    reload(session, lead)
    user = session.get(User, lead.owner_id)
    result = log_touch(
        session,
        active_rules(session, when),
        lead.id,
        user=user,
        channel="call",
        outcome=outcome,
        at=when,
        now=when,
    )
    session.commit()
    return result.stage_after


def test_seed_002_timeline(runtime: Runtime, session: Session, org: None) -> None:
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.set(MONDAY)
    lead = make_lead(session, runtime, email="buyer@kaisha.co.jp", company="会社")
    session.commit()
    first = email_of(session, lead.owner_id)
    assert first in {"is1@x.jp", "is2@x.jp"}
    assert lead.next_due_at == at(2)  # Wednesday 10:00
    assert sweep(runtime, at(1)).actions == 0  # Tuesday: nothing is due
    reminded = sweep(runtime, at(1, 20))  # Wednesday 06:00: four hours before the deadline
    assert reminded.reminded == 1
    assert sweep(runtime, at(1, 20)).actions == 0  # the same sweep again does nothing

    outcome = sweep(runtime, at(2))  # Wednesday 10:00: nobody touched it
    assert outcome.reassigned == 1
    assert sweep(runtime, at(2)).actions == 0
    reload(session, lead)
    second = email_of(session, lead.owner_id)
    assert second in {"is1@x.jp", "is2@x.jp"}
    assert second != first
    assert session.get(Team, lead.team_id).name == IS_TEAM  # type: ignore[union-attr]
    assert lead.next_due_at == at(4)  # a new 48 hours for the new owner

    assert touch(runtime, session, lead, at(2, 1)) == "touch_1"  # Wednesday 11:00
    assert lead.next_due_at == at(4, 1)
    assert touch(runtime, session, lead, at(3, 5)) == "touch_2"  # Thursday 15:00, within 48 h
    assert touch(runtime, session, lead, at(5)) == "touch_3"  # Saturday 10:00, within 48 h
    assert lead.next_due_at == at(9)  # four days
    assert sweep(runtime, at(8, 21)).reminded == 1  # reminded four hours before the 4-day deadline
    assert touch(runtime, session, lead, at(8, 23)) == "touch_4"  # within 4 days, never connected
    assert lead.next_due_at == at(10, 23)  # the reply grace: 48 h
    assert sweep(runtime, at(10, 22)).actions == 0
    recycled = sweep(runtime, at(10, 23))
    assert recycled.recycled == 1
    assert sweep(runtime, at(10, 23)).actions == 0
    reload(session, lead)
    assert (lead.status, lead.status_reason) == ("recycled", "no_connect")
    assert session.get(Team, lead.team_id).name == MARKETING  # type: ignore[union-attr]
    assert email_of(session, lead.owner_id) == "mk1@x.jp"
    assert lead.next_due_at is None

    events = session.execute(
        select(
            LeadEvent.kind, LeadEvent.from_value, LeadEvent.to_value, LeadEvent.reason, LeadEvent.at
        )
        .where(
            LeadEvent.lead_id == lead.id,
            LeadEvent.kind.in_(("owner", "team", "touch_stage", "status")),
        )
        .order_by(LeadEvent.at, LeadEvent.id)
    ).all()
    ids = {
        e: str(session.scalar(select(User.id).where(User.email == e)))
        for e in (first, second, "mk1@x.jp")
    }
    summary = [(k, f, t, when.astimezone(JST)) for k, f, t, _, when in events if k != "team"]
    assert summary == [
        ("status", "new", "lead", MONDAY),  # inside sales takes the lead (a status conversion)
        ("owner", None, ids[first], MONDAY),
        ("owner", ids[first], ids[second], at(2)),
        ("touch_stage", "untouched", "touch_1", at(2, 1)),
        ("touch_stage", "touch_1", "touch_2", at(3, 5)),
        ("touch_stage", "touch_2", "touch_3", at(5)),
        ("touch_stage", "touch_3", "touch_4", at(8, 23)),
        ("status", "lead", "recycled", at(10, 23)),
        ("owner", ids[second], ids["mk1@x.jp"], at(10, 23)),
    ]
    assert [e for e in events if e[0] == "status"][-1][3] == "no_connect"
    assert notes(session) == [
        (first, "lead_assigned"),
        (first, "touch_due_soon"),
        (second, "lead_handed_over"),
        (first, "lead_handed_off"),
        ("is-boss@x.jp", "sla_reassigned"),
        (second, "touch_due_soon"),
        ("mk1@x.jp", "lead_handed_over"),
        (second, "lead_handed_off"),
        (second, "lead_recycled"),
    ]


def test_a_late_touch_escalates_once_and_a_second_sla_reassignment_goes_to_the_manager(
    runtime: Runtime, session: Session, org: None
) -> None:
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.set(MONDAY)
    lead = make_lead(session, runtime, email="slow@kaisha.co.jp", company="会社")
    session.commit()
    assert sweep(runtime, at(2)).reassigned == 1
    assert sweep(runtime, at(4)).to_manager == 1  # untouched again: the manager, not a third rep
    reload(session, lead)
    assert email_of(session, lead.owner_id) == "is-boss@x.jp"
    assert ("is-boss@x.jp", "manager_queue") in notes(session)

    other = make_lead(session, runtime, email="late@kaisha.co.jp", company="会社")
    session.commit()
    touch(runtime, session, other, at(4, 1))
    escalated = sweep(runtime, at(6, 2))  # touch_2 was due at day 6, 01:00
    assert escalated.escalated == 1
    assert sweep(runtime, at(6, 3)).escalated == 0  # once per deadline
    assert ("is-boss@x.jp", "escalation") in notes(session)
    touch(runtime, session, other, at(6, 4))
    reload(session, other)
    assert other.touch_stage == "touch_2"
    assert other.escalated_due_at is None


def test_statuses_follow_the_transition_table_with_reasons(
    runtime: Runtime, session: Session, org: None
) -> None:
    lead = make_lead(session, runtime, email="s@kaisha.co.jp", company="会社")
    session.commit()
    rules = active_rules(session, runtime.clock.now())
    now = runtime.clock.now()
    with pytest.raises(ValidationFailed, match="needs a reason"):
        change_status(session, rules, lead.id, "disqualified_sales", reason=None, now=now)
    with pytest.raises(ValidationFailed, match="unknown status"):
        change_status(session, rules, lead.id, "won", reason=None, now=now)
    change_status(
        session,
        rules,
        lead.id,
        "disqualified_sales",
        reason="competitor",
        now=now,
        actor=Actor.user(7),
    )
    with pytest.raises(InvalidTransition, match="from disqualified_sales it can go to new"):
        change_status(session, rules, lead.id, "lead", reason=None, now=now)
    assert (
        change_status(session, rules, lead.id, "disqualified_sales", reason="x", now=now).changed
        is False
    )
    with pytest.raises(InvalidTransition, match="move it back"):
        log_touch(
            session, rules, lead.id, user=None, channel="call", outcome="no_answer", at=now, now=now
        )
    event = session.execute(
        select(LeadEvent.reason, LeadEvent.actor_kind, LeadEvent.actor_ref).where(
            LeadEvent.lead_id == lead.id, LeadEvent.kind == "status", LeadEvent.actor_kind == "user"
        )
    ).one()
    assert tuple(event) == ("competitor", "user", "7")
    assert lead.next_due_at is None


def test_a_connect_stops_the_cadence_and_a_resent_touch_changes_nothing(
    runtime: Runtime, session: Session, org: None
) -> None:
    lead = make_lead(session, runtime, email="c@kaisha.co.jp", company="会社")
    session.commit()
    rules = active_rules(session, runtime.clock.now())
    now = runtime.clock.now()
    first = log_touch(
        session,
        rules,
        lead.id,
        user=None,
        channel="email",
        outcome="sent",
        at=now,
        now=now,
        external_id="crm-1",
    )
    again = log_touch(
        session,
        rules,
        lead.id,
        user=None,
        channel="email",
        outcome="sent",
        at=now,
        now=now,
        external_id="crm-1",
    )
    assert (first.created, again.created, lead.touch_stage) == (True, False, "touch_1")
    with pytest.raises(ValidationFailed) as bad:
        log_touch(
            session,
            rules,
            lead.id,
            user=None,
            channel="fax",
            outcome="maybe",
            at=now + timedelta(days=1),
            now=now,
        )
    assert {e.path for e in bad.value.errors} == {"channel", "outcome", "at"}
    result = log_touch(
        session, rules, lead.id, user=None, channel="call", outcome="connected", at=now, now=now
    )
    assert (result.stage_after, lead.next_due_at) == ("connected", None)


def test_the_three_approach_request_patterns(runtime: Runtime, session: Session, org: None) -> None:
    def send(email: str, type_: str, key: str, **props: Any) -> None:
        item = {
            "email": email,
            "type": type_,
            "external_id": key,
            "properties": props,
            "occurred_at": (runtime.clock.now() - timedelta(minutes=5)).isoformat(),
        }
        assert not ingest_activities(ingest_context(session, runtime), [item]).rejected
        session.commit()

    send("low@a.co.jp", "form_submit", "f1", form="inquiry")  # ② an inquiry under 100 points
    for i in range(6):
        send("hot@b.co.jp", "trial_signup", f"t{i}")
    send("hot@b.co.jp", "form_submit", "f2", form="inquiry")  # ① an inquiry from an MQL
    send("hot@b.co.jp", "content_download", "d1")  # ③ a download at 100 points or more
    send("cold@c.co.jp", "content_download", "d2")  # a download under 100: no request
    send("low@a.co.jp", "form_submit", "f1", form="inquiry")  # resent: no second task
    tasks = session.execute(
        select(Lead.email, Task.subject, Task.owner_id, Task.due_at, Task.created_at)
        .join(Lead, Lead.id == Task.lead_id)
        .order_by(Task.id)
    ).all()
    assert [(e, s) for e, s, *_ in tasks] == [
        ("low@a.co.jp", "問合せ/100点未満"),
        ("hot@b.co.jp", "問合せ受付/MQL"),
        ("hot@b.co.jp", "資料ダウンロード/100点以上"),
    ]
    assert all(
        owner is not None and due - created == timedelta(hours=48)
        for _, _, owner, due, created in tasks
    )
    low = find_lead(session, "low@a.co.jp")
    assert low.next_due_at is not None
    # The task is escalated once when overdue, and done when the lead is touched.
    outcome = sweep(runtime, runtime.clock.now() + timedelta(hours=47))
    assert outcome.tasks_reminded == 3
    outcome = sweep(runtime, runtime.clock.now() + timedelta(hours=2))
    assert outcome.tasks_escalated == 3
    touch(runtime, session, low, runtime.clock.now())
    state = session.scalar(
        select(Task.state).join(Lead, Lead.id == Task.lead_id).where(Lead.email == "low@a.co.jp")
    )
    assert state == "done"
    assert (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.template == "approach_request")
        )
        == 3
    )


def test_a_blank_touch_id_is_no_id(runtime: Runtime, session: Session, org: None) -> None:
    lead = make_lead(session, runtime, email="blank@kaisha.co.jp", company="会社")
    session.commit()
    rules = active_rules(session, runtime.clock.now())
    now = runtime.clock.now()
    for _ in range(2):
        result = log_touch(
            session,
            rules,
            lead.id,
            user=None,
            channel="call",
            outcome="no_answer",
            at=now,
            now=now,
            external_id=" ",
        )
        assert result.created
    session.commit()
    stored = session.scalars(select(Touch.external_id).where(Touch.lead_id == lead.id)).all()
    assert list(stored) == [None, None]


def test_an_approach_request_brings_an_untouched_leads_first_deadline_forward_only(
    runtime: Runtime, session: Session, org: None
) -> None:
    rep = session.scalars(select(User).where(User.team_id.isnot(None))).first()
    assert rep is not None
    assert rep.team_id is not None
    leads = []
    door = Door(session, active_rules(session, MONDAY), MONDAY, Actor("system"))
    for n, (stage, due) in enumerate(
        [("untouched", at(5)), ("untouched", at(1)), ("touch_1", at(5)), ("untouched", None)]
    ):
        lead = make_lead(session, runtime, email=f"forward{n}@corp.co.jp")
        give(session, runtime, lead, owner_id=rep.id, team_id=rep.team_id)
        door.lock([lead.id])
        if stage != "untouched":
            door.move(lead.id, "touch_stage", stage)
        door.set_columns(lead.id, next_due_at=due, reminded_due_at=at(0))
        leads.append(lead)
    door.flush()
    for lead in leads:
        session.refresh(lead)
    first, later, touched, none = leads
    _bring_forward(
        session,
        [(first.id, at(3)), (first.id, at(2)), (later.id, at(2)), (touched.id, at(2))]
        + [(none.id, at(2))],
    )
    assert first.next_due_at == at(2)  # the session's copy reads it again: both applied in turn
    assert first.reminded_due_at is None
    assert later.next_due_at == at(1)  # an earlier deadline stays
    assert later.reminded_due_at == at(0)
    assert touched.next_due_at == at(5)  # only the first touch's deadline
    assert none.next_due_at == at(2)
