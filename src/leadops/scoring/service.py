"""Running the scoring engine against the database: on ingest, when leads change, in the decay
sweep and in a full rescore. One function, ``score_leads``, does all four, so they cannot
disagree; the pipeline (``leadops.pipeline``) runs it and then routes.

For each lead, locked by the door, it carries the lead's scoring state forward (or replays its
whole history when the state is from other rules or an activity arrives late), writes the ledger
lines, and moves temperature, lifecycle stage, level, validity and (for a disqualifying fit rule)
status through the door, each move naming the rule that made it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from leadops.db import chunked, insert_plain
from leadops.lifecycle.door import Actor, Door
from leadops.lifecycle.facts import LeadRow, score_state_of
from leadops.models import ScoreLedger, Team
from leadops.routing.service import ToRoute, first_rule_for_kind, needs_owner, to_route
from leadops.rules.conditions import Facts
from leadops.rules.loader import CompiledRules
from leadops.rules.schema import RoutingRule
from leadops.scoring.engine import Line, ScoredActivity, Scorer, ScoreState
from leadops.scoring.facts import load_activities

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


@dataclass
class Scored:
    leads: int = 0
    lines: int = 0
    replayed: int = 0
    #: Leads to route once scored: no owner yet, or a level change that may hand them to another
    #: team.
    route: list[ToRoute] = field(default_factory=list)
    #: New activities with their lead's fields after scoring: what approach requests look at.
    arrivals: list[tuple[dict[str, Any], ScoredActivity]] = field(default_factory=list)
    #: Nurture leads that came back (lead id, when, why, whether an approach rule already asks
    #: for them): the pipeline opens their approach request once they are routed.
    reengaged: list[Reengaged] = field(default_factory=list)


@dataclass(frozen=True)
class Reengaged:
    lead_id: int
    at: datetime
    why: str
    activity_id: int | None
    requested: bool
    #: The routing rule that gives it back to sales.
    rule: RoutingRule


@dataclass
class _Run:
    """What one call of ``score_leads`` knows and collects."""

    door: Door
    scorer: Scorer
    result: Scored
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    #: Whether the ledger lines are kept to be written.
    keep: bool = True
    #: Replayed leads that already have lines under this version (only those need deleting).
    superseded: list[int] = field(default_factory=list)
    _team_kinds: dict[str, str] | None = None

    def team_kinds(self) -> dict[str, str]:
        """Each team's kind by its name (read once per run)."""
        if self._team_kinds is None:
            rows = self.door.session.execute(select(Team.name, Team.kind)).all()
            self._team_kinds = dict(rows)
        return self._team_kinds

    @property
    def rules(self) -> CompiledRules:
        return self.door.rules


#: The actor of a re-engagement's moves.
REENGAGEMENT = "reengagement"
#: Activities that are events of the rules' status conversions (docs/rules.md).
ACTIVITY_EVENTS = {"email_bounce": "email_bounced", "unsubscribe": "unsubscribed"}


def score_leads(
    door: Door,
    lead_ids: Sequence[int],
    *,
    activities: Mapping[int, Sequence[ScoredActivity]] | None = None,
    refit: bool = False,
    sweep: bool = False,
    rescore: bool = False,
    ledger: bool = True,
    histories: Mapping[int, Sequence[ScoredActivity]] | None = None,
) -> Scored:
    """Bring these leads' scores, levels, validity and milestones up to date through ``door`` (the
    caller flushes it). Idempotent at a fixed ``now``. Without ``ledger`` the lines are counted
    but not written: for a what-if of a full rescore, which reads none of them back. A rescore's
    caller may give every lead's activities (``histories``) it read already."""
    new = activities or {}
    rules = door.rules
    leads = door.lock(lead_ids)
    states: dict[int, ScoreState | None] = {}
    for lead_id, row in leads.items():
        continues = not rescore and row.values["scored_version"] == rules.version
        state = ScoreState.from_json(score_state_of(row.values)) if continues else None
        if state is None or any(state.is_late(a.at) for a in new.get(lead_id, ())):
            state = None
        states[lead_id] = state
    replay_ids = [lid for lid, st in states.items() if st is None]
    history: Mapping[int, Sequence[ScoredActivity]]
    if histories is not None and rescore:
        history = histories
    else:
        history = load_activities(door.session, replay_ids) if replay_ids else {}
    class_types = rules.level_types | rules.validity_types
    run = _Run(door, Scorer(rules), Scored(leads=len(leads)), keep=ledger)
    for lead_id, row in leads.items():
        state = states[lead_id]
        arrived = sorted(new.get(lead_id, ()), key=lambda a: (a.at, a.id))
        if state is None:
            rescored = row.values["scored_version"] is not None
            if row.values["scored_version"] == rules.version:
                run.superseded.append(lead_id)
            run.result.replayed += 1
            _one(run, row, None, history.get(lead_id, []), True, arrived, rescored=rescored)
        else:
            classify = refit or any(a.type in class_types for a in arrived)
            _one(run, row, state, arrived, classify, arrived, sweep=sweep, refit=refit)
    if ledger:
        _write_ledger(door.session, rules, run)
    return run.result


def _one(
    run: _Run,
    row: LeadRow,
    state: ScoreState | None,
    incoming: Sequence[ScoredActivity],
    classify: bool,
    arrived: Sequence[ScoredActivity],
    *,
    sweep: bool = True,
    refit: bool = True,
    rescored: bool = False,
) -> None:
    door, rules = run.door, run.rules
    values = row.values
    lead_id = values["id"]
    level_before = values["level"]
    replaying = state is None
    seen_before = set() if state is None else set(state.seen)
    if refit or state is None:
        _disqualify(door, lead_id)
    for activity in arrived:
        if activity.type in ACTIVITY_EVENTS:
            door.happened(lead_id, ACTIVITY_EVENTS[activity.type], at=activity.at)
    fields = door.fields(lead_id)
    if state is None:
        state, lines = run.scorer.replay(fields, incoming, values["created_at"], door.now)
    else:
        lines = _advance(run.scorer, state, fields, incoming, door.now, sweep=sweep, refit=refit)
    if run.keep:
        for line in lines:
            run.lines.append(
                (lead_id, line.activity_id, line.rule_id, rules.version, line.group, line.delta)
                + (line.at, line.reason[:300], line.key)
            )
    run.result.lines += len(lines)
    score = state.total(rules.totals)
    columns: dict[str, Any] = {
        "score": score,
        "behavior_score": state.groups.get("behavior", 0),
        "fit_score": state.groups.get("fit", 0),
        "group_scores": dict(state.groups),
        "score_state": state.to_json(),
        "scored_version": rules.version,
        "score_due_at": _due_at(run.scorer, state),
    }
    latest = max((a.at for a in incoming), default=None)
    if latest is not None and (
        values["last_activity_at"] is None or latest > values["last_activity_at"]
    ):
        columns["last_activity_at"] = latest
    door.set_columns(lead_id, **columns)
    _milestones(door, lead_id, lines, score, rescored)
    if classify:
        ordered = sorted(incoming, key=lambda a: (a.at, a.id))
        _classify(
            door, lead_id, state, latest if latest is not None else door.now, seen_before, ordered
        )
    back = _reengage(run, lead_id, arrived, lines, level_before, replayed=replaying)
    _next_steps(run, lead_id, level_before, arrived, back)


def _advance(
    scorer: Scorer,
    state: ScoreState,
    fields: Mapping[str, Any],
    incoming: Sequence[ScoredActivity],
    now: datetime,
    *,
    sweep: bool,
    refit: bool,
) -> list[Line]:
    lines: list[Line] = []
    if refit:
        fit_at = fields["created_at"] if state.clock is None and not state.fit else now
        lines += scorer.score_fit(state, fields, fit_at)[0]
    for activity in incoming:
        lines += scorer.score_activity(state, activity, fields)
    if sweep:
        lines += scorer.advance(state, now)
    return lines


def _disqualify(door: Door, lead_id: int) -> None:
    """A disqualifying fit rule moves the lead to its status first (validity sees that status)."""
    rules = door.rules
    fields = door.fields(lead_id)
    if fields["status"] in rules.closed_statuses | {"merged"}:
        return
    for compiled in rules.fit:
        target = compiled.rule.disqualify
        if target and compiled.predicate(Facts(fields)):
            if door.allows(lead_id, "status", target):
                who = Actor("rule", compiled.rule.id)
                door.move(lead_id, "status", target, reason=compiled.rule.id, actor=who)
            return


def _reengage(
    run: _Run,
    lead_id: int,
    arrived: Sequence[ScoredActivity],
    lines: Sequence[Line],
    level_before: int | None,
    *,
    replayed: bool,
) -> Reengaged | None:
    """A nurture lead that meets the rules' re-engagement (an arriving inquiry, a score rise
    within a day, a level activity) after it entered nurture returns: its status, a
    ``reengaged`` event, a new cadence (touch stage untouched; earlier touches stay in the
    history), routed by the first routing rule to a team of the re-engagement's kind."""
    door, rules = run.door, run.rules
    back = rules.document.reengagement
    values = door.state(lead_id)
    if back is None or not arrived or values["merged_into_id"] is not None:
        return None
    if values["status"] not in rules.nurture_statuses:
        return None
    # Only what happened after the lead entered nurture brings it back (a replay re-reads the
    # whole history; an activity dated before the recycle belongs to the round that ended).
    since = values["status_changed_at"]
    fresh = [a for a in arrived if since is None or a.at > since]
    recent = [line for line in lines if since is None or line.at > since]
    if not fresh:
        return None
    fields = door.fields(lead_id)
    found = _why_back(run, lead_id, fields, fresh, recent, level_before, replayed=replayed)
    if found is None or not door.allows(lead_id, "status", back.to):
        return None
    rule = first_rule_for_kind(door.session, rules, fields, back.team_kind, run.team_kinds())
    if rule is None:
        return None  # no routing rule gives it to that kind of team: it stays in nurture
    why, activity = found
    at = activity.at
    who = Actor("rule", REENGAGEMENT)
    reason = f"reengaged: {why}"
    old = values["status"]
    door.move(lead_id, "status", back.to, at=at, reason=reason, actor=who)
    door.record(lead_id, "reengaged", at=at, old=old, new=back.to, reason=why, actor=who)
    door.move(lead_id, "touch_stage", "untouched", at=at, reason=reason, actor=who)
    requested = any(
        predicate(Facts(fields=fields, activity=(a.type, a.properties)))
        for a in fresh
        for _, predicate in rules.approach
    )
    done = Reengaged(lead_id, at, why, activity.id, requested, rule)
    run.result.reengaged.append(done)
    return done


def _why_back(
    run: _Run,
    lead_id: int,
    fields: Mapping[str, Any],
    arrived: Sequence[ScoredActivity],
    lines: Sequence[Line],
    level_before: int | None,
    *,
    replayed: bool,
) -> tuple[str, ScoredActivity] | None:
    rules, door = run.rules, run.door
    back = rules.document.reengagement
    assert back is not None
    ordered = sorted(arrived, key=lambda a: (a.at, a.id))
    for activity in ordered:
        facts = Facts(fields=fields, activity=(activity.type, activity.properties))
        for why, predicate in rules.reengage:
            if predicate(facts):
                return (activity.type if why == "activity" else why), activity
    level = door.value(lead_id, "level")
    if back.level is not None and level is not None and level >= back.level:
        if level_before is None or level > level_before:
            return f"level {level}", ordered[-1]
    if back.score_rise is not None and lines:
        window = timedelta(hours=back.rise_hours)
        score_at = _ScoreAt(door, lead_id, lines, window, replayed=replayed)
        for line in sorted(lines, key=lambda x: x.at):
            rise = line.total_after - score_at(line.at - window)
            if rise >= back.score_rise:
                activity = next((a for a in ordered if a.id == line.activity_id), ordered[-1])
                return f"score +{rise} within {back.rise_hours:g} h", activity
    return None


class _ScoreAt:
    """The lead's score at a moment: its ledger under these rules up to then, with this run's
    new lines. The kept ledger of the window is read once (a replay has it all in ``lines``)."""

    def __init__(
        self,
        door: Door,
        lead_id: int,
        lines: Sequence[Line],
        window: timedelta,
        *,
        replayed: bool,
    ) -> None:
        rules = door.rules
        self.totals = rules.totals
        self.lines = [(line.at, line.delta) for line in lines if line.group in self.totals]
        self.base = 0
        self.kept: list[tuple[datetime, int]] = []
        if not replayed:
            first = min(line.at for line in lines) - window
            mine = (
                ScoreLedger.lead_id == lead_id,
                ScoreLedger.rules_version == rules.version,
                ScoreLedger.score_group.in_(sorted(self.totals)),
            )
            before = select(func.coalesce(func.sum(ScoreLedger.delta), 0)).where(
                *mine, ScoreLedger.at <= first
            )
            self.base = int(door.session.scalar(before) or 0)
            since = select(ScoreLedger.at, ScoreLedger.delta).where(*mine, ScoreLedger.at > first)
            self.kept = [(at, delta) for at, delta in door.session.execute(since)]

    def __call__(self, when: datetime) -> int:
        return self.base + sum(delta for at, delta in [*self.kept, *self.lines] if at <= when)


def _next_steps(
    run: _Run,
    lead_id: int,
    level_before: int | None,
    arrived: Sequence[ScoredActivity],
    back: Reengaged | None = None,
) -> None:
    """What routing and approach requests will look at once the leads are scored."""
    values = run.door.state(lead_id)
    if values["merged_into_id"] is not None or values["status"] in run.rules.closed_statuses:
        return
    now_fields = run.door.fields(lead_id)
    run.result.arrivals.extend((now_fields, activity) for activity in arrived)
    if back is not None:
        route = to_route(values, now_fields, handoff=True)
        run.result.route.append(replace(route, rule=back.rule))
        return
    if needs_owner(values, run.rules.closed_statuses):
        run.result.route.append(to_route(values, now_fields))
    elif values["level"] != level_before:
        run.result.route.append(to_route(values, now_fields, handoff=True))


def _milestones(
    door: Door, lead_id: int, lines: Sequence[Line], score: int, rescored: bool
) -> None:
    """Temperature and MQL as the score moves: at the line that crossed, or at ``now`` for a
    rescore."""
    rules = door.rules
    mql = rules.document.lifecycle.mql_score

    def reach_mql(at: datetime, rule: str | None, why: str) -> None:
        if door.value(lead_id, "lifecycle_stage") != "mql":
            if door.allows(lead_id, "lifecycle_stage", "mql"):
                door.move(
                    lead_id, "lifecycle_stage", "mql", at=at, reason=why, actor=Actor("rule", rule)
                )

    if rules.document.temperature.field == "prediction.probability":
        _predicted_temperature(door, lead_id)
    elif rescored:
        # The replayed ledger says when: the band since the line that last entered it, the MQL
        # at the first line that reached the threshold.
        band = rules.temperature(score)
        why = f"rescore under rules v{rules.version}"
        since: Line | None = None
        for line in lines:
            if rules.temperature(line.total_after) != band:
                since = None
            elif since is None:
                since = line
        door.move(
            lead_id,
            "temperature",
            band,
            at=since.at if since is not None else None,
            reason=why,
            actor=Actor("rule", since.rule_id if since is not None else None),
        )
    if rescored:
        if score >= mql:
            crossed = next((line for line in lines if line.total_after >= mql), None)
            reach_mql(
                crossed.at if crossed is not None else door.now,
                crossed.rule_id if crossed is not None else None,
                f"score {score} ≥ {mql} (rescore)",
            )
        return
    by_score = rules.document.temperature.field == "score"
    for line in lines:
        band = rules.temperature(line.total_after)
        who = Actor("rule", line.rule_id)
        if by_score:
            door.move(
                lead_id,
                "temperature",
                band,
                at=line.at,
                reason=f"score {line.total_after}",
                actor=who,
            )
        if line.total_after >= mql:
            reach_mql(line.at, line.rule_id, f"score {line.total_after} ≥ {mql}")


def _predicted_temperature(door: Door, lead_id: int) -> None:
    """The band of the lead's predicted probability (the first band without a prediction)."""
    probability = door.fields(lead_id).get("prediction.probability")
    bands = door.rules.document.temperature.bands
    band = door.rules.temperature(probability) if probability is not None else bands[0].name
    why = f"predicted probability {probability:.0%}" if probability is not None else "no prediction"
    door.move(lead_id, "temperature", band, reason=why, actor=Actor("rule"))


def _classify(
    door: Door,
    lead_id: int,
    state: ScoreState,
    at: datetime,
    seen_before: set[int] | None = None,
    activities: Sequence[ScoredActivity] = (),
) -> None:
    """The confidence level and validity the rules give the lead now, each dated at the
    activity after which it held (of ``activities``, met on top of ``seen_before``), else
    ``at``."""
    rules = door.rules
    fields = door.fields(lead_id)
    level, level_rule = _level(rules, Facts(fields=fields, seen=frozenset(state.seen)))
    failed = _failed(rules, Facts(fields=fields, seen=frozenset(state.seen)))
    level_at = valid_at = at
    if activities and seen_before is not None:
        seen = set(seen_before)
        level_found = valid_found = False
        for activity in activities:
            seen_as = (activity.type, activity.properties)
            seen.update(
                leaf
                for leaf, matcher in rules.leaves_for(activity.type)
                if leaf not in seen and matcher(seen_as)
            )
            facts = Facts(fields=fields, seen=frozenset(seen))
            if not level_found and _level(rules, facts)[0] == level:
                level_at, level_found = activity.at, True
            if not valid_found and _failed(rules, facts) == failed:
                valid_at, valid_found = activity.at, True
            if level_found and valid_found:
                break
    door.move(lead_id, "level", level, at=level_at, actor=Actor("rule", level_rule))
    door.move(lead_id, "validity", failed is None, at=valid_at, reason=failed, actor=Actor("rule"))


def _level(rules: CompiledRules, facts: Facts) -> tuple[int | None, str | None]:
    for number, rule_id, predicate in rules.levels:
        if predicate(facts):
            return number, rule_id
    return None, None


def _failed(rules: CompiledRules, facts: Facts) -> str | None:
    return next((reason for _, reason, predicate in rules.validity if not predicate(facts)), None)


def _due_at(scorer: Scorer, state: ScoreState) -> datetime | None:
    due = scorer.next_due(state)
    return due[0] if due else None


def _write_ledger(session: Session, rules: CompiledRules, run: _Run) -> None:
    for part in chunked(run.superseded):
        session.execute(
            delete(ScoreLedger).where(
                ScoreLedger.rules_version == rules.version, ScoreLedger.lead_id.in_(part)
            )
        )
    insert_plain(session, "score_ledger", LEDGER_COLUMNS, run.lines)
