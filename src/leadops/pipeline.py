"""The lead pipeline: score → route → open approach requests, set-based over a batch of leads.

The only place that runs scoring, routing and the cadence together. Ingest calls it for the leads
a batch created or changed, ``leadops rules apply`` for every lead (a rescore), and the worker for
the leads whose decay or expiry has fallen due. Every change of a lead's state goes through one
door per batch (``leadops.lifecycle``), written in a few statements whatever the batch's size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from leadops.cadence.service import open_approach_requests, open_reengagement_requests
from leadops.db import run_in_transaction
from leadops.lifecycle.door import Actor, Door
from leadops.lifecycle.handoff import route
from leadops.models import Lead, RulesVersion
from leadops.predict.service import score_leads as predict_leads
from leadops.routing.service import RouteOutcome
from leadops.rules.loader import CompiledRules
from leadops.rules.service import active_rules
from leadops.scoring.engine import ScoredActivity
from leadops.scoring.service import score_leads


@dataclass
class Outcome:
    leads: int = 0
    lines: int = 0
    events: int = 0
    replayed: int = 0
    routing: RouteOutcome = field(default_factory=RouteOutcome)
    tasks: int = 0
    #: Nurture leads that came back to sales.
    reengaged: int = 0

    def add(self, other: Outcome) -> None:
        self.leads += other.leads
        self.lines += other.lines
        self.events += other.events
        self.replayed += other.replayed
        self.routing.add(other.routing)
        self.tasks += other.tasks
        self.reengaged += other.reengaged


def process(
    session: Session,
    rules: CompiledRules,
    now: datetime,
    lead_ids: Sequence[int],
    *,
    activities: Mapping[int, Sequence[ScoredActivity]] | None = None,
    refit: bool = False,
    sweep: bool = False,
    rescore: bool = False,
    actor: Actor | None = None,
    routing: bool = True,
    ledger: bool = True,
    histories: Mapping[int, Sequence[ScoredActivity]] | None = None,
) -> Outcome:
    """Score these leads (with their new ``activities``), then route the ones that need an owner
    or changed level and open the approach requests the new activities call for (unless
    ``routing`` is off). Idempotent at a fixed ``now``. ``ledger`` off leaves the ledger lines of
    a rescore unwritten (``leadops.whatif``); ``histories``, the activities of every lead of a
    rescore, are given by a caller that read them already."""
    who = actor or Actor("rule")
    # The newest predictive model's probability first, so that the rules below can read it
    # (``prediction.probability``); nothing happens before a model is trained.
    predict_leads(session, rules, now, lead_ids)
    door = Door(session, rules, now, who)
    scored = score_leads(
        door,
        lead_ids,
        activities=activities,
        refit=refit,
        sweep=sweep,
        rescore=rescore,
        ledger=ledger,
        histories=histories,
    )
    outcome = Outcome(leads=scored.leads, lines=scored.lines, replayed=scored.replayed)
    if routing and scored.route:
        outcome.routing = route(door, scored.route, actor_kind=who.kind, actor_ref=who.ref)
    flushed = door.flush()
    outcome.events = flushed.events
    outcome.routing.add(flushed.nurture)
    if routing and scored.arrivals:
        outcome.tasks = open_approach_requests(session, rules, now, scored.arrivals)
    back = [(r.lead_id, r.why, str(r.activity_id or r.at.isoformat())) for r in scored.reengaged]
    if routing and back:
        asked = [b for b, r in zip(back, scored.reengaged, strict=True) if not r.requested]
        outcome.tasks += open_reengagement_requests(session, rules, now, asked)
    outcome.reengaged = len(back)
    return outcome


def rescore_all(factory: sessionmaker[Session], now: datetime, *, chunk: int = 1000) -> Outcome:
    """Every live lead recomputed from its history under the active rules, a chunk per
    transaction."""
    total = Outcome()
    with factory() as session:
        live = select(Lead.id).where(Lead.merged_into_id.is_(None)).order_by(Lead.id)
        ids = list(session.scalars(live))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]

        def work(session: Session, part: Sequence[int] = part) -> Outcome:
            return process(session, active_rules(session, now), now, part, rescore=True)

        total.add(run_in_transaction(factory, work))
    return total


def rescore_stale(
    session: Session, rules: CompiledRules, now: datetime, *, limit: int = 1000
) -> Outcome:
    """Up to ``limit`` live leads still scored under another version than the active one,
    rescored under it; once none is left, the version is marked rescored (``rescored_at``) and
    later calls cost one lookup. Running it again at the same ``now`` adds nothing."""
    pending = session.scalar(
        select(RulesVersion.id).where(
            RulesVersion.version == rules.version, RulesVersion.rescored_at.is_(None)
        )
    )
    if pending is None:
        return Outcome()
    stale = (
        select(Lead.id)
        .where(
            Lead.merged_into_id.is_(None),
            or_(Lead.scored_version.is_(None), Lead.scored_version != rules.version),
        )
        .order_by(Lead.id)
        .limit(limit)
    )
    ids = list(session.scalars(stale))
    if not ids:
        session.execute(
            update(RulesVersion)
            .where(RulesVersion.id == pending, RulesVersion.rescored_at.is_(None))
            .values(rescored_at=now)
        )
        return Outcome()
    return process(session, rules, now, ids, rescore=True)


def catch_up(factory: sessionmaker[Session], now: datetime, *, chunk: int = 1000) -> Outcome:
    """Every live lead scored under the active rules version (``rescore_stale`` a chunk per
    transaction, until none is left): what applying a version ends with, from the command line
    at once, from the web by the worker."""
    total = Outcome()
    while True:
        done = run_in_transaction(
            factory, lambda s: rescore_stale(s, active_rules(s, now), now, limit=chunk)
        )
        total.add(done)
        if done.leads == 0:
            return total


def sweep_due(
    session: Session, rules: CompiledRules, now: datetime, *, limit: int = 5000
) -> Outcome:
    """Decay and expiry lines that have fallen due by ``now``. Running it twice at the same
    ``now`` adds nothing."""
    due = (
        select(Lead.id)
        .where(Lead.scored_version == rules.version, Lead.score_due_at <= now)
        .order_by(Lead.score_due_at)
        .limit(limit)
    )
    ids = list(session.scalars(due))
    if not ids:
        return Outcome()
    return process(session, rules, now, ids, sweep=True)
