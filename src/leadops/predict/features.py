"""What the predictive model sees of a lead at a cut-off time, and what it learns to predict.

A lead's facts at a cut-off are its own and its account's fields (source, first campaign's type,
prefecture, region, industry, employees, title class, free mail, every custom field) and what it did
strictly before the cut-off: activities by type, days since the last one, the rules score (the sum
of its ledger lines before the cut-off) and its level then. Nothing recorded at or after the
cut-off is read: for a lead with a known result the cut-off is the moment of that result, so the
opportunity itself, the status it closed with and everything later stay out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadops.db import chunked, driver_json, driver_rows, driver_time
from leadops.models import (
    Account,
    Activity,
    ActivityType,
    Campaign,
    Lead,
    LeadEvent,
    Opportunity,
    ScoreLedger,
)
from leadops.normalize import is_free_mail
from leadops.rules.loader import CompiledRules
from leadops.rules.segments import Segmentation

OUTCOMES = ("appointment", "won")
#: Statuses a lead reaches by winning: closing into them is not a negative result.
POSITIVE_STATUSES = frozenset({"customer", "partner"})
DAY = 86400.0


@dataclass
class LeadFacts:
    """One lead as the model sees it at ``cutoff``."""

    lead_id: int
    created_at: datetime
    cutoff: datetime
    fields: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)
    last_activity_at: datetime | None = None
    score: int = 0
    level_at_cutoff: int | None = None
    #: 1 reached the outcome, 0 closed without it, None not known yet.
    label: int | None = None


@dataclass(frozen=True)
class Result:
    """When a lead's outcome became known, and which way."""

    at: datetime
    positive: bool


def outcome_results(
    session: Session,
    rules: CompiledRules,
    outcome: str,
    as_of: datetime,
    horizon_days: int,
    created: dict[int, datetime],
) -> dict[int, Result]:
    """Each lead's result known by ``as_of``: positive at its first appointment (an opportunity
    created) or win; else negative at its first lost opportunity, disqualifying or nurture status,
    or ``horizon_days`` after creation without the outcome."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome: expected one of {', '.join(OUTCOMES)}, got {outcome!r}")
    positive: dict[int, datetime] = {}
    when = Opportunity.created_at if outcome == "appointment" else Opportunity.closed_at
    reached = select(Opportunity.lead_id, func.min(when)).where(when <= as_of)
    if outcome == "won":
        reached = reached.where(Opportunity.stage == "won")
    for lead_id, at in session.execute(reached.group_by(Opportunity.lead_id)):
        if lead_id is not None and at is not None:
            positive[lead_id] = at
    negative: dict[int, datetime] = {}
    lost = select(Opportunity.lead_id, func.min(Opportunity.closed_at)).where(
        Opportunity.stage == "lost", Opportunity.closed_at <= as_of
    )
    closing = sorted((rules.closed_statuses | rules.nurture_statuses) - POSITIVE_STATUSES)
    closed = select(LeadEvent.lead_id, func.min(LeadEvent.at)).where(
        LeadEvent.kind == "status", LeadEvent.to_value.in_(closing), LeadEvent.at <= as_of
    )
    for stmt in (lost.group_by(Opportunity.lead_id), closed.group_by(LeadEvent.lead_id)):
        for lead_id, at in session.execute(stmt):
            if lead_id is not None and at is not None:
                negative[lead_id] = min(at, negative.get(lead_id, at))
    horizon = timedelta(days=horizon_days)
    out: dict[int, Result] = {}
    for lead_id, created_at in created.items():
        if lead_id in positive:
            out[lead_id] = Result(max(positive[lead_id], created_at), True)
        elif lead_id in negative:
            out[lead_id] = Result(max(negative[lead_id], created_at), False)
        elif created_at + horizon <= as_of:
            out[lead_id] = Result(created_at + horizon, False)
    return out


def _lead_rows(session: Session, lead_ids: Sequence[int] | None) -> Iterator[Any]:
    stmt = (
        select(
            Lead.id,
            Lead.created_at,
            Lead.email,
            Lead.source,
            Lead.prefecture,
            Lead.region,
            Lead.title,
            Lead.company,
            Lead.custom,
            Lead.scored_version,
            Lead.score,
            Lead.level,
            Lead.last_activity_at,
            Account.employees,
            Account.industry,
            Account.id.label("account_id"),
            Campaign.type.label("campaign_type"),
        )
        .outerjoin(Account, Account.id == Lead.account_id)
        .outerjoin(Campaign, Campaign.id == Lead.first_campaign_id)
        .where(Lead.merged_into_id.is_(None))
        .order_by(Lead.id)
    )
    parts = (
        [stmt]
        if lead_ids is None
        else [stmt.where(Lead.id.in_(part)) for part in chunked(sorted(lead_ids), 500)]
    )
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    for part in parts:
        # The ids are integers from the database; the rows come back from the driver untouched
        # and are converted here once (as ``lifecycle.facts`` reads leads on the hot path).
        result = driver_rows(connection, part)
        names = list(result.keys())
        for raw in result:
            row = _Row(**dict(zip(names, raw, strict=True)))
            if sqlite:
                row.created_at = driver_time(row.created_at)
                row.last_activity_at = driver_time(row.last_activity_at)
            row.custom = driver_json(row.custom)
            yield row


class _Row:
    """A lead row from the driver, with its values by column name."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:  # for mypy: every column is an attribute
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__[name] = value


def _for_leads(
    session: Session, stmt: Any, column: Any, lead_ids: Sequence[int] | None
) -> Iterator[Any]:
    if lead_ids is None:
        yield from session.execute(stmt)
        return
    for part in chunked(sorted(lead_ids), 500):
        yield from session.execute(stmt.where(column.in_(part)))


def load_facts(
    session: Session,
    rules: CompiledRules,
    cutoffs: dict[int, datetime] | datetime,
    lead_ids: Sequence[int] | None = None,
    *,
    current: bool = False,
) -> list[LeadFacts]:
    """The facts of these leads (every live lead when None) at their cut-offs: one time for all,
    or one per lead (a lead absent from the mapping is left out). ``current``: the one cut-off is
    now, so the lead's own score and level are the ones at the cut-off."""
    segmentation = Segmentation(rules.document.segments, session)
    titles: dict[str | None, str] = {}
    free: dict[str | None, bool | None] = {}

    def free_mail(domain: str | None, email: str | None) -> bool | None:
        free[domain] = is_free_mail(email) if email else None
        return free[domain]

    facts: dict[int, LeadFacts] = {}
    versions: dict[int, int | None] = {}
    for row in _lead_rows(session, lead_ids):
        cutoff = cutoffs.get(row.id) if isinstance(cutoffs, dict) else cutoffs
        if cutoff is None:
            continue
        domain = row.email.rsplit("@", 1)[-1] if row.email else None
        if row.title not in titles:
            titles[row.title] = segmentation.title_class(row.title)
        fields: dict[str, Any] = {
            "source": row.source,
            "campaign_type": row.campaign_type,
            "prefecture": row.prefecture,
            "region": row.region,
            "account.industry": row.industry,
            "account.employees": row.employees,
            "title_class": titles[row.title] if row.title else None,
            "free_mail": free.get(domain) if domain in free else free_mail(domain, row.email),
            "has_company": bool(row.account_id or row.company),
        }
        for key, value in (row.custom or {}).items():
            fields[f"custom.{key}"] = value
        facts[row.id] = LeadFacts(row.id, row.created_at, cutoff, fields)
        versions[row.id] = row.scored_version
        if current:
            # Now, the lead's own columns are its score, level and last activity at the cut-off.
            facts[row.id].score = row.score or 0
            facts[row.id].level_at_cutoff = row.level
            facts[row.id].last_activity_at = row.last_activity_at
    ids = None if lead_ids is None else sorted(facts)
    if isinstance(cutoffs, datetime):
        _count_activities_before(session, facts, ids, cutoffs, last=not current)
    else:
        _add_activities(session, facts, ids)
    if not current:
        _add_scores(session, facts, versions, ids)
        _add_levels(session, facts, ids)
    return [facts[i] for i in sorted(facts)]


def _count_activities_before(
    session: Session,
    facts: dict[int, LeadFacts],
    ids: Sequence[int] | None,
    cutoff: datetime,
    *,
    last: bool = True,
) -> None:
    """One cut-off for all: the database counts each lead's activities by type before it, and
    (with ``last``) finds its last one."""
    before = Activity.occurred_at < cutoff
    counts = (
        select(Activity.lead_id, Activity.type, func.count())
        .where(before)
        .group_by(Activity.lead_id, Activity.type)
    )
    for lead_id, type_, count in _for_leads(session, counts, Activity.lead_id, ids):
        lead = facts.get(lead_id)
        if lead is not None:
            lead.counts[type_] = count
    if not last:
        return
    latest = (
        select(Activity.lead_id, func.max(Activity.occurred_at))
        .where(before)
        .group_by(Activity.lead_id)
    )
    for lead_id, at in _for_leads(session, latest, Activity.lead_id, ids):
        lead = facts.get(lead_id)
        if lead is not None and at is not None:
            lead.last_activity_at = driver_time(at)  # SQLite hands an aggregate's time as text


def _add_activities(
    session: Session, facts: dict[int, LeadFacts], ids: Sequence[int] | None
) -> None:
    stmt = select(Activity.lead_id, Activity.type, Activity.occurred_at)
    for lead_id, type_, at in _for_leads(session, stmt, Activity.lead_id, ids):
        lead = facts.get(lead_id)
        if lead is None or at >= lead.cutoff:
            continue
        lead.counts[type_] = lead.counts.get(type_, 0) + 1
        if lead.last_activity_at is None or at > lead.last_activity_at:
            lead.last_activity_at = at


def _add_scores(
    session: Session,
    facts: dict[int, LeadFacts],
    versions: dict[int, int | None],
    ids: Sequence[int] | None,
) -> None:
    stmt = select(ScoreLedger.lead_id, ScoreLedger.rules_version, ScoreLedger.delta, ScoreLedger.at)
    for lead_id, version, delta, at in _for_leads(session, stmt, ScoreLedger.lead_id, ids):
        lead = facts.get(lead_id)
        if lead is None or version != versions.get(lead_id) or at >= lead.cutoff:
            continue
        lead.score += delta


def _add_levels(session: Session, facts: dict[int, LeadFacts], ids: Sequence[int] | None) -> None:
    stmt = select(LeadEvent.lead_id, LeadEvent.at, LeadEvent.to_value).where(
        LeadEvent.kind == "level"
    )
    latest: dict[int, datetime] = {}
    for lead_id, at, value in _for_leads(session, stmt, LeadEvent.lead_id, ids):
        lead = facts.get(lead_id)
        if lead is None or at >= lead.cutoff or (lead_id in latest and latest[lead_id] > at):
            continue
        latest[lead_id] = at
        number = str(value or "")
        lead.level_at_cutoff = int(number) if number.isdigit() else None


def activity_labels(session: Session) -> dict[str, tuple[str, str]]:
    """Each activity type's name in Japanese and English (its own name when it has none)."""
    return {
        t.name: (t.label_ja or t.name, t.label_en or t.name.replace("_", " "))
        for t in session.scalars(select(ActivityType))
    }


def _spread(lead_id: int) -> float:
    """A fixed number in [0, 1) per lead, spread evenly over the ids (golden-ratio sequence)."""
    return (lead_id * 0.6180339887498949) % 1.0


def matched_cutoffs(
    results: dict[int, Result], created: dict[int, datetime]
) -> dict[int, datetime]:
    """Where each labelled lead is seen: a positive just before its outcome; a negative at an age
    (time since creation) taken from the ages at which the positives reached the outcome, and never
    after its own result. Seeing a negative only at its close would give it months more history
    than a positive has, and the model would learn that activity means no outcome."""
    ages = sorted((r.at - created[i]).total_seconds() for i, r in results.items() if r.positive)
    out: dict[int, datetime] = {}
    for lead_id, result in results.items():
        if result.positive or not ages:
            out[lead_id] = result.at
            continue
        age = ages[min(len(ages) - 1, int(_spread(lead_id) * len(ages)))]
        out[lead_id] = min(result.at, created[lead_id] + timedelta(seconds=age))
    return out


def labelled(
    session: Session,
    rules: CompiledRules,
    outcome: str,
    as_of: datetime,
    horizon_days: int,
) -> list[LeadFacts]:
    """Leads created before ``as_of`` whose result is known by then, each with its facts at the
    moment of its result."""
    created = {
        i: at
        for i, at in session.execute(
            select(Lead.id, Lead.created_at).where(
                Lead.merged_into_id.is_(None), Lead.created_at < as_of
            )
        )
    }
    results = outcome_results(session, rules, outcome, as_of, horizon_days, created)
    cutoffs = matched_cutoffs(results, created)
    out = load_facts(session, rules, cutoffs, None if len(cutoffs) > 5000 else sorted(cutoffs))
    for lead in out:
        lead.label = 1 if results[lead.lead_id].positive else 0
    return out


def count_by_label(leads: Iterable[LeadFacts]) -> tuple[int, int]:
    counts: dict[int | None, int] = defaultdict(int)
    for lead in leads:
        counts[lead.label] += 1
    return counts[0] + counts[1], counts[1]
