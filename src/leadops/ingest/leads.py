"""Upserting leads by normalized e-mail (or by their id in another system), and merging duplicates.

An upsert fills and updates fields but never blanks one: an empty cell means "not given".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, tuple_, update

from leadops.errors import FieldError, InvalidTransition, LeadopsError, ValidationFailed
from leadops.ingest.accounts import AccountResolver, CompanyFacts, company_domain
from leadops.ingest.context import FieldReader, IngestContext
from leadops.ingest.prefectures import find_prefecture, region_of
from leadops.lifecycle.door import Actor, Door
from leadops.lifecycle.machine import check_status
from leadops.models import (
    Account,
    Activity,
    CampaignMember,
    Lead,
    LeadAssignment,
    Opportunity,
    ScoreLedger,
    Task,
    Touch,
    User,
    column_length,
)
from leadops.normalize import (
    clean_text,
    json_problem,
    normalize_company,
    normalize_email,
    parse_int,
    scrub_text,
    text_problem,
)
from leadops.pipeline import process

TEXT_FIELDS = ("first_name", "last_name", "company", "title", "department", "phone", "source")


@dataclass
class LeadInput:
    """A validated lead as it came in. None means "not given" (keep what is there)."""

    email: str | None = None
    crm_source: str | None = None
    crm_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    domain: str | None = None
    title: str | None = None
    department: str | None = None
    phone: str | None = None
    prefecture: str | None = None
    source: str | None = None
    created_at: datetime | None = None
    employees: int | None = None
    industry: str | None = None
    owner: str | None = None
    status: str | None = None
    status_reason: str | None = None
    custom: dict[str, Any] = field(default_factory=dict)


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


#: The longest text each lead field may hold: the size of the column it ends up in (an owner is
#: looked up by e-mail or reference, a prefecture by name or code).
LEAD_LENGTHS = {
    "email": column_length(Lead.email),
    "external_id": column_length(Lead.crm_id),
    "crm_id": column_length(Lead.crm_id),
    "crm_source": column_length(Lead.crm_source),
    **{name: column_length(getattr(Lead, name)) for name in TEXT_FIELDS},
    "full_name": column_length(Lead.last_name) + 1 + column_length(Lead.first_name),
    "domain": column_length(Account.domain),
    "industry": column_length(Account.industry),
    "owner": column_length(User.email),
    "prefecture": 20,
    "status": column_length(Lead.status),
    "status_reason": column_length(Lead.status_reason),
    "created_at": 100,
    "employees": 40,
}
#: The most employees a company may have (the largest employers have a few million).
MAX_EMPLOYEES = 10_000_000


def validate_lead(
    fields: Mapping[str, Any],
    ctx: IngestContext,
    *,
    custom: Mapping[str, Any] | None = None,
    crm_source: str | None = None,
    prefix: str = "",
) -> tuple[LeadInput | None, list[FieldError]]:
    """Check one lead's fields. Errors carry the path of the field (``prefix`` + name).

    A blank field is not given: an empty ``crm_source`` is the same as none.
    """
    bad = _unstorable(fields, custom)
    reader = FieldReader({k: v for k, v in fields.items() if k not in bad}, prefix)
    fields = reader.fields
    err = reader.error
    for name, problem in bad.items():
        err(scrub_text(name), problem)
    out = LeadInput(crm_source=clean_text(crm_source), custom=dict(custom or {}))

    known = set(LeadInput.__dataclass_fields__) | {"external_id", "full_name", "campaign"}
    for name in fields:
        if name not in known:
            err(
                scrub_text(name),
                "unknown field; lead fields are "
                f"{sorted(known - {'custom', 'crm_id', 'crm_source'})}",
            )
    out.email = reader.read("email", lambda v: normalize_email(str(v)))
    out.crm_id = clean_text(fields.get("external_id") or fields.get("crm_id"))
    if out.crm_id is not None and out.crm_source is None:
        out.crm_source = clean_text(fields.get("crm_source")) or "import"
    if out.email is None and out.crm_id is None and not reader.failed("email"):
        err(
            "email",
            "missing: a lead needs an e-mail address (or an external_id from its source system)",
        )
    for name in TEXT_FIELDS:
        setattr(out, name, clean_text(fields.get(name)))
    full_name = clean_text(fields.get("full_name"))
    if full_name and not (out.first_name or out.last_name):
        parts = full_name.replace("\u3000", " ").split(None, 1)
        out.last_name, out.first_name = (
            (parts[0], parts[1]) if len(parts) == 2 else (parts[0], None)
        )
        for name in ("last_name", "first_name"):
            too_long = text_problem(getattr(out, name) or "", LEAD_LENGTHS[name])
            if too_long is not None:
                err("full_name", f"its {name.replace('_', ' ')} {too_long}")
    out.domain = clean_text(fields.get("domain"))
    out.industry = clean_text(fields.get("industry"))
    out.owner = clean_text(fields.get("owner"))
    raw_pref = clean_text(fields.get("prefecture"))
    if raw_pref is not None:
        found = find_prefecture(raw_pref)
        if found is None:
            err(
                "prefecture",
                f"unknown prefecture {raw_pref!r}; use a name (大阪府, 大阪, Osaka) or JIS code "
                "1-47",
            )
        else:
            out.prefecture = found.name
    out.employees = reader.read("employees", lambda v: parse_int(v, most=MAX_EMPLOYEES))
    if out.employees is not None and out.employees < 0:
        err("employees", "must not be negative")
    out.created_at = reader.read("created_at", ctx.parse_time)
    status = clean_text(fields.get("status"))
    if status is not None:
        statuses = ctx.rules().statuses
        if status not in statuses:
            err("status", f"unknown status {status!r}; statuses are {statuses}")
        else:
            out.status = status
    out.status_reason = clean_text(fields.get("status_reason"))
    extra = fields.get("custom")
    if extra is not None:
        if isinstance(extra, dict):
            out.custom.update(extra)
        else:
            err("custom", "expected an object of custom fields")
    return (None if reader.errors else out), reader.errors


def _unstorable(fields: Mapping[str, Any], custom: Mapping[str, Any] | None) -> dict[str, str]:
    """The fields that cannot be stored as they are, and why: a NUL or a lone surrogate anywhere,
    or a text longer than its column (blanks around it do not count)."""
    bad = {}
    for name, value in fields.items():
        problem: str | None
        if text_problem(name) is not None:
            problem = f"the field's name {text_problem(name)}"
        elif isinstance(value, str):
            problem = text_problem(value.strip(), LEAD_LENGTHS.get(name))
        else:
            found = json_problem(value)
            problem = None if found is None else (f"at {found[0]}: " if found[0] else "") + found[1]
        if problem is not None:
            bad[name] = problem
    found = json_problem(dict(custom or {}))
    if found is not None:
        bad["custom"] = f"at {found[0]}: {found[1]}"
    return bad


class LeadWriter:
    """Upserts validated leads within one unit of work, with caches for a batch or an import."""

    def __init__(self, ctx: IngestContext) -> None:
        self.ctx = ctx
        self.accounts = AccountResolver(ctx)
        self.by_email: dict[str, Lead] = {}
        self.by_crm: dict[tuple[str, str], Lead] = {}
        self.users: dict[str, User | None] = {}
        #: E-mails a preload looked for and did not find: no need to ask the database again.
        self.absent: set[str] = set()
        #: Leads created or changed here, whose fit, validity and score finish() brings up to date.
        self.touched: list[Lead] = []
        #: New leads and when they came to be: their first event, written by finish().
        self.created: list[tuple[Lead, datetime]] = []
        #: The statuses (with reasons) and owners the inputs give, moved through the door by
        #: finish().
        self.statuses: dict[Lead, tuple[str, str | None]] = {}
        self.owners: dict[Lead, int] = {}
        self.owner_teams: dict[int, int | None] = {}

    def preload(self, inputs: Iterable[LeadInput]) -> None:
        items = list(inputs)
        session = self.ctx.session
        emails = sorted({i.email for i in items if i.email and i.email not in self.by_email})
        crm = sorted({(i.crm_source, i.crm_id) for i in items if i.crm_id and i.crm_source})
        for start in range(0, len(emails), 500):
            for lead in session.scalars(
                select(Lead).where(Lead.email.in_(emails[start : start + 500]))
            ):
                self._remember(lead)
        self.absent.update(e for e in emails if e not in self.by_email)
        crm = [key for key in crm if key not in self.by_crm]
        for start in range(0, len(crm), 300):
            stmt = select(Lead).where(
                tuple_(Lead.crm_source, Lead.crm_id).in_(crm[start : start + 300])
            )
            for lead in session.scalars(stmt):
                self._remember(lead)
        domains = {d for i in items if (d := company_domain(i.email, i.domain))}
        names = {normalize_company(i.company) for i in items if i.company}
        self.accounts.preload(domains, names)

    def _remember(self, lead: Lead) -> None:
        if lead.email:
            self.by_email[lead.email] = lead
            self.absent.discard(lead.email)
        if lead.crm_source and lead.crm_id:
            self.by_crm[(lead.crm_source, lead.crm_id)] = lead

    def _find(self, item: LeadInput) -> tuple[Lead | None, Lead | None]:
        by_email = self.by_email.get(item.email) if item.email else None
        by_crm = (
            self.by_crm.get((item.crm_source, item.crm_id))
            if item.crm_id and item.crm_source
            else None
        )
        if item.email and by_email is None and item.email not in self.absent:
            by_email = self.ctx.session.scalar(select(Lead).where(Lead.email == item.email))
        return by_email, by_crm

    def find_user(self, ref: str) -> User | None:
        if ref not in self.users:
            self.users[ref] = self.ctx.session.scalar(
                select(User).where(
                    or_(User.email == ref.lower(), User.external_ref == ref, User.name == ref)
                )
            )
        return self.users[ref]

    def upsert(self, item: LeadInput) -> LeadOutcome:
        """Create or update the lead of ``item``. A status the transition table refuses (or one
        without its required reason) refuses the whole input: nothing of it is written."""
        by_email, by_crm = self._find(item)
        lead = by_email or by_crm
        if item.status:
            try:
                self._check_status(lead, item)
            except (ValidationFailed, InvalidTransition) as exc:
                return LeadOutcome(None, False, False, refused=exc)
        flags: list[tuple[str, str]] = []
        if by_email is not None and by_crm is not None and by_email.id != by_crm.id:
            merge_leads(self.ctx, winner=by_email, loser=by_crm)
            flags.append(("merged", f"lead {by_crm.id} merged into {by_email.id} (same person)"))
        created = lead is None
        if lead is None:
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
        changed = self._apply(lead, item, flags)
        if changed and not created:
            lead.updated_at = self.ctx.now
        if changed or created:
            self.touched.append(lead)
        self._remember(lead)
        return LeadOutcome(lead, created, changed or created, flags)

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
        changed = False

        def put(name: str, value: Any) -> None:
            nonlocal changed
            if value is not None and getattr(lead, name) != value:
                setattr(lead, name, value)
                changed = True

        if item.email and lead.email is None:
            put("email", item.email)
        if item.crm_id and lead.crm_id is None:
            put("crm_source", item.crm_source)
            put("crm_id", item.crm_id)
        for name in TEXT_FIELDS:
            put(name, getattr(item, name))
        if item.prefecture:
            put("prefecture", item.prefecture)
            put("region", region_of(item.prefecture, self.ctx.region_map))
        if item.created_at and item.created_at < lead.created_at:
            put("created_at", item.created_at)
        if item.custom:
            merged = {**(lead.custom or {}), **{str(k): v for k, v in item.custom.items()}}
            if merged != lead.custom:
                lead.custom = merged
                changed = True
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

    def _apply_owner(self, lead: Lead, item: LeadInput, flags: list[tuple[str, str]]) -> bool:
        if not item.owner:
            return False
        user = self.find_user(item.owner)
        if user is None:
            message = f"owner {item.owner!r} is not a leadops user; lead left unassigned"
            flags.append(("unknown_owner", message))
            return False
        if self.owners.get(lead, lead.owner_id) == user.id:
            return False
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
        session.flush()
        door = Door(
            session, self.ctx.rules(), self.ctx.now, Actor(self.ctx.actor_kind, self.ctx.actor_ref)
        )
        for lead, at in self.created:
            door.created(lead.id, at)
        door.lock(sorted({lead.id for lead in [*self.statuses, *self.owners]}))
        for lead, (status, reason) in self.statuses.items():
            door.move(lead.id, "status", status, reason=reason, reason_field="status_reason")
        for lead, owner_id in self.owners.items():
            door.move(lead.id, "team", self.owner_teams[owner_id])
            door.move(lead.id, "owner", owner_id)
        door.flush()
        ids = sorted({lead.id for lead in self.touched})
        self.touched, self.created, self.statuses, self.owners = [], [], {}, {}
        return ids


# Score ledger lines are not moved: the merged lead keeps its own (it points at the winner) and the
# winner is replayed from the combined activities. Its state events stay with it too: they are the
# history of its own state, and the winner's chain of events stays unbroken.
_HISTORY = (Activity, Touch, Task, Opportunity, LeadAssignment)


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
    for name in (*TEXT_FIELDS, "prefecture", "region", "account_id", "crm_source", "crm_id"):
        if getattr(winner, name) is None and getattr(loser, name) is not None:
            value = getattr(loser, name)
            if name in ("crm_source", "crm_id"):
                setattr(loser, name, None)
                session.flush()
            setattr(winner, name, value)
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
    door = Door(session, rules, ctx.now, Actor(ctx.actor_kind, ctx.actor_ref))
    door.merge(winner.id, loser.id)
    door.flush()
