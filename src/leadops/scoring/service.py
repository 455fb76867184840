"""Running the scoring engine against the database: on ingest, when leads change, in the decay
sweep and in a full rescore. One function, ``evaluate``, does all four, so they cannot disagree.

For each lead it locks the row (PostgreSQL: FOR UPDATE, in id order), carries the lead's scoring
state forward (or replays its whole history when the state is from other rules or an activity
arrives late), writes the ledger lines, and records every change of temperature, lifecycle stage,
level, validity and (for a disqualifying fit rule) status as a lead event naming the rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from leadops.cadence.service import open_approach_requests
from leadops.ingest.bulk import insert_plain
from leadops.models import Lead, ScoreLedger
from leadops.models.base import table_of
from leadops.models.leads import LEAD_EVENT_COLUMNS
from leadops.routing.service import RouteOutcome, ToRoute, needs_owner, route, to_route
from leadops.rules.conditions import Facts
from leadops.rules.loader import CompiledRules
from leadops.rules.service import active_rules
from leadops.scoring.engine import Line, ScoredActivity, Scorer, ScoreState
from leadops.scoring.facts import LeadRow, load_activities, load_leads

LEDGER_COLUMNS = (
    "lead_id",
    "activity_id",
    "rule_id",
    "rules_version",
    "score_group",
    "delta",
    "at",
    "reason",
    "line_key",
)
UPDATED = (
    "score",
    "behavior_score",
    "fit_score",
    "group_scores",
    "score_state",
    "scored_version",
    "score_due_at",
    "temperature",
    "lifecycle_stage",
    "level",
    "is_valid",
    "status",
    "status_reason",
    "status_changed_at",
    "last_activity_at",
)


@dataclass
class Outcome:
    leads: int = 0
    lines: int = 0
    events: int = 0
    replayed: int = 0
    routing: RouteOutcome = field(default_factory=RouteOutcome)
    tasks: int = 0


@dataclass
class _Pending:
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    replayed: list[int] = field(default_factory=list)
    #: Replayed leads that already have lines under this version (only those need deleting).
    superseded: list[int] = field(default_factory=list)
    #: Leads to route once scored: no owner yet, or a level change that may hand them to another
    #: team.
    route: list[ToRoute] = field(default_factory=list)
    #: New activities with their lead's fields after scoring: what approach requests look at.
    arrivals: list[tuple[dict[str, Any], ScoredActivity]] = field(default_factory=list)


def evaluate(
    session: Session,
    rules: CompiledRules,
    now: datetime,
    lead_ids: Sequence[int],
    *,
    activities: Mapping[int, Sequence[ScoredActivity]] | None = None,
    refit: bool = False,
    sweep: bool = False,
    rescore: bool = False,
    actor_kind: str = "rule",
    actor_ref: str | None = None,
    routing: bool = True,
) -> Outcome:
    """Bring these leads' scores, levels, validity and milestones up to date, then route the ones
    that need an owner or changed level (unless ``routing`` is off). Idempotent at a fixed ``now``.
    """
    new = activities or {}
    leads = load_leads(session, lead_ids, lock=True)
    scorer = Scorer(rules)
    states: dict[int, ScoreState | None] = {}
    for lead_id, row in leads.items():
        same = row.values["scored_version"] == rules.version
        state = ScoreState.from_json(row.values["score_state"]) if same else None
        if rescore or state is None or any(state.is_late(a.at) for a in new.get(lead_id, ())):
            state = None
        states[lead_id] = state
    replay_ids = [lid for lid, st in states.items() if st is None]
    history = load_activities(session, replay_ids) if replay_ids else {}
    class_types = rules.level_types | rules.validity_types
    pending = _Pending()
    outcome = Outcome(leads=len(leads))
    for lead_id, row in leads.items():
        state = states[lead_id]
        if state is None:
            acts = history.get(lead_id, [])
            _one(
                scorer,
                rules,
                row,
                None,
                acts,
                True,
                now,
                sweep=True,
                refit=True,
                pending=pending,
                rescored=row.values["scored_version"] is not None,
                actor=(actor_kind, actor_ref),
                arrived=new.get(lead_id, ()),
            )
            pending.replayed.append(lead_id)
            if row.values["scored_version"] == rules.version:
                pending.superseded.append(lead_id)
        else:
            incoming = sorted(new.get(lead_id, ()), key=lambda a: (a.at, a.id))
            classify = refit or any(a.type in class_types for a in incoming)
            _one(
                scorer,
                rules,
                row,
                state,
                incoming,
                classify,
                now,
                sweep=sweep,
                refit=refit,
                pending=pending,
                rescored=False,
                actor=(actor_kind, actor_ref),
                arrived=incoming,
            )
    _write(session, rules, pending)
    outcome.lines, outcome.events, outcome.replayed = (
        len(pending.lines),
        len(pending.events),
        len(pending.replayed),
    )
    if routing and pending.route:
        outcome.routing = route(
            session, rules, now, pending.route, actor_kind=actor_kind, actor_ref=actor_ref
        )
    if routing and pending.arrivals:
        outcome.tasks = open_approach_requests(session, rules, now, pending.arrivals)
    return outcome


def _one(
    scorer: Scorer,
    rules: CompiledRules,
    row: LeadRow,
    state: ScoreState | None,
    incoming: Sequence[ScoredActivity],
    classify: bool,
    now: datetime,
    *,
    sweep: bool,
    refit: bool,
    pending: _Pending,
    rescored: bool,
    actor: tuple[str, str | None],
    arrived: Sequence[ScoredActivity] = (),
) -> None:
    values, fields = row.values, row.fields
    lead_id = values["id"]
    before = {
        k: values[k] for k in ("temperature", "lifecycle_stage", "level", "is_valid", "status")
    }
    update: dict[str, Any] = {k: values[k] for k in UPDATED}

    def event(
        kind: str, old: Any, new: Any, at: datetime, ref: str | None, reason: str | None = None
    ) -> None:
        pending.events.append(
            {
                "lead_id": lead_id,
                "at": at,
                "kind": kind,
                "from_value": None if old is None else str(old),
                "to_value": None if new is None else str(new),
                "reason": reason,
                "actor_kind": "rule",
                "actor_ref": ref,
                "rules_version": rules.version,
            }
        )

    # Status first: a disqualifying fit rule changes what validity sees.
    disqualify = [
        (c.rule.id, c.rule.disqualify)
        for c in rules.fit
        if c.rule.disqualify and c.predicate(Facts(fields))
    ]
    if (
        (refit or state is None)
        and disqualify
        and values["status"] not in rules.closed_statuses | {"merged"}
    ):
        rule_id, status = disqualify[0]
        event("status", values["status"], status, now, rule_id, f"rule {rule_id}")
        update.update(status=status, status_reason=rule_id, status_changed_at=now)
        fields = {**fields, "status": status, "status_reason": rule_id}

    if state is None:
        state, lines = scorer.replay(fields, incoming, values["created_at"], now)
    else:
        lines = []
        if refit:
            fit_at = values["created_at"] if state.clock is None and not state.fit else now
            lines += scorer.score_fit(state, fields, fit_at)[0]
        for activity in incoming:
            lines += scorer.score_activity(state, activity, fields)
        if sweep:
            lines += scorer.advance(state, now)
    for line in lines:
        pending.lines.append(
            (
                lead_id,
                line.activity_id,
                line.rule_id,
                rules.version,
                line.group,
                line.delta,
                line.at,
                line.reason[:300],
                line.key,
            )
        )

    score = state.total(rules.totals)
    update.update(
        score=score,
        behavior_score=state.groups.get("behavior", 0),
        fit_score=state.groups.get("fit", 0),
        group_scores=dict(state.groups),
        score_state=state.to_json(),
        scored_version=rules.version,
        score_due_at=_due_at(scorer, state),
    )
    latest = max((a.at for a in incoming), default=None)
    if latest is not None and (
        values["last_activity_at"] is None or latest > values["last_activity_at"]
    ):
        update["last_activity_at"] = latest
    fields = {
        **fields,
        "score": score,
        "behavior_score": update["behavior_score"],
        "fit_score": update["fit_score"],
    }

    _milestones(rules, lines, before, update, now, rescored, event)
    if classify:
        at = latest if latest is not None else now
        _classify(rules, fields, state, before, update, at, event)
    pending.updates.append({"lid": lead_id, **update})
    if values["merged_into_id"] is None and update["status"] not in rules.closed_statuses:
        now_fields = {
            **fields,
            **{
                k: update[k]
                for k in ("level", "is_valid", "status", "temperature", "lifecycle_stage")
            },
        }
        pending.arrivals.extend((now_fields, activity) for activity in arrived)
        if needs_owner({**values, "status": update["status"]}, rules.closed_statuses):
            pending.route.append(to_route(values, now_fields))
        elif update["level"] != before["level"]:
            pending.route.append(to_route(values, now_fields, handoff=True))


def _milestones(
    rules: CompiledRules,
    lines: Sequence[Line],
    before: dict[str, Any],
    update: dict[str, Any],
    now: datetime,
    rescored: bool,
    event: Any,
) -> None:
    """Temperature and MQL as the score moves: at the line that crossed, or at ``now`` for a
    rescore."""
    temperature = before["temperature"]
    mql = rules.document.lifecycle.mql_score
    lifecycle = before["lifecycle_stage"]
    if rescored:
        final = rules.temperature(update["score"])
        if final != temperature:
            event(
                "temperature",
                temperature,
                final,
                now,
                None,
                f"rescore under rules v{rules.version}",
            )
            update["temperature"] = final
        if lifecycle == "inquiry" and update["score"] >= mql:
            event(
                "lifecycle_stage",
                lifecycle,
                "mql",
                now,
                None,
                f"score {update['score']} ≥ {mql} (rescore)",
            )
            update["lifecycle_stage"] = "mql"
        return
    for line in lines:
        band = rules.temperature(line.total_after)
        if band != temperature:
            event(
                "temperature", temperature, band, line.at, line.rule_id, f"score {line.total_after}"
            )
            temperature = band
        if lifecycle == "inquiry" and line.total_after >= mql:
            event(
                "lifecycle_stage",
                lifecycle,
                "mql",
                line.at,
                line.rule_id,
                f"score {line.total_after} ≥ {mql}",
            )
            lifecycle = "mql"
    update["temperature"], update["lifecycle_stage"] = temperature, lifecycle


def _classify(
    rules: CompiledRules,
    fields: dict[str, Any],
    state: ScoreState,
    before: dict[str, Any],
    update: dict[str, Any],
    at: datetime,
    event: Any,
) -> None:
    facts = Facts(fields={**fields, "status": update["status"]}, seen=frozenset(state.seen))
    level, level_rule = None, None
    for number, rule_id, predicate in rules.levels:
        if predicate(facts):
            level, level_rule = number, rule_id
            break
    if level != before["level"]:
        event("level", before["level"], level, at, level_rule, None)
        update["level"] = level
    failed = next((reason for _, reason, predicate in rules.validity if not predicate(facts)), None)
    valid = failed is None
    if valid != before["is_valid"]:
        event("validity", before["is_valid"], valid, at, None, failed)
        update["is_valid"] = valid


def _due_at(scorer: Scorer, state: ScoreState) -> datetime | None:
    due = scorer.next_due(state)
    return due[0] if due else None


def _write(session: Session, rules: CompiledRules, pending: _Pending) -> None:
    if pending.superseded:
        for start in range(0, len(pending.superseded), 500):
            part = pending.superseded[start : start + 500]
            session.execute(
                delete(ScoreLedger).where(
                    ScoreLedger.rules_version == rules.version, ScoreLedger.lead_id.in_(part)
                )
            )
    insert_plain(session, "score_ledger", LEDGER_COLUMNS, pending.lines)
    insert_plain(
        session,
        "lead_events",
        LEAD_EVENT_COLUMNS,
        [tuple(e[c] for c in LEAD_EVENT_COLUMNS) for e in pending.events],
    )
    if pending.updates:
        table = table_of(Lead)
        stmt = (
            update(table)
            .where(table.c.id == bindparam("lid"))
            .values({c: bindparam(c) for c in UPDATED})
        )
        session.execute(stmt, pending.updates)


def rescore_all(factory: sessionmaker[Session], now: datetime, *, chunk: int = 1000) -> Outcome:
    """Every live lead recomputed from its history under the active rules, a chunk per
    transaction."""
    total = Outcome()
    with factory() as session:
        ids = list(
            session.scalars(select(Lead.id).where(Lead.merged_into_id.is_(None)).order_by(Lead.id))
        )
    for start in range(0, len(ids), chunk):
        with factory() as session, session.begin():
            outcome = evaluate(
                session, active_rules(session, now), now, ids[start : start + chunk], rescore=True
            )
        total.leads += outcome.leads
        total.lines += outcome.lines
        total.events += outcome.events
        total.replayed += outcome.replayed
        total.routing.add(outcome.routing)
    return total


def sweep_due(
    session: Session, rules: CompiledRules, now: datetime, *, limit: int = 5000
) -> Outcome:
    """Decay and expiry lines that have fallen due by ``now``. Running it twice at the same
    ``now`` adds nothing."""
    ids = list(
        session.scalars(
            select(Lead.id)
            .where(Lead.scored_version == rules.version, Lead.score_due_at <= now)
            .order_by(Lead.score_due_at)
            .limit(limit)
        )
    )
    if not ids:
        return Outcome()
    return evaluate(session, rules, now, ids, sweep=True)
