"""Reading a rules document: YAML → validated model → compiled rules, with errors that say where
(path and line) and what is wrong, e.g. ``scoring.behavior[3].points: expected a number, line 41``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from leadops.errors import RuleError
from leadops.models.activities import ACTIVITY_TYPES
from leadops.rules.conditions import (
    ActivityMatcher,
    ConditionError,
    Leaf,
    Predicate,
    Vocabulary,
    compile_condition,
    event_types_in,
    required_type,
)
from leadops.rules.playbooks import PlaceholderError, placeholders_in
from leadops.rules.schema import DecayRule, Playbook, RulesDocument, ScoringRule

DEFAULTS_PATH = Path(__file__).with_name("defaults.yaml")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    line: int | None

    def __str__(self) -> str:
        where = f", line {self.line}" if self.line else ""
        return f"{self.path}: {self.message}{where}"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message, "line": self.line}


class RulesInvalid(RuleError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        text = "\n".join(str(p) for p in problems)
        super().__init__(
            f"the rules document has {len(problems)} error(s):\n{text}",
            detail=[p.as_dict() for p in problems],
        )


@dataclass
class CompiledRule:
    rule: ScoringRule
    group: str
    predicate: Predicate
    kind: str  # behavior or fit


@dataclass
class CompiledRules:
    """A rules document ready to evaluate. Everything here is pure data and closures."""

    version: int
    document: RulesDocument
    text: str
    behavior: list[CompiledRule]
    fit: list[CompiledRule]
    decay: list[DecayRule]
    totals: frozenset[str]
    levels: list[tuple[int, str, Predicate]]
    level_types: frozenset[str]
    validity: list[tuple[str, str, Predicate]]
    validity_types: frozenset[str]
    routing: list[tuple[str, Predicate | None]] = field(default_factory=list)
    approach: list[tuple[str, Predicate]] = field(default_factory=list)
    #: The event conditions of levels and validity, numbered; a lead's state keeps which it has met.
    class_leaves: list[Leaf] = field(default_factory=list)
    #: Behaviour rules by the activity type they need (None: any type may match).
    behavior_by_type: dict[str | None, list[CompiledRule]] = field(default_factory=dict)
    #: Re-engagement: the activity conditions that bring a nurture lead back (its own ``when``,
    #: then those of the level rules at or above its ``level``), as (why, predicate).
    reengage: list[tuple[str, Predicate]] = field(default_factory=list)

    #: The behaviour rules an activity of a type may meet, made on first use.
    _behavior_of_type: dict[str, list[CompiledRule]] = field(
        default_factory=dict, repr=False, compare=False
    )
    #: The class leaves an activity of a type can meet (number, matcher), made on first use.
    _leaves_by_type: dict[str, list[tuple[int, ActivityMatcher]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def behavior_for(self, activity_type: str) -> list[CompiledRule]:
        """The behaviour rules an activity of this type may meet: those of its type, then those
        of any type (made on first use)."""
        found = self._behavior_of_type.get(activity_type)
        if found is None:
            found = self.behavior_by_type.get(activity_type, []) + self.behavior_by_type.get(
                None, []
            )
            self._behavior_of_type[activity_type] = found
        return found

    def leaves_for(self, activity_type: str) -> list[tuple[int, ActivityMatcher]]:
        """The class leaves (number, matcher) an activity of this type may meet: those of its
        type and those of any type, in number order."""
        found = self._leaves_by_type.get(activity_type)
        if found is None:
            found = [
                (number, matcher)
                for number, (type_, matcher) in enumerate(self.class_leaves)
                if type_ is None or type_ == activity_type
            ]
            self._leaves_by_type[activity_type] = found
        return found

    @property
    def statuses(self) -> list[str]:
        return [s.name for s in self.document.statuses]

    @cached_property
    def closed_statuses(self) -> frozenset[str]:
        return frozenset(s.name for s in self.document.statuses if s.type == "closed")

    @cached_property
    def reason_required(self) -> frozenset[str]:
        return frozenset(s.name for s in self.document.statuses if s.reason_required)

    @cached_property
    def nurture_statuses(self) -> frozenset[str]:
        return frozenset(s.name for s in self.document.statuses if s.type == "nurture")

    @cached_property
    def worked_statuses(self) -> frozenset[str]:
        """Statuses whose leads follow the touch cadence (types ``open`` and ``working``)."""
        return frozenset(s.name for s in self.document.statuses if s.type in ("open", "working"))

    def temperature(self, score: float) -> str:
        for band in self.document.temperature.bands:
            if band.below is None or score < band.below:
                return band.name
        return self.document.temperature.bands[-1].name

    @property
    def playbooks(self) -> dict[str, Playbook]:
        """The playbook of each touch stage that has one (touch_1 … touch_4)."""
        return {p.stage: p for p in self.document.playbooks}

    @property
    def templates(self) -> dict[str, Playbook]:
        """The playbooks by template (or script) name."""
        return {p.template: p for p in self.document.playbooks}

    def region_map(self) -> dict[str, str]:
        return {
            pref: region
            for region, prefs in self.document.routing.regions.items()
            for pref in prefs
        }


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            out[child] = key.start_mark.line + 1
            _lines(value, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out)


def _line_of(path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _format(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _parse_path(text: str) -> tuple[Any, ...]:
    return tuple(int(m[2]) if m[2] is not None else m[1] for m in _PATH_PART.finditer(text))


def _message(error: Any) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in ("int_parsing", "int_type", "float_parsing", "float_type"):
        return f"expected a number, got {error.get('input')!r}"
    if kind == "missing":
        return "missing"
    return msg.removeprefix("Value error, ")


def load_rules(
    text: str, *, version: int = 0, activity_types: frozenset[str] | None = None
) -> CompiledRules:
    """Parse, validate and compile a rules document. Raises RulesInvalid listing every problem."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise RulesInvalid(
            [Problem("(document)", f"not valid YAML: {getattr(exc, 'problem', exc)}", line)]
        ) from None
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _lines(node, (), lines)
    raw = yaml.safe_load(text) or {}
    if not isinstance(raw, dict):
        raise RulesInvalid(
            [Problem("(document)", "a rules document is a YAML mapping (scoring:, levels: …)", 1)]
        )
    try:
        document = RulesDocument.model_validate(raw)
    except ValidationError as exc:
        problems = [
            Problem(_format(e["loc"]), _message(e), _line_of(tuple(e["loc"]), lines))
            for e in exc.errors()
        ]
        problems += _condition_problems(raw, lines, activity_types or frozenset(ACTIVITY_TYPES))
        raise RulesInvalid(sorted(problems, key=lambda p: (p.line or 0, p.path))) from None
    return _compile(document, text, version, lines, activity_types or frozenset(ACTIVITY_TYPES))


_CONDITION_LISTS = (
    ("scoring", "behavior"),
    ("scoring", "fit"),
    ("levels",),
    ("validity",),
    ("routing", "rules"),
    ("approach_requests",),
)


def _condition_problems(
    raw: dict[str, Any], lines: dict[tuple[Any, ...], int], types: frozenset[str]
) -> list[Problem]:
    """Condition errors in a document that failed schema validation, so one pass shows
    everything."""
    vocab = Vocabulary(activity_types=types)
    problems = []
    for keys in _CONDITION_LISTS:
        items: Any = raw
        for key in keys:
            items = items.get(key) if isinstance(items, dict) else None
        for index, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict) and "when" in item and item["when"] is not None:
                path = f"{_format(keys)}[{index}].when"
                try:
                    compile_condition(item["when"], vocab, path)
                except ConditionError as exc:
                    problems.append(
                        Problem(exc.path, exc.message, _line_of(_parse_path(exc.path), lines))
                    )
    return problems


def _compile(
    document: RulesDocument,
    text: str,
    version: int,
    lines: dict[tuple[Any, ...], int],
    types: frozenset[str],
) -> CompiledRules:
    vocab = Vocabulary(activity_types=types)
    problems: list[Problem] = []

    def problem(path: str, message: str) -> None:
        problems.append(Problem(path, message, _line_of(_parse_path(path), lines)))

    class_leaves: list[Leaf] = []

    def compile_at(spec: Any, path: str, leaves: list[Leaf] | None = None) -> Predicate | None:
        try:
            return compile_condition(spec, vocab, path, leaves)
        except ConditionError as exc:
            problem(exc.path, exc.message)
            return None

    groups = {g.name for g in document.scoring.groups}
    statuses = {s.name for s in document.statuses}
    compiled: dict[str, list[CompiledRule]] = {"behavior": [], "fit": []}
    seen: set[str] = set()
    for kind in ("behavior", "fit"):
        for index, rule in enumerate(getattr(document.scoring, kind)):
            path = f"scoring.{kind}[{index}]"
            if rule.id in seen:
                problem(f"{path}.id", f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
            group = rule.group or kind
            if group not in groups:
                problem(
                    f"{path}.group", f"unknown score group {group!r}; groups are {sorted(groups)}"
                )
            if rule.disqualify is not None:
                if kind != "fit":
                    problem(f"{path}.disqualify", "only fit rules can disqualify")
                elif statuses and rule.disqualify not in statuses:
                    problem(
                        f"{path}.disqualify",
                        f"unknown status {rule.disqualify!r}; statuses are {sorted(statuses)}",
                    )
            if kind == "fit" and (rule.cap or rule.expires_after_days or rule.repeat != "every"):
                problem(path, "fit rules describe who the lead is: no cap, repeat or expiry")
            if kind == "fit" and event_types_in(rule.when):
                problem(
                    f"{path}.when", "fit rules look at fields, not events (use a behavior rule)"
                )
            predicate = compile_at(rule.when, f"{path}.when")
            if predicate is not None:
                compiled[kind].append(CompiledRule(rule, group, predicate, kind))
    for index, decay in enumerate(document.scoring.decay):
        if decay.group not in groups:
            problem(f"scoring.decay[{index}].group", f"unknown score group {decay.group!r}")
    bands = document.temperature.bands
    if not bands or bands[-1].below is not None:
        problem(
            "temperature.bands", "the last band must have no 'below' (it holds every higher score)"
        )
    limits = [b.below for b in bands[:-1]]
    if any(b is None for b in limits) or limits != sorted(limits):  # type: ignore[type-var]
        problem("temperature.bands", "bands must go up: each 'below' higher than the one before")
    levels = []
    for index, level_rule in enumerate(document.levels):
        predicate = compile_at(level_rule.when, f"levels[{index}].when", class_leaves)
        if predicate is not None:
            levels.append((level_rule.level, level_rule.id, predicate))
    validity = []
    for index, validity_rule in enumerate(document.validity):
        predicate = compile_at(validity_rule.when, f"validity[{index}].when", class_leaves)
        if predicate is not None:
            validity.append((validity_rule.id, validity_rule.reason or validity_rule.id, predicate))
    routing: list[tuple[str, Predicate | None]] = []
    for index, route in enumerate(document.routing.rules):
        routing.append(
            (
                route.id,
                compile_at(route.when, f"routing.rules[{index}].when") if route.when else None,
            )
        )
    approach = []
    for index, request in enumerate(document.approach_requests):
        predicate = compile_at(request.when, f"approach_requests[{index}].when")
        if predicate is not None:
            approach.append((request.id, predicate))
    reengage: list[tuple[str, Predicate]] = []
    back = document.reengagement
    if back is not None:
        if statuses and back.to not in statuses:
            problem(
                "reengagement.to", f"unknown status {back.to!r}; statuses are {sorted(statuses)}"
            )
        elif back.to not in {s.name for s in document.statuses if s.type in ("open", "working")}:
            problem("reengagement.to", f"{back.to!r} is not a worked (open or working) status")
        if back.when is not None:
            predicate = compile_at(back.when, "reengagement.when")
            if predicate is not None:
                reengage.append(("activity", predicate))
        for index, level_rule in enumerate(document.levels):
            if back.level is not None and level_rule.level >= back.level:
                predicate = compile_at(level_rule.when, f"levels[{index}].when")
                if predicate is not None:
                    reengage.append((f"level {level_rule.level} ({level_rule.id})", predicate))
    for stage in ("inquiry", "mql"):
        if stage not in document.lifecycle.stages:
            problem(
                "lifecycle.stages",
                f"the stages must include {stage!r} (the MQL rule moves inquiry → mql)",
            )
    for index, move in enumerate(document.lifecycle.backward):
        for name, stage in (("from", move.from_), ("to", move.to)):
            if stage not in document.lifecycle.stages:
                problem(
                    f"lifecycle.backward[{index}].{name}",
                    f"unknown stage {stage!r}; stages are {document.lifecycle.stages}",
                )
        stages = document.lifecycle.stages
        if move.from_ in stages and move.to in stages:
            if stages.index(move.to) >= stages.index(move.from_):
                problem(
                    f"lifecycle.backward[{index}]",
                    f"{move.from_} → {move.to} is not a move back (stages move forward anyway)",
                )
    for index, status in enumerate(document.statuses):
        for target in status.to or []:
            if target not in statuses:
                problem(
                    f"statuses[{index}].to",
                    f"unknown status {target!r}; statuses are {sorted(statuses)}",
                )
    for index, conversion in enumerate(document.conversions):
        for target in [conversion.to, *(conversion.from_ or [])]:
            if statuses and target not in statuses:
                where = "to" if target == conversion.to else "from"
                problem(
                    f"conversions[{index}].{where}",
                    f"unknown status {target!r}; statuses are {sorted(statuses)}",
                )
        if conversion.team_kind is not None and conversion.event != "assigned":
            problem(f"conversions[{index}].team_kind", "only an `assigned` conversion has one")
    for index, deadline in enumerate(document.cadence.deadlines):
        if deadline.stage not in ("touch_1", "touch_2", "touch_3", "touch_4"):
            problem(
                f"cadence.deadlines[{index}].stage",
                f"expected touch_1 … touch_4, got {deadline.stage!r}",
            )
    _playbook_problems(document, problem)
    _segment_problems(document, problem)
    if problems:
        raise RulesInvalid(problems)
    return CompiledRules(
        version=version,
        document=document,
        text=text,
        behavior=compiled["behavior"],
        fit=compiled["fit"],
        decay=list(document.scoring.decay),
        totals=frozenset(g.name for g in document.scoring.groups if g.total),
        levels=sorted(levels, key=lambda item: -item[0]),
        level_types=frozenset(t for lv in document.levels for t in event_types_in(lv.when)),
        validity=validity,
        validity_types=frozenset(t for v in document.validity for t in event_types_in(v.when)),
        routing=routing,
        approach=approach,
        class_leaves=class_leaves,
        behavior_by_type=_by_type(compiled["behavior"]),
        reengage=reengage,
    )


def _playbook_problems(document: RulesDocument, problem: Any) -> None:
    """One playbook per stage, template names unique, and only known placeholders in the texts."""
    stages: set[str] = set()
    templates: set[str] = set()
    for index, playbook in enumerate(document.playbooks):
        path = f"playbooks[{index}]"
        if playbook.stage in stages:
            problem(f"{path}.stage", f"a second playbook for {playbook.stage}")
        stages.add(playbook.stage)
        if playbook.template in templates:
            problem(f"{path}.template", f"duplicate template {playbook.template!r}")
        templates.add(playbook.template)
        for part in ("label", "script", "subject", "body"):
            text = getattr(playbook, part)
            for language in ("ja", "en"):
                try:
                    placeholders_in(getattr(text, language) if text else "")
                except PlaceholderError as exc:
                    problem(f"{path}.{part}.{language}", str(exc))


def _segment_problems(document: RulesDocument, problem: Any) -> None:
    """Title classes that compile and are named once; employee bands that go up."""
    segments = document.segments
    names = [c.name for c in segments.title_classes] + [segments.other_title]
    for index, title_class in enumerate(segments.title_classes):
        if names.count(title_class.name) > 1:
            problem(f"segments.title_classes[{index}].name", f"{title_class.name!r} is twice")
        for number, pattern in enumerate(title_class.patterns):
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                problem(
                    f"segments.title_classes[{index}].patterns[{number}]",
                    f"not a regular expression: {exc}",
                )
    bands = segments.employee_bands
    if any(b < 2 for b in bands) or bands != sorted(set(bands)):
        problem(
            "segments.employee_bands",
            "expected the ends of the bands going up, each above 1 (e.g. [10, 50, 300, 1000])",
        )


def _by_type(rules: list[CompiledRule]) -> dict[str | None, list[CompiledRule]]:
    """Index rules by the type they need, keeping document order within each list."""
    out: dict[str | None, list[CompiledRule]] = {}
    for rule in rules:
        out.setdefault(required_type(rule.rule.when), []).append(rule)
    return out


def default_rules_text() -> str:
    return DEFAULTS_PATH.read_text(encoding="utf-8")
