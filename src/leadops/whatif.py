"""What a rules document would change, before it is applied.

``preview_rules`` applies the document the way ``leadops rules apply`` does — a new active version,
then every live lead rescored and re-routed through the pipeline and its door — inside one
transaction that it rolls back: the same code gives the same answer, and nothing is written (the
ledger lines are not even made: nothing in a rescore reads them back). It
compares each lead before and after (score, temperature, lifecycle stage, level, validity, status,
team, owner) and counts the approach requests that would open, with a few example leads each.

On SQLite the transaction holds the write lock while it runs (other writers wait up to the busy
timeout); on PostgreSQL readers and writers carry on, and the rows it locks are released when it
rolls back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sklearn.metrics import roc_auc_score
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from leadops.db import collector_paused
from leadops.models import Lead, Opportunity, ScoreLedger, Task, Team, User
from leadops.pipeline import process
from leadops.routing.service import KEPT_OPEN_LEADS
from leadops.rules.loader import CompiledRules
from leadops.rules.service import (
    active_rules,
    ensure_rules,
    forget_compiled,
    store_version,
    validate,
)
from leadops.scoring.engine import ScoredActivity
from leadops.scoring.facts import load_activities

#: The lead fields a preview compares, in the order it reports them.
FIELDS = (
    "temperature",
    "lifecycle_stage",
    "level",
    "is_valid",
    "status",
    "team_id",
    "owner_id",
)
#: Score changes by size: (label, lowest, highest) — the bands of the distribution.
BANDS: tuple[tuple[str, float, float], ...] = (
    ("-50 or less", float("-inf"), -50),
    ("-49 to -10", -49, -10),
    ("-9 to -1", -9, -1),
    ("+1 to +9", 1, 9),
    ("+10 to +49", 10, 49),
    ("+50 or more", 50, float("inf")),
)


@dataclass(frozen=True)
class Example:
    lead_id: int
    email: str | None
    company: str | None
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "email": self.email,
            "company": self.company,
            "before": self.before,
            "after": self.after,
        }


@dataclass
class Move:
    """Leads whose ``what`` (a lead field) would go from one value to another."""

    what: str
    before: Any
    after: Any
    count: int = 0
    examples: list[Example] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.what,
            "from": self.before,
            "to": self.after,
            "count": self.count,
            "examples": [e.as_dict() for e in self.examples],
        }


@dataclass
class Opened:
    """Approach requests a rule would open."""

    rule: str
    count: int = 0
    examples: list[Example] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "count": self.count,
            "examples": [e.as_dict() for e in self.examples],
        }


@dataclass
class Preview:
    active_version: int
    leads: int
    score_changed: int = 0
    score_up: int = 0
    score_down: int = 0
    mean_change: float = 0.0
    #: (band label, leads) over the leads whose score would change.
    bands: list[tuple[str, int]] = field(default_factory=list)
    biggest: list[Example] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    opened: list[Opened] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.score_changed or self.moves or self.opened)

    def by_field(self, name: str) -> list[Move]:
        return [m for m in self.moves if m.what == name]

    def as_dict(self) -> dict[str, Any]:
        return {
            "active_version": self.active_version,
            "leads": self.leads,
            "score": {
                "changed": self.score_changed,
                "up": self.score_up,
                "down": self.score_down,
                "mean_change": self.mean_change,
                "bands": [{"band": b, "leads": n} for b, n in self.bands],
                "biggest": [e.as_dict() for e in self.biggest],
            },
            "changes": [m.as_dict() for m in self.moves],
            "approach_requests": [o.as_dict() for o in self.opened],
        }


_COLUMNS = (Lead.id, Lead.email, Lead.company, Lead.score, *(getattr(Lead, f) for f in FIELDS))


def _snapshot(session: Session) -> dict[int, tuple[Any, ...]]:
    live = select(*_COLUMNS).where(Lead.merged_into_id.is_(None)).order_by(Lead.id)
    return {row[0]: tuple(row) for row in session.execute(live)}


def _names(session: Session) -> dict[str, dict[Any, str]]:
    """Teams and owners by name, so a preview says who, not which id."""
    return {
        "team_id": {i: name for i, name in session.execute(select(Team.id, Team.name))},
        "owner_id": {i: email or "" for i, email in session.execute(select(User.id, User.email))},
    }


def preview_rules(
    factory: sessionmaker[Session],
    text: str,
    now: datetime,
    *,
    chunk: int = 1000,
    examples: int = 3,
) -> Preview:
    """What applying ``text`` now would change on today's live leads, computed by applying it in
    a transaction that is rolled back. Raises ``RulesInvalid`` for a document with errors."""
    stored: int | None = None
    # A rescore of every lead makes millions of short-lived objects in no cycle: collection passes
    # over them (a sixth of the time) are held off, as in every unit of work (``db``).
    with collector_paused(), factory() as session:
        try:
            validate(session, text)
            active = ensure_rules(session, now)
            before = _snapshot(session)
            last_task = session.scalar(select(func.max(Task.id))) or 0
            names = _names(session)
            stored = store_version(session, text, author=None, comment="preview", now=now).version
            rules = active_rules(session, now)
            _rescore(factory, session, rules, now, list(before), chunk, ledger=False)
            after = _snapshot(session)
            opened = session.execute(
                select(Task.rule_id, Task.lead_id).where(Task.id > last_task).order_by(Task.id)
            ).all()
            return _compare(active.version, before, after, opened, names, examples)
        finally:
            session.rollback()
            if stored is not None:
                forget_compiled(stored, text)


def _compare(
    active_version: int,
    before: dict[int, tuple[Any, ...]],
    after: dict[int, tuple[Any, ...]],
    opened: Sequence[Any],
    names: dict[str, dict[Any, str]],
    examples: int,
) -> Preview:
    preview = Preview(active_version=active_version, leads=len(before))
    deltas: list[tuple[int, int]] = []
    moves: dict[tuple[str, Any, Any], Move] = {}
    for lead_id, old in before.items():
        new = after.get(lead_id, old)
        delta = int(new[3] or 0) - int(old[3] or 0)
        if delta:
            deltas.append((lead_id, delta))
        for offset, name in enumerate(FIELDS, start=4):
            if old[offset] == new[offset]:
                continue
            shown = names.get(name, {})
            was, now_ = shown.get(old[offset], old[offset]), shown.get(new[offset], new[offset])
            move = moves.setdefault((name, was, now_), Move(name, was, now_))
            move.count += 1
            if len(move.examples) < examples:
                move.examples.append(Example(lead_id, old[1], old[2], was, now_))
    if deltas:
        preview.score_changed = len(deltas)
        preview.score_up = sum(1 for _, d in deltas if d > 0)
        preview.score_down = len(deltas) - preview.score_up
        preview.mean_change = round(sum(d for _, d in deltas) / len(deltas), 1)
        counts = Counter(
            next(label for label, low, high in BANDS if low <= d <= high) for _, d in deltas
        )
        preview.bands = [(label, counts[label]) for label, _, _ in BANDS if counts[label]]
        for lead_id, delta in sorted(deltas, key=lambda x: (-abs(x[1]), x[0]))[:examples]:
            old = before[lead_id]
            preview.biggest.append(Example(lead_id, old[1], old[2], old[3], old[3] + delta))
    order = {name: n for n, name in enumerate(FIELDS)}
    preview.moves = sorted(moves.values(), key=lambda m: (order[m.what], -m.count, str(m.before)))
    by_rule: dict[str, Opened] = defaultdict(lambda: Opened(""))
    for rule_id, lead_id in opened:
        found = by_rule[rule_id or ""]
        found.rule = rule_id or ""
        found.count += 1
        if len(found.examples) < examples:
            old = before.get(lead_id) or (lead_id, None, None)
            found.examples.append(Example(lead_id, old[1], old[2], None, None))
    preview.opened = sorted(by_rule.values(), key=lambda o: (-o.count, o.rule))
    return preview


# --- backtest ------------------------------------------------------------------------------------


@dataclass
class Band:
    """Leads of one temperature band (or MQL or not) at the cut, and how many converted."""

    name: str
    leads: int = 0
    converted: int = 0

    @property
    def rate(self) -> float | None:
        return round(self.converted / self.leads, 4) if self.leads else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "band": self.name,
            "leads": self.leads,
            "converted": self.converted,
            "rate": self.rate,
        }


@dataclass
class Verdict:
    """How well one document's scores, N days after each lead was created, predicted whether it
    came to an appointment."""

    document: str
    version: int
    #: The area under the ROC curve of the score at the cut (None without both outcomes).
    auc: float | None = None
    temperatures: list[Band] = field(default_factory=list)
    mql: list[Band] = field(default_factory=list)
    #: (team, leads) the leads are in under the document, most first.
    teams: list[tuple[str, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "version": self.version,
            "auc": self.auc,
            "by_temperature": [b.as_dict() for b in self.temperatures],
            "mql": [b.as_dict() for b in self.mql],
            "teams": [{"team": t, "leads": n} for t, n in self.teams],
        }


@dataclass
class Backtest:
    days: int
    since: datetime | None
    leads: int
    converted: int
    active: Verdict
    draft: Verdict

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "since": self.since.isoformat() if self.since else None,
            "leads": self.leads,
            "converted": self.converted,
            "active": self.active.as_dict(),
            "draft": self.draft.as_dict(),
        }


def backtest_rules(
    factory: sessionmaker[Session],
    text: str,
    now: datetime,
    *,
    days: int = 14,
    since: datetime | None = None,
    chunk: int = 1000,
) -> Backtest:
    """Replay the history under the active document and under ``text``, in a transaction that is
    rolled back, and say for each how well the score a lead had ``days`` after its creation
    predicted its outcome: an appointment (an opportunity) after that cut. The leads are the live
    ones created since ``since`` that are ``days`` old, without an appointment before their cut
    (its score would already show it). Raises ``RulesInvalid`` for a document with errors."""
    stored: int | None = None
    # A rescore of every lead makes millions of short-lived objects in no cycle: collection passes
    # over them (a sixth of the time) are held off, as in every unit of work (``db``).
    with collector_paused(), factory() as session:
        try:
            validate(session, text)
            ensure_rules(session, now)
            leads = _cohort(session, now, days, since)
            labels = _outcomes(session, leads, days)
            rules = active_rules(session, now)
            stale = [i for i in leads if leads[i][1] != rules.version]
            _rescore(factory, session, rules, now, stale, chunk)
            before = _verdict(session, "active", rules, leads, labels, days)
            stored = store_version(session, text, author=None, comment="backtest", now=now).version
            draft_rules = active_rules(session, now)
            _rescore(factory, session, draft_rules, now, list(leads), chunk)
            after = _verdict(session, "draft", draft_rules, leads, labels, days)
            converted = sum(1 for lead_id in leads if labels.get(lead_id))
            return Backtest(days, since, len(labels), converted, before, after)
        finally:
            session.rollback()
            if stored is not None:
                forget_compiled(stored, text)


def _cohort(
    session: Session, now: datetime, days: int, since: datetime | None
) -> dict[int, tuple[datetime, int | None]]:
    """The live leads old enough to have a cut: id → (created at, scored version)."""
    query = select(Lead.id, Lead.created_at, Lead.scored_version).where(
        Lead.merged_into_id.is_(None), Lead.created_at <= now - timedelta(days=days)
    )
    if since is not None:
        query = query.where(Lead.created_at >= since)
    return {i: (created, version) for i, created, version in session.execute(query)}


def _outcomes(
    session: Session, leads: dict[int, tuple[datetime, int | None]], days: int
) -> dict[int, bool]:
    """Whether each lead came to an appointment after its cut; a lead with one before its cut
    is left out."""
    first: dict[int, datetime] = {}
    for lead_id, at in session.execute(
        select(Opportunity.lead_id, func.min(Opportunity.created_at))
        .where(Opportunity.lead_id.is_not(None))
        .group_by(Opportunity.lead_id)
    ):
        if lead_id in leads:
            first[lead_id] = at
    labels = {}
    for lead_id, (created, _) in leads.items():
        booked = first.get(lead_id)
        if booked is not None and booked <= created + timedelta(days=days):
            continue
        labels[lead_id] = booked is not None
    return labels


def _rescore(
    factory: sessionmaker[Session],
    session: Session,
    rules: CompiledRules,
    now: datetime,
    ids: Sequence[int],
    chunk: int,
    *,
    ledger: bool = True,
) -> None:
    """Rescore these leads chunk by chunk in ``session``'s transaction, each chunk's activities
    read ahead, while the chunk before is scored, on a connection of their own: a what-if writes
    no activity, so what that reads is what its own transaction would, and the database reads
    them (and the driver decodes them) while leadops scores. Its routing, chunk after chunk in
    the one transaction, keeps the reps' open-lead counts instead of counting every open lead
    again for each chunk."""
    session.info.setdefault(KEPT_OPEN_LEADS, {})
    parts = [ids[start : start + chunk] for start in range(0, len(ids), chunk)]
    with factory() as reader_session, ThreadPoolExecutor(1, "leadops-whatif-read") as reader:

        def read(part: Sequence[int]) -> dict[int, list[ScoredActivity]]:
            try:
                return load_activities(reader_session, part)
            finally:
                reader_session.rollback()  # each chunk from the newest committed state

        ahead = reader.submit(read, parts[0]) if parts and _may_read_apart(session) else None
        for number, part in enumerate(parts):
            histories = ahead.result() if ahead is not None else None
            if ahead is not None and number + 1 < len(parts):
                ahead = reader.submit(read, parts[number + 1])
            process(session, rules, now, part, rescore=True, ledger=ledger, histories=histories)
    session.flush()


def _may_read_apart(session: Session) -> bool:
    """Whether another connection sees this database: not so for SQLite in memory (each
    connection has a database of its own)."""
    url = session.get_bind().engine.url
    return url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:")


def _verdict(
    session: Session,
    document: str,
    rules: Any,
    leads: dict[int, tuple[datetime, int | None]],
    labels: dict[int, bool],
    days: int,
) -> Verdict:
    """The scores at each lead's cut, from the version's ledger lines dated by then."""
    scores: dict[int, int] = dict.fromkeys(labels, 0)
    cuts = {lead_id: leads[lead_id][0] + timedelta(days=days) for lead_id in labels}
    lines = select(ScoreLedger.lead_id, ScoreLedger.at, ScoreLedger.delta).where(
        ScoreLedger.rules_version == rules.version
    )
    for lead_id, at, delta in session.execute(lines):
        if lead_id in scores and at <= cuts[lead_id]:
            scores[lead_id] += delta
    verdict = Verdict(document, rules.version)
    outcomes = [labels[i] for i in scores]
    if any(outcomes) and not all(outcomes):
        verdict.auc = round(float(roc_auc_score(outcomes, list(scores.values()))), 4)
    bands = {b.name: Band(b.name) for b in rules.document.temperature.bands}
    mql = rules.document.lifecycle.mql_score
    marks = {True: Band("mql"), False: Band("not_mql")}
    for lead_id, score in scores.items():
        for band in (bands[rules.temperature(score)], marks[score >= mql]):
            band.leads += 1
            band.converted += int(labels[lead_id])
    verdict.temperatures = list(bands.values())
    verdict.mql = [marks[True], marks[False]]
    teams = _teams_of(session, set(labels))
    verdict.teams = sorted(teams.items(), key=lambda t: (-t[1], t[0]))
    return verdict


def _teams_of(session: Session, ids: set[int]) -> Counter[str]:
    found: Counter[str] = Counter()
    query = select(Lead.id, Team.name).outerjoin(Team, Team.id == Lead.team_id)
    for lead_id, name in session.execute(query):
        if lead_id in ids:
            found[name or ""] += 1
    return found
