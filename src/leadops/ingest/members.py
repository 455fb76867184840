"""Importing campaign members (webinar lists, trade-show scans): campaign × lead × member status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from leadops.errors import FieldError
from leadops.ingest.context import FieldReader, IngestContext
from leadops.ingest.leads import LeadInput, LeadWriter
from leadops.models import Campaign, CampaignMember, Lead
from leadops.models.campaigns import CAMPAIGN_TYPES, MEMBER_STATUSES
from leadops.normalize import clean_text, normalize_email, parse_float


@dataclass
class MemberInput:
    campaign: str
    campaign_type: str | None
    email: str | None
    lead_key: tuple[str, str] | None
    status: str
    responded_at: datetime | None
    cost: float | None


def validate_member(
    fields: Mapping[str, Any], ctx: IngestContext, *, source_system: str | None
) -> tuple[MemberInput | None, list[FieldError]]:
    reader = FieldReader(fields)
    campaign = clean_text(fields.get("campaign"))
    if campaign is None:
        reader.error("campaign", "missing: the campaign's name")
    ctype = clean_text(fields.get("campaign_type"))
    if ctype is not None and ctype not in CAMPAIGN_TYPES:
        reader.error(
            "campaign_type", f"unknown campaign type {ctype!r}; types are {list(CAMPAIGN_TYPES)}"
        )
    email = reader.read("email", lambda v: normalize_email(str(v)))
    ext = clean_text(fields.get("lead_external_id"))
    if email is None and ext is None and not reader.errors:
        reader.error("email", "missing: the member's e-mail (or lead_external_id)")
    status = clean_text(fields.get("status")) or "responded"
    if status not in MEMBER_STATUSES:
        reader.error(
            "status", f"unknown member status {status!r}; statuses are {list(MEMBER_STATUSES)}"
        )
    responded_at = reader.read("responded_at", ctx.parse_time)
    cost = reader.read("cost", parse_float)
    errors = reader.errors
    if errors:
        return None, errors
    assert campaign is not None
    key = (source_system or "import", ext) if ext else None
    return MemberInput(campaign, ctype, email, key, status, responded_at, cost), []


class MemberWriter:
    def __init__(self, ctx: IngestContext) -> None:
        self.ctx = ctx
        self.leads = LeadWriter(ctx)
        self.campaigns: dict[str, Campaign] = {}

    def _campaign(self, item: MemberInput) -> Campaign:
        campaign = self.campaigns.get(item.campaign) or self.ctx.session.scalar(
            select(Campaign).where(Campaign.name == item.campaign)
        )
        if campaign is None:
            campaign = Campaign(
                name=item.campaign, type=item.campaign_type or "other", created_at=self.ctx.now
            )
            self.ctx.session.add(campaign)
            self.ctx.session.flush()
        if item.cost is not None:
            campaign.cost = item.cost
        self.campaigns[item.campaign] = campaign
        return campaign

    def upsert(self, item: MemberInput) -> tuple[bool, FieldError | None]:
        """(created, error). A member whose lead is unknown by external id is an error."""
        session = self.ctx.session
        if item.email:
            given = self.leads.upsert(LeadInput(email=item.email, created_at=item.responded_at))
            assert given.lead is not None  # nothing but an e-mail: never refused
            lead = given.lead
            if lead.id is None:
                session.flush()
        else:
            assert item.lead_key is not None
            found = session.scalar(
                select(Lead).where(
                    Lead.crm_source == item.lead_key[0], Lead.crm_id == item.lead_key[1]
                )
            )
            if found is None:
                return False, FieldError(
                    "lead_external_id", f"no lead has external id {item.lead_key[1]!r}"
                )
            lead = found
        campaign = self._campaign(item)
        member = session.scalar(
            select(CampaignMember).where(
                CampaignMember.campaign_id == campaign.id, CampaignMember.lead_id == lead.id
            )
        )
        if lead.first_campaign_id is None:
            lead.first_campaign_id = campaign.id
        if member is None:
            session.add(
                CampaignMember(
                    campaign_id=campaign.id,
                    lead_id=lead.id,
                    status=item.status,
                    first_responded_at=item.responded_at,
                    created_at=self.ctx.now,
                )
            )
            return True, None
        member.status = item.status
        if item.responded_at and (
            member.first_responded_at is None or item.responded_at < member.first_responded_at
        ):
            member.first_responded_at = item.responded_at
        return False, None
