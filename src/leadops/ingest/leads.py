"""Upserting leads by normalized e-mail (or by their id in another system), and merging duplicates.

An upsert fills and updates fields but never blanks one: an empty cell means "not given".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, tuple_, update

from leadops.errors import FieldError
from leadops.ingest.accounts import AccountResolver, CompanyFacts, company_domain
from leadops.ingest.context import FieldReader, IngestContext
from leadops.ingest.normalize import (
    clean_text,
    json_problem,
    normalize_company,
    normalize_email,
    parse_int,
    scrub_text,
    text_problem,
)
from leadops.ingest.prefectures import find_prefecture, region_of
from leadops.models import (
    Account,
    Activity,
    CampaignMember,
    Lead,
    LeadAssignment,
    LeadEvent,
    Opportunity,
    ScoreLedger,
    Task,
    Touch,
    User,
    column_length,
)

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
    custom: dict[str, Any] = field(default_factory=dict)


@dataclass
class LeadOutcome:
    lead: Lead
    created: bool
    changed: bool
    flags: list[tuple[str, str]] = field(default_factory=list)


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
        by_email, by_crm = self._find(item)
        flags: list[tuple[str, str]] = []
        if by_email is not None and by_crm is not None and by_email.id != by_crm.id:
            merge_leads(self.ctx, winner=by_email, loser=by_crm)
            flags.append(("merged", f"lead {by_crm.id} merged into {by_email.id} (same person)"))
        lead = by_email or by_crm
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
                lifecycle_stage="inquiry",
                status="new",
                touch_stage="untouched",
                score=0,
                behavior_score=0,
                fit_score=0,
                temperature="cold",
                is_valid=True,
            )
            self.ctx.session.add(lead)
            self._event(lead, "created", None, "new", at)
        changed = self._apply(lead, item, flags)
        if changed and not created:
            lead.updated_at = self.ctx.now
        if changed or created:
            self.touched.append(lead)
        self._remember(lead)
        return LeadOutcome(lead, created, changed or created, flags)

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
        if item.status and item.status != lead.status:
            self._event(lead, "status", lead.status, item.status, self.ctx.now)
            lead.status, lead.status_changed_at, changed = item.status, self.ctx.now, True
        if item.owner:
            user = self.find_user(item.owner)
            if user is None:
                flags.append(
                    (
                        "unknown_owner",
                        f"owner {item.owner!r} is not a leadops user; lead left unassigned",
                    )
                )
            elif lead.owner_id != user.id:
                self._event(lead, "owner", _ref(lead.owner_id), str(user.id), self.ctx.now)
                lead.owner_id, lead.team_id, lead.assigned_at, changed = (
                    user.id,
                    user.team_id,
                    self.ctx.now,
                    True,
                )
        return changed

    def finish(self) -> None:
        """Flush, then score fit rules and re-check validity for every lead created or changed."""
        from leadops.rules.service import active_rules
        from leadops.scoring.service import evaluate

        if not self.touched:
            return
        session = self.ctx.session
        session.flush()
        ids = sorted({lead.id for lead in self.touched})
        self.touched = []
        evaluate(
            session,
            active_rules(session, self.ctx.now),
            self.ctx.now,
            ids,
            refit=True,
            actor_kind=self.ctx.actor_kind,
            actor_ref=self.ctx.actor_ref,
            routing=self.ctx.routing,
        )
        for lead_id in ids:
            lead = session.get(Lead, lead_id)
            if lead is not None:
                session.expire(lead)

    def _event(self, lead: Lead, kind: str, old: str | None, new: str | None, at: datetime) -> None:
        self.ctx.session.add(
            LeadEvent(
                lead=lead,
                at=at,
                kind=kind,
                from_value=old,
                to_value=new,
                actor_kind=self.ctx.actor_kind,
                actor_ref=self.ctx.actor_ref,
            )
        )


def _ref(value: int | None) -> str | None:
    return None if value is None else str(value)


# Score ledger lines are not moved: the merged lead keeps its own (it points at the winner) and the
# winner is replayed from the combined activities.
_HISTORY = (Activity, LeadEvent, Touch, Task, Opportunity, LeadAssignment)


def merge_leads(ctx: IngestContext, *, winner: Lead, loser: Lead) -> None:
    """Move all of ``loser``'s history onto ``winner``. The loser stays as a pointer, never
    deleted."""
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
    for name in (
        *TEXT_FIELDS,
        "prefecture",
        "region",
        "account_id",
        "owner_id",
        "team_id",
        "crm_source",
        "crm_id",
    ):
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
    # Its history grew: drop the lines both had under the active rules; the next evaluation replays
    # it.
    from leadops.rules.service import active_rules

    version = active_rules(session, ctx.now).version
    session.execute(
        delete(ScoreLedger).where(
            ScoreLedger.lead_id == winner.id, ScoreLedger.rules_version == version
        )
    )
    winner.scored_version = None
    loser.email = None
    loser.crm_id = None
    loser.crm_source = None
    loser.status = "merged"
    session.flush()
    session.add(
        LeadEvent(
            lead_id=winner.id,
            at=ctx.now,
            kind="merged",
            from_value=str(loser.id),
            to_value=str(winner.id),
            reason="duplicate lead merged",
            actor_kind=ctx.actor_kind,
            actor_ref=ctx.actor_ref,
        )
    )
