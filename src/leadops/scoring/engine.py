"""The scoring engine: pure functions of rules, a lead's facts, its activities and ``now``.

A lead's scoring *state* (group totals, rule memory for caps and once-per-lead rules, decay and
expiry bookkeeping) is plain JSON, so it can live on the lead row and be carried from one batch
to the next. Feeding activities one by one in time order, with ``advance`` to a ``now`` at the end,
gives exactly the lines that ``replay`` gives for the whole history: incremental scoring and a full
rescore agree by construction. An activity older than what the state has already seen is *late*
and the service replays that lead instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, NamedTuple

from leadops.rules.conditions import Facts
from leadops.rules.loader import CompiledRules


class Line(NamedTuple):
    """One score change: what the ledger stores. (A named tuple: a rescore makes one per line.)"""

    rule_id: str
    group: str
    delta: int
    at: datetime
    activity_id: int | None
    key: str
    reason: str
    total_after: int


class ScoredActivity(NamedTuple):
    id: int
    type: str
    at: datetime
    properties: Mapping[str, Any]


#: An activity's place in time: when, then its id (``ScoredActivity``'s at and id).
_IN_TIME_ORDER = itemgetter(2, 0)


def _iso(value: datetime) -> str:
    return value.isoformat()


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


@dataclass
class ScoreState:
    groups: dict[str, int] = field(default_factory=dict)
    clock: datetime | None = None  # the latest moment applied
    clock_timed: bool = False  # whether that was a decay/expiry line (not an activity)
    anchor: datetime | None = None  # the latest activity, from which decay counts
    decay_steps: dict[str, int] = field(default_factory=dict)
    fired: set[str] = field(default_factory=set)
    recent: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)
    expiries: list[tuple[datetime, str, str, int, int]] = field(default_factory=list)
    fit: dict[str, int] = field(default_factory=dict)
    fit_changes: dict[str, int] = field(default_factory=dict)
    #: Level and validity event conditions some activity of the lead has met (leaf numbers).
    seen: set[int] = field(default_factory=set)

    def total(self, totals: Iterable[str]) -> int:
        return sum(self.groups.get(g, 0) for g in totals)

    def to_json(self) -> dict[str, Any]:
        return {
            "groups": self.groups,
            "clock": _iso(self.clock) if self.clock else None,
            "timed": self.clock_timed,
            "anchor": _iso(self.anchor) if self.anchor else None,
            "decay": self.decay_steps,
            "fired": sorted(self.fired),
            "recent": {k: [[_iso(a), d] for a, d in v] for k, v in self.recent.items()},
            "expiries": [[_iso(a), r, g, d, i] for a, r, g, d, i in self.expiries],
            "fit": self.fit,
            "fit_changes": self.fit_changes,
            "seen": sorted(self.seen),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ScoreState:
        if not data:
            return cls()
        return cls(
            groups=dict(data.get("groups") or {}),
            clock=_dt(data["clock"]) if data.get("clock") else None,
            clock_timed=bool(data.get("timed")),
            anchor=_dt(data["anchor"]) if data.get("anchor") else None,
            decay_steps=dict(data.get("decay") or {}),
            fired=set(data.get("fired") or []),
            recent={
                k: [(_dt(a), int(d)) for a, d in v] for k, v in (data.get("recent") or {}).items()
            },
            expiries=[
                (_dt(a), r, g, int(d), int(i)) for a, r, g, d, i in data.get("expiries") or []
            ],
            fit={k: int(v) for k, v in (data.get("fit") or {}).items()},
            fit_changes={k: int(v) for k, v in (data.get("fit_changes") or {}).items()},
            seen=set(data.get("seen") or []),
        )

    def is_late(self, at: datetime) -> bool:
        """Would applying an activity at ``at`` now differ from replaying history in time order?"""
        if self.clock is None:
            return False
        return at < self.clock or (at == self.clock and self.clock_timed)


class Scorer:
    """Applies compiled rules to one lead's state, producing ledger lines."""

    def __init__(self, rules: CompiledRules) -> None:
        self.rules = rules
        self.totals = rules.totals
        #: Each decay rule with the length of its step (a replay asks for the next decay before
        #: every activity).
        self._decays = [(rule, timedelta(days=rule.every_days)) for rule in rules.decay]

    def _line(
        self,
        state: ScoreState,
        rule_id: str,
        group: str,
        delta: int,
        at: datetime,
        activity_id: int | None,
        key: str,
        reason: str,
    ) -> Line:
        state.groups[group] = state.groups.get(group, 0) + delta
        return Line(rule_id, group, delta, at, activity_id, key, reason, state.total(self.totals))

    def advance(self, state: ScoreState, until: datetime, *, inclusive: bool = True) -> list[Line]:
        """Decay and expiry lines due up to ``until``, in time order."""
        lines: list[Line] = []
        while True:
            due = self.next_due(state)
            if due is None:
                break
            at, kind, payload = due
            if at > until or (at == until and not inclusive):
                break
            if kind == "decay":
                rule = payload
                steps = state.decay_steps.get(rule.id, 0) + 1
                state.decay_steps[rule.id] = steps
                current = state.groups.get(rule.group, 0)
                delta = -round(current * rule.percent / 100)
                if delta:
                    assert state.anchor is not None
                    key = f"d:{rule.id}:{_iso(state.anchor)}:{steps}"
                    reason = (
                        f"{rule.percent:g}% decay after {rule.every_days * steps} days "
                        "without activity"
                    )
                    lines.append(
                        self._line(state, rule.id, rule.group, delta, at, None, key, reason)
                    )
            else:
                state.expiries.remove(payload)
                _, rule_id, group, points, activity_id = payload
                current = state.groups.get(group, 0)
                delta = -min(points, max(current, 0)) if points > 0 else -points
                if delta:
                    lines.append(
                        self._line(
                            state,
                            rule_id,
                            group,
                            delta,
                            at,
                            activity_id,
                            f"x:{activity_id}",
                            "points expired",
                        )
                    )
            state.clock, state.clock_timed = at, True
        return lines

    def next_due(self, state: ScoreState) -> tuple[datetime, str, Any] | None:
        """The earliest decay or expiry due: decays in the rules' order first at the same moment,
        then expiries in the order they were made."""
        best: tuple[datetime, str, Any] | None = None
        anchor = state.anchor
        if anchor is not None:
            groups, steps = state.groups, state.decay_steps
            for rule, step in self._decays:
                if groups.get(rule.group, 0) <= 0:
                    continue
                at = anchor + step * (steps.get(rule.id, 0) + 1)
                if best is None or at < best[0]:
                    best = (at, "decay", rule)
        for expiry in state.expiries:
            if best is None or expiry[0] < best[0]:
                best = (expiry[0], "expiry", expiry)
        return best

    def score_activity(
        self, state: ScoreState, activity: ScoredActivity, fields: Mapping[str, Any]
    ) -> list[Line]:
        lines = self.advance(state, activity.at, inclusive=False)
        seen_as = (activity.type, activity.properties)
        for leaf, matcher in self.rules.leaves_for(activity.type):
            if leaf not in state.seen and matcher(seen_as):
                state.seen.add(leaf)
        facts = Facts(fields=fields, activity=seen_as)
        for compiled in self.rules.behavior_for(activity.type):
            rule = compiled.rule
            if not compiled.predicate(facts):
                continue
            if rule.repeat == "once" and rule.id in state.fired:
                continue
            delta = rule.points
            if rule.cap is not None and delta > 0:
                since = activity.at - timedelta(days=rule.cap.days)
                recent = [(a, d) for a, d in state.recent.get(rule.id, []) if a > since]
                state.recent[rule.id] = recent
                delta = min(delta, rule.cap.points - sum(d for _, d in recent))
                if delta <= 0:
                    continue
                recent.append((activity.at, delta))
            if delta == 0:
                continue
            state.fired.add(rule.id)
            reason = rule.description or rule.id
            lines.append(
                self._line(
                    state,
                    rule.id,
                    compiled.group,
                    delta,
                    activity.at,
                    activity.id,
                    f"a:{activity.id}",
                    reason,
                )
            )
            if rule.expires_after_days:
                due = activity.at + timedelta(days=rule.expires_after_days)
                state.expiries.append((due, rule.id, compiled.group, delta, activity.id))
        state.anchor = activity.at
        state.decay_steps = {}
        state.clock, state.clock_timed = activity.at, False
        return lines

    def score_fit(
        self, state: ScoreState, fields: Mapping[str, Any], at: datetime
    ) -> tuple[list[Line], list[tuple[str, str]]]:
        """Fit lines for the lead as it is now, and the (rule, status) of any disqualifying rule
        that matches."""
        facts = Facts(fields=fields)
        lines: list[Line] = []
        disqualify: list[tuple[str, str]] = []
        for compiled in self.rules.fit:
            rule = compiled.rule
            matched = compiled.predicate(facts)
            if matched and rule.disqualify:
                disqualify.append((rule.id, rule.disqualify))
            want = rule.points if matched else 0
            have = state.fit.get(rule.id, 0)
            if want != have:
                state.fit[rule.id] = want
                change = state.fit_changes[rule.id] = state.fit_changes.get(rule.id, 0) + 1
                reason = (
                    (rule.description or rule.id)
                    if matched
                    else f"no longer: {rule.description or rule.id}"
                )
                lines.append(
                    self._line(
                        state, rule.id, compiled.group, want - have, at, None, f"f:{change}", reason
                    )
                )
        return lines, disqualify

    def replay(
        self,
        fields: Mapping[str, Any],
        activities: Sequence[ScoredActivity],
        created_at: datetime,
        now: datetime,
    ) -> tuple[ScoreState, list[Line]]:
        """The whole ledger of one lead under these rules, from nothing, as of ``now``."""
        state = ScoreState()
        lines, _ = self.score_fit(state, fields, created_at)
        for activity in sorted(activities, key=_IN_TIME_ORDER):
            lines += self.score_activity(state, activity, fields)
        lines += self.advance(state, now)
        return state, lines
