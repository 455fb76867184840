"""Upserting leads found by who they are (``identity``: e-mail, id in another system, phone, name
with company), and merging duplicates.

An upsert fills and updates fields but never blanks one: an empty cell means "not given". Inputs of
one lead in one batch (``preload``) are taken as one, the last winning (``lead_input.fold``): a
file with two rows for a lead gives the same lead, status and owner on every import.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from leadops.db import assign_ids
from leadops.errors import FieldError, InvalidTransition, LeadopsError, ValidationFailed
from leadops.ingest.accounts import AccountResolver, CompanyFacts, company_domain
from leadops.ingest.context import IngestContext
from leadops.ingest.identity import Found, Keys, LeadIndex, same_lead_groups
from leadops.ingest.lead_input import (
    LEAD_LENGTHS,
    MAX_EMPLOYEES,
    TEXT_FIELDS,
    LeadInput,
    fold,
    validate_lead,
)
from leadops.ingest.owners import OwnerResolver
from leadops.ingest.prefectures import region_of
from leadops.lifecycle.door import Actor, Door
from leadops.lifecycle.machine import check_status
from leadops.matching import name_key, person_key
from leadops.models import (
    Account,
    Activity,
    CampaignMember,
    FollowUpTask,
    Lead,
    LeadAssignment,
    Opportunity,
    ScoreLedger,
    Task,
    Touch,
)
from leadops.normalize import normalize_company
from leadops.pipeline import process
from leadops.search import refresh_search_keys

__all__ = [
    "LEAD_LENGTHS",
    "MAX_EMPLOYEES",
    "LeadInput",
    "LeadOutcome",
    "LeadWriter",
    "merge_leads",
    "validate_lead",
]

#: The custom field that keeps an owner no user matched.
UNMATCHED_OWNER = "unmatched_owner"
SAME_LEAD = (
    "same_lead",
    "a later row of this batch is the same lead: its values win, this row's fill what it leaves "
    "blank",
)


@dataclass
class LeadOutcome:
    lead: Lead | None
    created: bool
    changed: bool
    flags: list[tuple[str, str]] = field(default_factory=list)
    #: Why nothing of the input was taken (a status the transition table refuses).
    refused: LeadopsError | None = None

    def errors(self, prefix: str = "") -> list[FieldError]:
        """The refusal as field errors (``prefix`` + the field's name)."""
        if self.refused is None:
            return []
        if isinstance(self.refused, ValidationFailed):
            return [FieldError(prefix + e.path, e.message) for e in self.refused.errors]
        return [FieldError(prefix + "status", self.refused.message)]


class LeadWriter:
    """Upserts validated leads within one unit of work, with caches for a batch or an import."""

    def __init__(self, ctx: IngestContext, *, create_users: bool = False) -> None:
        self.ctx = ctx
        self.accounts = AccountResolver(ctx)
        self.index = LeadIndex(ctx.session)
        self.owner_refs = OwnerResolver(ctx, create_users=create_users)
        #: Leads created or changed here, whose fit, validity and score finish() brings up to date.
        self.touched: list[Lead] = []
        #: New leads and when they came to be: their first event, written by finish().
        self.created: list[tuple[Lead, datetime]] = []
        #: The statuses (with reasons) and owners the inputs give, moved through the door by
        #: finish().
        self.statuses: dict[Lead, tuple[str, str | None]] = {}
        self.owners: dict[Lead, int] = {}
        self.owner_teams: dict[int, int | None] = {}
        #: Inputs of a lead given again later in the batch (by id()), and the last input of each
        #: such lead with what the earlier ones gave folded in, and those earlier ones alone.
        self.superseded: dict[int, LeadInput] = {}
        self.folded: dict[int, tuple[LeadInput, LeadInput]] = {}

    def preload(self, inputs: Iterable[LeadInput]) -> None:
        """Look up the leads, accounts and the batch's repeated leads of these inputs at once."""
        items = list(inputs)
        keys = [Keys.of(item) for item in items]
        self.index.preload(keys)
        for group in same_lead_groups(keys):
            members = [items[i] for i in group]
            last = members[-1]
            self.folded[id(last)] = (fold(members), fold(members[:-1]))
            self.superseded.update((id(item), item) for item in members[:-1])
        domains = {d for i in items if (d := company_domain(i.email, i.domain))}
        names = {normalize_company(i.company) for i in items if i.company}
        self.accounts.preload(domains, names)

    def upsert(self, item: LeadInput) -> LeadOutcome:
        """Create or update the lead of ``item``. A status the transition table refuses (or one
        without its required reason) refuses the whole input: nothing of it is written.

        An input a later one of the batch supersedes writes nothing itself: the later one
        carries it. When that one is refused, what the earlier ones gave is still written,
        without a status or an owner (which are the last input's to give)."""
        if id(item) in self.superseded:
            return LeadOutcome(None, False, False, [*item.flags, SAME_LEAD])
        if id(item) not in self.folded:
            return self._upsert(item)
        folded, earlier = self.folded[id(item)]
        outcome = self._upsert(folded)
        if outcome.refused is not None:
            self._upsert(earlier.stateless())
        return outcome

    def _upsert(self, item: LeadInput) -> LeadOutcome:
        keys = Keys.of(item)
        found = self.index.find(keys)
        if item.status:
            try:
                self._check_status(found.lead, item)
            except (ValidationFailed, InvalidTransition) as exc:
                return LeadOutcome(None, False, False, refused=exc)
        flags = [*item.flags, *found.flags]
        lead = found.lead
        created = lead is None
        if lead is None:
            lead = self._new_lead(item)
        self._merge_found(lead, found, flags)
        changed = self._apply(lead, item, flags)
        if changed and not created:
            lead.updated_at = self.ctx.now
        if changed or created:
            self.touched.append(lead)
        self.index.remember(lead)
        return LeadOutcome(lead, created, changed or created, flags)

    def _new_lead(self, item: LeadInput) -> Lead:
        at = item.created_at or self.ctx.now
        lead = Lead(
            email=item.email,
            created_at=at,
            ingested_at=self.ctx.now,
            updated_at=self.ctx.now,
            custom={},
            flags=[],
        )
        self.ctx.session.add(lead)
        self.created.append((lead, at))
        return lead

    def _merge_found(self, lead: Lead, found: Found, flags: list[tuple[str, str]]) -> None:
        for other in found.merge:
            # A merged lead is only a pointer: what this batch gave it is the winner's to take.
            self.statuses.pop(other, None)
            self.owners.pop(other, None)
            merge_leads(self.ctx, winner=lead, loser=other)
            flags.append(("merged", f"lead {other.id} merged into {lead.id} (same person)"))

    def _status_of(self, lead: Lead | None) -> str:
        if lead is None:
            return "new"
        return self.statuses.get(lead, (None, None))[0] or lead.status or "new"

    def _check_status(self, lead: Lead | None, item: LeadInput) -> None:
        assert item.status is not None
        check_status(
            self.ctx.rules(),
            self._status_of(lead),
            item.status,
            item.status_reason,
            reason_field="status_reason",
        )

    def _apply(self, lead: Lead, item: LeadInput, flags: list[tuple[str, str]]) -> bool:
        changed = self._apply_fields(lead, item)
        facts = CompanyFacts(
            item.company, item.domain, item.employees, item.industry, item.prefecture
        )
        if item.company or item.domain or item.email:
            account = self.accounts.resolve(facts, item.email or lead.email)
            if account is not None and (account.id is None or account.id != lead.account_id):
                lead.account = account
                changed = True
        if item.status and item.status != self._status_of(lead):
            self.statuses[lead] = (item.status, item.status_reason)
            changed = True
        return self._apply_owner(lead, item, flags) or changed

    def _apply_fields(self, lead: Lead, item: LeadInput) -> bool:
        values: dict[str, Any] = {name: getattr(item, name) for name in TEXT_FIELDS}
        if person_key(item.last_name, item.first_name) == person_key(
            lead.last_name, lead.first_name
        ):
            # The same name spelled otherwise (山田太郎, 山田 太郎): the known split stays.
            values.update(last_name=None, first_name=None)
        if item.email and lead.email is None:
            values["email"] = item.email
        if item.crm_id and lead.crm_id is None:
            values.update(crm_source=item.crm_source, crm_id=item.crm_id)
        if item.phone is not None:
            # The key goes with the phone it was read from: none for one that is not a number.
            values["phone_key"] = item.phone_key or ""
        values["address"] = item.address
        if item.prefecture:
            values.update(
                prefecture=item.prefecture, region=region_of(item.prefecture, self.ctx.region_map)
            )
        elif item.region:
            values.update(prefecture="", region=item.region)
        if item.created_at and item.created_at < lead.created_at:
            values["created_at"] = item.created_at
        if item.custom:
            values["custom"] = {
                **(lead.custom or {}),
                **{str(k): v for k, v in item.custom.items()},
            }
        changed = _put(lead, values)
        return (
            _put(lead, {"name_key": name_key(lead.last_name, lead.first_name, lead.company)})
            or changed
        )

    def _apply_owner(self, lead: Lead, item: LeadInput, flags: list[tuple[str, str]]) -> bool:
        if not item.owner:
            return False
        match = self.owner_refs.resolve(item.owner)
        if match.flag is not None:
            flags.append(match.flag)
        if match.user is None:
            return _put(lead, {"custom": {**(lead.custom or {}), UNMATCHED_OWNER: item.owner}})
        user = match.user
        changed = False
        if UNMATCHED_OWNER in (lead.custom or {}):
            lead.custom = {k: v for k, v in lead.custom.items() if k != UNMATCHED_OWNER}
            changed = True
        if self.owners.get(lead, lead.owner_id) == user.id:
            return changed
        self.owners[lead] = user.id
        self.owner_teams[user.id] = user.team_id
        return True

    def finish(self) -> None:
        """Record what changed (``record``), then score fit rules, re-check validity and route
        every lead created or changed (the pipeline)."""
        ids = self.record()
        if ids:
            process(
                self.ctx.session,
                self.ctx.rules(),
                self.ctx.now,
                ids,
                refit=True,
                actor=Actor(self.ctx.actor_kind, self.ctx.actor_ref),
                routing=self.ctx.routing,
            )

    def record(self) -> list[int]:
        """Flush; record the new leads and the statuses and owners given, through the door.
        Returns the ids of the leads created or changed."""
        if not self.touched:
            return []
        session = self.ctx.session
        assign_ids(session, [o for o in session.new if isinstance(o, Lead | Account)])
        session.flush()
        door = Door(
            session, self.ctx.rules(), self.ctx.now, Actor(self.ctx.actor_kind, self.ctx.actor_ref)
        )
        for lead, at in self.created:
            door.created(lead.id, at)
        door.lock(sorted({lead.id for lead in [*self.statuses, *self.owners]}))
        for lead, (status, reason) in self.statuses.items():
            field = "status_reason"
            door.move(lead.id, "status", status, reason=reason, reason_field=field, declared=True)
        for lead, owner_id in self.owners.items():
            door.move(lead.id, "team", self.owner_teams[owner_id], declared=True)
            door.move(lead.id, "owner", owner_id, declared=True)
        door.flush()
        ids = sorted({lead.id for lead in self.touched})
        refresh_search_keys(session, ids)
        self.touched, self.created, self.statuses, self.owners = [], [], {}, {}
        return ids


def _put(lead: Lead, values: dict[str, Any]) -> bool:
    """Set the given values (None: not given; "": none) that differ; whether any did."""
    changed = False
    for name, value in values.items():
        if value is None:
            continue
        value = None if value == "" else value
        if getattr(lead, name) != value:
            setattr(lead, name, value)
            changed = True
    return changed


# Score ledger lines are not moved: the merged lead keeps its own (it points at the winner) and the
# winner is replayed from the combined activities. Its state events stay with it too: they are the
# history of its own state, and the winner's chain of events stays unbroken.
_HISTORY = (Activity, Touch, Task, FollowUpTask, Opportunity, LeadAssignment)


def merge_leads(ctx: IngestContext, *, winner: Lead, loser: Lead) -> None:
    """Move ``loser``'s activities, touches, tasks, opportunities, assignments and campaign
    memberships onto ``winner``; fields the winner lacks come from the loser. The loser stays as a
    pointer, never deleted, with its own history."""
    session = ctx.session
    session.flush()
    for model in _HISTORY:
        session.execute(update(model).where(model.lead_id == loser.id).values(lead_id=winner.id))
    # A campaign both were members of keeps the winner's membership.
    winner_campaigns = select(CampaignMember.campaign_id).where(CampaignMember.lead_id == winner.id)
    session.execute(
        update(CampaignMember)
        .where(
            CampaignMember.lead_id == loser.id, CampaignMember.campaign_id.not_in(winner_campaigns)
        )
        .values(lead_id=winner.id)
    )
    _take_fields(ctx, winner=winner, loser=loser)
    winner.custom = {**(loser.custom or {}), **(winner.custom or {})}
    winner.created_at = min(winner.created_at, loser.created_at)
    if loser.last_activity_at and (
        winner.last_activity_at is None or loser.last_activity_at > winner.last_activity_at
    ):
        winner.last_activity_at = loser.last_activity_at
    loser.merged_into_id = winner.id
    # Its history grew: drop the lines both had under the active rules; the next evaluation
    # replays it.
    rules = ctx.rules()
    session.execute(
        delete(ScoreLedger).where(
            ScoreLedger.lead_id == winner.id, ScoreLedger.rules_version == rules.version
        )
    )
    winner.scored_version = None
    loser.email = None
    loser.crm_id = None
    loser.crm_source = None
    # Its phone and name stay for display; it is no longer found by them.
    loser.phone_key = None
    loser.name_key = None
    door = Door(session, rules, ctx.now, Actor(ctx.actor_kind, ctx.actor_ref))
    door.merge(winner.id, loser.id)
    door.flush()


def _take_fields(ctx: IngestContext, *, winner: Lead, loser: Lead) -> None:
    """The fields the winner lacks, from the loser (its id in another system moves: unique)."""
    names = (*TEXT_FIELDS, "phone_key", "address", "prefecture", "region", "account_id")
    for name in (*names, "crm_source", "crm_id"):
        if getattr(winner, name) is None and getattr(loser, name) is not None:
            value = getattr(loser, name)
            if name in ("crm_source", "crm_id"):
                setattr(loser, name, None)
                ctx.session.flush()
            setattr(winner, name, value)
    winner.name_key = name_key(winner.last_name, winner.first_name, winner.company)
