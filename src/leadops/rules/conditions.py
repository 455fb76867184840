"""The condition language of the rules document, compiled to plain Python closures (never ``eval``).

A condition is a mapping:

- ``{field: NAME, OP: VALUE, ...}``: a field of the lead (``title``, ``account.employees``,
  ``custom.利用中のMAシステム``, ``email_domain``, ``free_mail`` …);
- ``{event: TYPE, property: {NAME: {OP: VALUE}}}``: an activity of that type (whose properties
  match); on a lead it means "the lead has such an activity", in a scoring rule "this activity is
  one";
- ``{property: {NAME: {OP: VALUE}}}``: the current activity's properties (scoring rules);
- ``{all: [...]}``, ``{any: [...]}``, ``{not: {...}}``.

Operators: ``eq ne in contains matches gte lte between exists``. Several operators in one mapping
must all hold. Compilation checks every name and value and raises ``ConditionError`` with the path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

OPERATORS = ("eq", "ne", "in", "contains", "matches", "gte", "lte", "between", "exists")
COMBINATORS = ("all", "any", "not")

#: Lead fields a condition may name, with the kind of value each holds.
LEAD_FIELDS: dict[str, str] = {
    "email": "text",
    "email_domain": "text",
    "free_mail": "bool",
    "first_name": "text",
    "last_name": "text",
    "company": "text",
    "title": "text",
    "department": "text",
    "phone": "text",
    "prefecture": "text",
    "region": "text",
    "source": "text",
    "status": "text",
    "status_reason": "text",
    "lifecycle_stage": "text",
    "touch_stage": "text",
    "score": "number",
    "behavior_score": "number",
    "fit_score": "number",
    "level": "number",
    "temperature": "text",
    "is_valid": "bool",
    "has_company": "bool",
    "bounced": "bool",
    "owner": "text",
    "team": "text",
    "campaign": "text",
    "created_at": "time",
    "account.name": "text",
    "account.domain": "text",
    "account.employees": "number",
    "account.industry": "text",
    "account.prefecture": "text",
    "account.region": "text",
    "account.owner": "text",
    "account.has_open_opportunity": "bool",
    #: The newest predictive model's probability of its outcome (0–1; absent before a model).
    "prediction.probability": "number",
}


class ConditionError(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass
class Facts:
    """What a condition looks at: a lead's fields, its activities, and the activity being scored."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    activities: Sequence[tuple[str, Mapping[str, Any]]] = ()
    activity: tuple[str, Mapping[str, Any]] | None = None
    #: Event conditions known to be met (their leaf numbers), instead of scanning ``activities``.
    seen: frozenset[int] | None = None

    def value(self, name: str) -> Any:
        if name.startswith("custom."):
            custom = self.fields.get("custom") or {}
            return custom.get(name.removeprefix("custom."))
        return self.fields.get(name)


Predicate = Callable[[Facts], bool]
Test = Callable[[Any], bool]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return None


def _comparable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    number = _number(value)
    return number if number is not None else value


def _op(name: str, arg: Any, path: str) -> Test:
    """One operator as a test on a value. ``None`` (absent) fails every test but ``exists:
    false``/``ne``."""
    if name in ("eq", "ne"):
        target = _comparable(arg)

        def equal(v: Any) -> bool:
            return v is not None and (v == arg or _comparable(v) == target)

        return equal if name == "eq" else lambda v: not equal(v)
    if name == "in":
        if not isinstance(arg, list):
            raise ConditionError(path, "'in' needs a list of values")
        members = set(map(str, arg))
        return lambda v: v is not None and str(v) in members
    if name == "contains":
        needle = str(arg).casefold()

        def contains(v: Any) -> bool:
            if isinstance(v, _COLLECTIONS):
                return any(str(item).casefold() == needle for item in v)
            return v is not None and needle in str(v).casefold()

        return contains
    if name == "matches":
        if not isinstance(arg, str):
            raise ConditionError(path, "'matches' needs a regular expression as text")
        try:
            pattern = re.compile(arg, re.IGNORECASE)
        except re.error as exc:
            raise ConditionError(path, f"not a valid regular expression: {exc}") from None
        return lambda v: v is not None and pattern.search(str(v)) is not None
    if name in ("gte", "lte"):
        bound = _comparable(arg)
        if isinstance(bound, str) and not re.match(r"^\d{4}-\d{2}-\d{2}", bound):
            raise ConditionError(path, f"'{name}' needs a number or an ISO date, got {arg!r}")

        def compare(v: Any) -> bool:
            if v is None:
                return False
            value = _comparable(v)
            if type(value) is not type(bound):
                return False
            return bool(value >= bound) if name == "gte" else bool(value <= bound)

        return compare
    if name == "between":
        if not isinstance(arg, list) or len(arg) != 2:
            raise ConditionError(path, "'between' needs a list of two bounds, e.g. [11, 50]")
        low, high = _op("gte", arg[0], path), _op("lte", arg[1], path)
        return lambda v: low(v) and high(v)
    if name == "exists":
        if not isinstance(arg, bool):
            raise ConditionError(path, "'exists' needs true or false")
        return lambda v: (v is not None and v != "" and v != []) == arg
    raise ConditionError(path, f"unknown operator {name!r}; operators are {', '.join(OPERATORS)}")


#: What ``contains`` looks into member by member (a tuple: built once, not on every test).
_COLLECTIONS = (list, tuple, set)


def _tests(spec: Mapping[str, Any], path: str) -> list[Test]:
    tests = []
    for key, arg in spec.items():
        tests.append(_op(key, arg, f"{path}.{key}"))
    if not tests:
        raise ConditionError(path, f"needs an operator ({', '.join(OPERATORS)})")
    return tests


def _property_matcher(spec: Any, path: str) -> Callable[[Mapping[str, Any]], bool]:
    if not isinstance(spec, Mapping) or not spec:
        raise ConditionError(
            path, "expected property names with operators, e.g. {form: {eq: inquiry}}"
        )
    checks: list[tuple[str, list[Test]]] = []
    for name, ops in spec.items():
        if not isinstance(ops, Mapping):
            ops = {"eq": ops}
        checks.append((str(name), _tests(ops, f"{path}.{name}")))
    if len(checks) == 1 and len(checks[0][1]) == 1:  # the common case: one property, one test
        key, (test,) = checks[0]
        return lambda props: test(props.get(key))
    return lambda props: all(all(t(props.get(name)) for t in tests) for name, tests in checks)


@dataclass(frozen=True)
class Vocabulary:
    """The names a condition may use: activity types (built-in plus the users' own) and lead
    fields."""

    activity_types: frozenset[str]
    fields: Mapping[str, str] = field(default_factory=lambda: LEAD_FIELDS)


ActivityMatcher = Callable[[tuple[str, Mapping[str, Any]]], bool]
#: An event condition's leaf: the activity type it needs (None: any) and its matcher.
Leaf = tuple[str | None, ActivityMatcher]


def compile_condition(
    spec: Any, vocab: Vocabulary, path: str = "when", leaves: list[Leaf] | None = None
) -> Predicate:
    """Turn a condition mapping into a predicate on Facts, or raise ConditionError naming the path.

    With ``leaves``, each event condition appends its activity matcher there and, on a lead, reads
    whether it is met from ``Facts.seen`` (the numbers of leaves some activity has matched), so a
    lead's history need not be scanned: "has such an activity" only ever turns true."""
    if not isinstance(spec, Mapping) or not spec:
        raise ConditionError(
            path, "expected a condition: field/event/property with operators, or all/any/not"
        )
    keys = set(spec)
    combinators = keys & set(COMBINATORS)
    if combinators:
        if len(keys) != 1:
            raise ConditionError(
                path, f"'{next(iter(combinators))}' must stand alone in its mapping"
            )
        name = next(iter(combinators))
        arg = spec[name]
        if name == "not":
            inner = compile_condition(arg, vocab, f"{path}.not", leaves)
            return lambda facts: not inner(facts)
        if not isinstance(arg, list) or not arg:
            raise ConditionError(f"{path}.{name}", "expected a non-empty list of conditions")
        parts = [
            compile_condition(item, vocab, f"{path}.{name}[{i}]", leaves)
            for i, item in enumerate(arg)
        ]
        if name == "all":
            return lambda facts: all(p(facts) for p in parts)
        return lambda facts: any(p(facts) for p in parts)
    if "field" in keys:
        return _field_condition(spec, vocab, path)
    if "event" in keys or "property" in keys:
        return _event_condition(spec, vocab, path, leaves)
    raise ConditionError(
        path,
        f"unknown keys {sorted(keys)}; a condition has field, event, property, all, any or not",
    )


def _field_condition(spec: Mapping[str, Any], vocab: Vocabulary, path: str) -> Predicate:
    name = spec["field"]
    if not isinstance(name, str) or not (name in vocab.fields or name.startswith("custom.")):
        known = ", ".join(sorted(vocab.fields))
        raise ConditionError(
            f"{path}.field", f"unknown field {name!r}; fields are {known}, or custom.NAME"
        )
    extra = {k: v for k, v in spec.items() if k != "field"}
    unknown = [k for k in extra if k not in OPERATORS]
    if unknown:
        raise ConditionError(
            f"{path}.{unknown[0]}", f"unknown operator; operators are {', '.join(OPERATORS)}"
        )
    tests = _tests(extra, path)
    # As Facts.value reads it, decided once here: conditions run for every lead of every batch.
    if name.startswith("custom."):
        key = name.removeprefix("custom.")

        def read(facts: Facts) -> Any:
            return (facts.fields.get("custom") or {}).get(key)
    else:

        def read(facts: Facts) -> Any:
            return facts.fields.get(name)

    if len(tests) == 1:
        test = tests[0]
        return lambda facts: test(read(facts))
    return lambda facts: all(t(read(facts)) for t in tests)


def _event_condition(
    spec: Mapping[str, Any], vocab: Vocabulary, path: str, leaves: list[Leaf] | None
) -> Predicate:
    unknown = [k for k in spec if k not in ("event", "property")]
    if unknown:
        raise ConditionError(
            f"{path}.{unknown[0]}", "an event condition has only 'event' and 'property'"
        )
    type_ = spec.get("event")
    if type_ is not None and type_ not in vocab.activity_types:
        raise ConditionError(
            f"{path}.event",
            f"unknown activity type {type_!r}; types are {', '.join(sorted(vocab.activity_types))}",
        )
    props = _property_matcher(spec["property"], f"{path}.property") if "property" in spec else None

    def matches(activity: tuple[str, Mapping[str, Any]]) -> bool:
        kind, properties = activity
        return (type_ is None or kind == type_) and (props is None or props(properties))

    leaf = None
    if leaves is not None:
        leaf = len(leaves)
        leaves.append((type_, matches))

    def predicate(facts: Facts) -> bool:
        if facts.activity is not None:
            return matches(facts.activity)
        if facts.seen is not None and leaf is not None:
            return leaf in facts.seen
        return any(matches(a) for a in facts.activities)

    return predicate


def required_type(spec: Any) -> str | None:
    """The activity type a condition cannot hold without (its own event, or one in an ``all``)."""
    if isinstance(spec, Mapping):
        if isinstance(spec.get("event"), str):
            return str(spec["event"])
        for item in spec.get("all") or []:
            found = required_type(item)
            if found is not None:
                return found
    return None


def event_types_in(spec: Any) -> set[str]:
    """Activity types a condition mentions (to know which activities a rule can be decided by)."""
    found: set[str] = set()
    if isinstance(spec, Mapping):
        if isinstance(spec.get("event"), str):
            found.add(spec["event"])
        for key in COMBINATORS:
            value = spec.get(key)
            items: Iterable[Any] = (
                value if isinstance(value, list) else [value] if value is not None else []
            )
            for item in items:
                found |= event_types_in(item)
    return found
