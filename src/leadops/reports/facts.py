"""The facts most reports count: each lead with its acquisition time and the moments of its milestones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.models import Lead, LeadEvent, Opportunity
from leadops.models.leads import LIFECYCLE_STAGES


@dataclass
class LeadFacts:
    id: int
    created_at: datetime
    source: str | None
    account_id: int | None
    is_valid: bool
    status: str
    owner_id: int | None
    #: When the lead first reached each lifecycle stage (a later stage implies the earlier ones).
    reached: dict[str, datetime] = field(default_factory=dict)
    appointment_at: datetime | None = None  # its first opportunity's creation
    won_at: datetime | None = None
    won_amount: float | None = None


def lead_facts(session: Session) -> dict[int, LeadFacts]:
    """Every live lead with its milestones. Reaching a stage also counts as reaching the ones before it."""
    leads: dict[int, LeadFacts] = {}
    rows = session.execute(
        select(Lead.id, Lead.created_at, Lead.source, Lead.account_id, Lead.is_valid, Lead.status, Lead.owner_id,
               Lead.lifecycle_stage).where(Lead.merged_into_id.is_(None))
    )  # fmt: skip
    current: dict[int, str] = {}
    for lead_id, created, source, account, valid, status, owner, stage in rows:
        leads[lead_id] = LeadFacts(lead_id, created, source, account, bool(valid), status, owner)
        current[lead_id] = stage
    order = {stage: index for index, stage in enumerate(LIFECYCLE_STAGES)}
    events = session.execute(
        select(LeadEvent.lead_id, LeadEvent.to_value, LeadEvent.at).where(LeadEvent.kind == "lifecycle_stage")
        .order_by(LeadEvent.at)
    )  # fmt: skip
    for lead_id, to_stage, at in events:
        found = leads.get(lead_id)
        if found is None or to_stage not in order:
            continue
        for earlier in LIFECYCLE_STAGES[1 : order[to_stage] + 1]:
            found.reached.setdefault(earlier, at)
    for lead_id, stage in current.items():  # a stage set without an event (imported as such)
        facts = leads[lead_id]
        for earlier in LIFECYCLE_STAGES[1 : order.get(stage, 0) + 1]:
            facts.reached.setdefault(earlier, facts.created_at)
    opportunities = session.execute(
        select(Opportunity.lead_id, Opportunity.created_at, Opportunity.stage, Opportunity.closed_at,
               Opportunity.amount).where(Opportunity.lead_id.isnot(None)).order_by(Opportunity.created_at)
    )  # fmt: skip
    for opp_lead, created, opp_stage, closed, amount in opportunities:
        lead = leads.get(opp_lead) if opp_lead is not None else None
        if lead is None:
            continue
        if lead.appointment_at is None:
            lead.appointment_at = created
        if opp_stage == "won" and closed is not None and lead.won_at is None:
            lead.won_at, lead.won_amount = closed, amount
    return leads
