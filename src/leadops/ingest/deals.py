"""Importing opportunities (deals): upserted by their id in the source system, linked to leads,
accounts and users. A deal that contradicts its lead's history is kept and flagged, never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from leadops.cadence.opportunities import advance_lead
from leadops.errors import FieldError
from leadops.ingest.accounts import AccountResolver, CompanyFacts
from leadops.ingest.context import FieldReader, IngestContext
from leadops.lifecycle.door import Actor
from leadops.models import Lead, Opportunity, OpportunityEvent, User
from leadops.models.opportunities import CLOSED_STAGES, DEFAULT_STAGES
from leadops.normalize import clean_text, normalize_email, parse_float


@dataclass
class DealInput:
    crm_source: str
    crm_id: str | None
    lead_email: str | None
    lead_key: tuple[str, str] | None
    account: str | None
    name: str | None
    owner: str | None
    sdr: str | None
    stage: str
    amount: float | None
    created_at: datetime | None
    closed_at: datetime | None
    lost_reason: str | None
    custom: dict[str, Any] = field(default_factory=dict)


@dataclass
class DealOutcome:
    opportunity: Opportunity
    created: bool
    flags: list[tuple[str, str]] = field(default_factory=list)


def validate_deal(
    fields: Mapping[str, Any],
    extra: Mapping[str, Any],
    ctx: IngestContext,
    *,
    source_system: str | None,
) -> tuple[DealInput | None, list[FieldError]]:
    reader = FieldReader(fields)
    source = source_system or "import"
    stage = clean_text(fields.get("stage"))
    if stage is None:
        reader.error("stage", f"missing; stages are {list(DEFAULT_STAGES)}")
    elif stage not in DEFAULT_STAGES:
        reader.error(
            "stage",
            f"unknown stage {stage!r}; stages are {list(DEFAULT_STAGES)} "
            "(map other names with 'values:' in a mapping file)",
        )
    lead_email = reader.read("lead_email", lambda v: normalize_email(str(v)))
    lead_ext = clean_text(fields.get("lead_external_id"))
    created = reader.read("created_at", ctx.parse_time)
    closed_at = reader.read("closed_at", ctx.parse_time)
    amount = reader.read("amount", parse_float)
    if stage in CLOSED_STAGES and closed_at is None and not reader.failed("closed_at"):
        reader.error("closed_at", f"missing: a {stage} deal needs its close date")
    created_at = created or closed_at
    errors = reader.errors
    if errors:
        return None, errors
    assert stage is not None
    return (
        DealInput(
            crm_source=source,
            crm_id=clean_text(fields.get("external_id")),
            lead_email=lead_email,
            lead_key=(source, lead_ext) if lead_ext else None,
            account=clean_text(fields.get("account")),
            name=clean_text(fields.get("name")),
            owner=clean_text(fields.get("owner")),
            sdr=clean_text(fields.get("sdr")),
            stage=stage,
            amount=amount,
            created_at=created_at,
            closed_at=closed_at,
            lost_reason=clean_text(fields.get("lost_reason")),
            custom=dict(extra),
        ),
        [],
    )


class DealWriter:
    def __init__(self, ctx: IngestContext, *, create_users: bool = False) -> None:
        self.ctx = ctx
        self.create_users = create_users
        self.accounts = AccountResolver(ctx)
        self.users: dict[str, User | None] = {}

    def _user(self, ref: str, flags: list[tuple[str, str]], role: str) -> User | None:
        if ref not in self.users:
            user = self.ctx.session.scalar(
                select(User).where(
                    or_(User.email == ref.lower(), User.external_ref == ref, User.name == ref)
                )
            )
            if user is None and self.create_users:
                user = User(
                    external_ref=ref,
                    name=ref,
                    role="member",
                    active=True,
                    routing_weight=1.0,
                    locale="ja",
                    created_at=self.ctx.now,
                )
                self.ctx.session.add(user)
                self.ctx.session.flush()
            self.users[ref] = user
        user = self.users[ref]
        if user is None:
            flags.append((f"unknown_{role}", f"{role} {ref!r} is not a leadops user; left empty"))
        return user

    def _lead(self, item: DealInput, flags: list[tuple[str, str]]) -> Lead | None:
        session = self.ctx.session
        lead = None
        if item.lead_email:
            lead = session.scalar(select(Lead).where(Lead.email == item.lead_email))
        if lead is None and item.lead_key:
            lead = session.scalar(
                select(Lead).where(
                    Lead.crm_source == item.lead_key[0], Lead.crm_id == item.lead_key[1]
                )
            )
        if lead is None and (item.lead_email or item.lead_key):
            ref = item.lead_email or item.lead_key[1]  # type: ignore[index]
            flags.append(("unknown_lead", f"no lead {ref!r}; the deal is kept without a lead"))
        return lead

    def upsert(self, item: DealInput) -> DealOutcome:
        session, now = self.ctx.session, self.ctx.now
        flags: list[tuple[str, str]] = []
        opp = None
        if item.crm_id:
            opp = session.scalar(
                select(Opportunity).where(
                    Opportunity.crm_source == item.crm_source, Opportunity.crm_id == item.crm_id
                )
            )
        lead = self._lead(item, flags)
        owner = self._user(item.owner, flags, "owner") if item.owner else None
        sdr = self._user(item.sdr, flags, "sdr") if item.sdr else None
        account_id = lead.account_id if lead else None
        if item.account:
            account = self.accounts.resolve(CompanyFacts(name=item.account), None)
            if account is not None:
                session.flush()
                account_id = account.id
        if item.created_at is None:
            # Like a CRM import: a deal without a creation date is created now, and says so.
            item.created_at = opp.created_at if opp else now
            flags.append(
                ("missing_created_at", "no creation date: the opportunity is dated at its import")
            )
        created = opp is None
        closed_now = item.stage in CLOSED_STAGES and (opp is None or opp.stage != item.stage)
        if opp is None:
            opp = Opportunity(
                crm_source=item.crm_source,
                crm_id=item.crm_id,
                stage=item.stage,
                created_at=item.created_at,
                stage_changed_at=item.closed_at or item.created_at,
                custom={},
                flags=[],
            )
            session.add(opp)
            session.flush()
            self._stage_event(opp, item.created_at, None, "to_contact")
            if item.stage != "to_contact":
                self._stage_event(opp, item.closed_at or item.created_at, "to_contact", item.stage)
        elif opp.stage != item.stage:
            at = item.closed_at or now
            self._stage_event(opp, at, opp.stage, item.stage)
            opp.stage, opp.stage_changed_at = item.stage, at
        opp.lead_id = lead.id if lead else opp.lead_id
        opp.account_id = account_id or opp.account_id
        opp.owner_id = owner.id if owner else opp.owner_id
        opp.sdr_id = sdr.id if sdr else opp.sdr_id
        opp.name = item.name or opp.name
        opp.amount = item.amount if item.amount is not None else opp.amount
        opp.closed_at = item.closed_at if item.stage in CLOSED_STAGES else None
        opp.lost_reason = item.lost_reason or opp.lost_reason
        opp.custom = {**(opp.custom or {}), **item.custom}
        if lead is not None:
            flags.extend(self._check_against_lead(opp, lead))
            session.flush()
            advance_lead(
                session,
                self.ctx.rules(),
                opp,
                actor=Actor(self.ctx.actor_kind, self.ctx.actor_ref),
                now=now,
                closed=opp.stage if closed_now else None,
                declared=True,
            )
        opp.flags = sorted(
            {
                *(opp.flags or []),
                *(
                    f
                    for f, _ in flags
                    if f.endswith("before_first_contact") or f == "missing_created_at"
                ),
            }
        )
        return DealOutcome(opp, created, flags)

    def _stage_event(self, opp: Opportunity, at: datetime, old: str | None, new: str) -> None:
        self.ctx.session.add(
            OpportunityEvent(
                opportunity_id=opp.id,
                at=at,
                from_stage=old,
                to_stage=new,
                actor_kind=self.ctx.actor_kind,
                actor_ref=self.ctx.actor_ref,
            )
        )

    def _check_against_lead(self, opp: Opportunity, lead: Lead) -> list[tuple[str, str]]:
        first = lead.created_at
        if opp.closed_at is not None and opp.closed_at < first:
            return [
                (
                    f"{opp.stage}_before_first_contact",
                    f"deal {opp.stage} at {opp.closed_at.isoformat()} before the lead's first "
                    "contact "
                    f"{first.isoformat()}",
                )
            ]
        if opp.created_at < first:
            return [
                (
                    "opportunity_before_first_contact",
                    f"opportunity created {opp.created_at.isoformat()} before the lead's first "
                    "contact "
                    f"{first.isoformat()}",
                )
            ]
        return []
