"""Validity follows the status: a lead disqualified by hand is no longer a valid lead, and one
brought back is valid again — each an event, as a rescore would have it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.cadence.service import change_status
from leadops.models import LeadEvent
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from tests.factories import make_lead


def test_a_disqualified_lead_is_invalid_and_valid_again_when_brought_back(
    runtime: Runtime, session: Session
) -> None:
    now = runtime.clock.now()
    lead = make_lead(session, runtime, email="dq@kaisha.co.jp", company="株式会社カイシャ")
    session.commit()
    assert lead.is_valid
    rules = active_rules(session, now)
    change_status(session, rules, lead.id, "disqualified_sales", reason="競合", now=now)
    session.commit()
    session.refresh(lead)
    assert not lead.is_valid
    change_status(session, rules, lead.id, "new", reason=None, now=now)
    session.commit()
    session.refresh(lead)
    assert lead.is_valid
    moves = session.execute(
        select(LeadEvent.from_value, LeadEvent.to_value, LeadEvent.reason)
        .where(LeadEvent.lead_id == lead.id, LeadEvent.kind == "validity")
        .order_by(LeadEvent.id)
    ).all()
    assert [tuple(m) for m in moves] == [("True", "False", "disqualified"), ("False", "True", None)]
