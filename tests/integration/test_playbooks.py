"""Touches record the template or script they used (the stage's playbook's by default), and
connect-patterns counts what followed each one: figures worked out by hand, on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.cadence.playbooks import lead_values, playbook_for, render_playbook
from leadops.cadence.service import book_appointment, log_touch
from leadops.errors import ValidationFailed
from leadops.models import Lead, Touch
from leadops.reports import ReportParams, run_report
from leadops.reports.export import to_csv
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from tests.conftest import JST, NOW
from tests.factories import force_state, make_lead, make_user

T0 = NOW - timedelta(days=10)


def worked(session: Session, runtime: Runtime, n: int, **fields: Any) -> Lead:
    lead = make_lead(session, runtime, email=f"p{n}@firm{n}.co.jp", company=f"Firm {n}", **fields)
    force_state(session, lead, status="lead")
    return lead


def touch(
    session: Session, lead: Lead, days: float, channel: str, outcome: str, **kw: Any
) -> str | None:
    at = T0 + timedelta(days=days)
    result = log_touch(
        session,
        active_rules(session, NOW),
        lead.id,
        user=None,
        channel=channel,
        outcome=outcome,
        at=at,
        now=at,
        **kw,
    )
    return result.template


def test_a_touch_records_its_template_and_stage_and_refuses_an_unknown_one(
    runtime: Runtime, session: Session
) -> None:
    lead = worked(session, runtime, 1)
    assert touch(session, lead, 0, "call", "no_answer") == "stage1-call-voicemail"
    named = touch(session, lead, 1, "email", "sent", template=" stage4-anything-needed ")
    assert named == "stage4-anything-needed"
    with pytest.raises(ValidationFailed) as caught:
        touch(session, lead, 2, "email", "sent", template="stage9")
    assert caught.value.errors[0].path == "template"
    assert "unknown template 'stage9'" in caught.value.errors[0].message
    touch(session, lead, 2, "email", "sent")
    touch(session, lead, 3, "email", "sent")
    # (a further try after touch_4 without a connect recycles the lead: test_repday_pages)
    touch(session, lead, 5, "call", "connected")  # the connecting call at touch_4 is touch_4's
    touch(session, lead, 6, "call", "connected")  # a connected lead has no playbook
    session.commit()
    stored = session.execute(
        select(Touch.stage, Touch.template).where(Touch.lead_id == lead.id).order_by(Touch.at)
    ).all()
    assert [tuple(r) for r in stored] == [
        ("touch_1", "stage1-call-voicemail"),
        ("touch_2", "stage4-anything-needed"),
        ("touch_3", "stage3-industry-case"),
        ("touch_4", "stage4-anything-needed"),
        ("touch_4", "stage4-anything-needed"),
        ("connected", None),
    ]


def test_the_next_touchs_playbook_is_filled_with_the_leads_values(
    runtime: Runtime, session: Session
) -> None:
    owner = make_user(session, email="rep@firm.test", name="佐藤")
    lead = worked(session, runtime, 2, last_name="田中", first_name="Taro")
    force_state(session, lead, owner_id=owner.id, touch_stage="touch_2")
    rules = active_rules(session, NOW)
    playbook = playbook_for(rules, lead.touch_stage)
    assert playbook is not None
    assert playbook.template == "stage3-industry-case"
    ja = render_playbook(playbook, lead_values(session, lead), "ja")
    assert ja.subject == "Firm 2様と同じ業界の事例のご紹介"
    assert ja.body is not None
    assert ja.body.startswith("Firm 2\n田中様\n\nお世話になっております。佐藤です。\n")
    assert ja.body.rstrip().endswith("佐藤\nrep@firm.test")
    en = render_playbook(playbook, lead_values(session, lead), "en")
    assert en.subject == "How companies like Firm 2 use us"
    assert en.body is not None
    assert en.body.startswith("Dear Taro 田中,")


def test_connect_patterns_counts_what_followed_each_touch(
    runtime: Runtime, session: Session
) -> None:
    rep = make_user(session, email="rep@firm.test")
    a, b, c, d, e = (worked(session, runtime, n) for n in range(10, 15))
    touch(session, a, 0, "call", "no_answer")  # touch_1, no connect before A's next touch
    touch(session, a, 2, "call", "connected")  # touch_2: connects itself …
    book_appointment(session, active_rules(session, NOW), a.id, user=rep, now=T0 + timedelta(3))
    touch(session, b, 0, "email", "sent", template="stage3-industry-case")  # touch_1
    touch(session, b, 1, "call", "no_answer")  # touch_2
    touch(session, b, 3, "email", "sent")  # touch_3: followed by the booking (connect + appt.)
    book_appointment(session, active_rules(session, NOW), b.id, user=rep, now=T0 + timedelta(4))
    touch(session, c, 0, "call", "no_answer")
    touch(session, c, 1, "call", "voicemail_left")
    # A touch stored before playbooks: neither template nor stage.
    session.add(Touch(lead_id=d.id, at=T0, channel="call", outcome="connected"))
    touch(session, e, -30, "call", "no_answer")  # before the range
    session.commit()

    result = run_report(
        session,
        "connect-patterns",
        ReportParams(tz=JST, now=NOW, start=T0 - timedelta(days=1)),
    )
    assert result.columns == [
        "template",
        "channel",
        "stage",
        "touches",
        "connects",
        "connect_rate",
        "appointments",
        "appointment_rate",
    ]
    assert result.rows == [
        ["stage1-call-voicemail", "call", "touch_1", 2, 0, 0.0, 0, 0.0],
        ["stage3-industry-case", "email", "touch_1", 1, 0, 0.0, 0, 0.0],
        ["stage2-follow-up", "call", "touch_2", 3, 1, 0.3333, 1, 0.3333],
        ["stage3-industry-case", "email", "touch_3", 1, 1, 1.0, 1, 1.0],
        ["(none)", "call", "(unknown)", 1, 1, 1.0, 0, 0.0],
        ["total", None, None, 8, 3, 0.375, 2, 0.25],
    ]
    assert result.sections["by_stage"]["rows"] == [
        ["touch_1", 3, 0, 0.0, 0, 0.0],
        ["touch_2", 3, 1, 0.3333, 1, 0.3333],
        ["touch_3", 1, 1, 1.0, 1, 1.0],
        ["(unknown)", 1, 1, 1.0, 0, 0.0],
    ]
    # Without a range, E's early touch counts too; its lead never connected.
    everything = run_report(session, "connect-patterns", ReportParams(tz=JST, now=NOW))
    assert everything.rows[0] == ["stage1-call-voicemail", "call", "touch_1", 3, 0, 0.0, 0, 0.0]
    assert everything.rows[-1] == ["total", None, None, 9, 3, 0.3333, 2, 0.2222]
    # A range that ends before A's appointment still credits the touch that came before it.
    early = run_report(
        session,
        "connect-patterns",
        ReportParams(tz=JST, now=NOW, start=T0 + timedelta(days=2), end=T0 + timedelta(days=2.5)),
    )
    assert early.rows == [
        ["stage2-follow-up", "call", "touch_2", 1, 1, 1.0, 1, 1.0],
        ["total", None, None, 1, 1, 1.0, 1, 1.0],
    ]
    assert to_csv(early).splitlines()[:2] == [
        "template,channel,stage,touches,connects,connect_rate,appointments,appointment_rate",
        "stage2-follow-up,call,touch_2,1,1,1.0,1,1.0",
    ]
