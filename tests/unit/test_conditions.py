"""The condition language: each operator, combinations, and errors for unknown names."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadops.models.activities import ACTIVITY_TYPES
from leadops.rules.conditions import ConditionError, Facts, Vocabulary, compile_condition

VOCAB = Vocabulary(activity_types=frozenset(ACTIVITY_TYPES))


def check(
    spec: dict[str, Any],
    fields: dict[str, Any] | None = None,
    activities: Any = (),
    activity: Any = None,
) -> bool:
    return compile_condition(spec, VOCAB)(Facts(fields or {}, activities, activity))


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ({"eq": "部長"}, "部長", True),
        ({"eq": 1000}, "1000", True),
        ({"ne": "a"}, "b", True),
        ({"ne": "a"}, None, True),
        ({"in": ["大阪府", "京都府"]}, "京都府", True),
        ({"in": ["大阪府"]}, "東京都", False),
        ({"contains": "pricing"}, "https://x.jp/Pricing", True),
        ({"matches": "部長|Director"}, "営業部長", True),
        ({"matches": "部長|Director"}, "担当", False),
        ({"gte": 1000}, 1000, True),
        ({"gte": 1000}, 999, False),
        ({"lte": 10}, 10, True),
        ({"between": [11, 50]}, 30, True),
        ({"between": [11, 50]}, 51, False),
        ({"exists": True}, "x", True),
        ({"exists": True}, None, False),
        ({"exists": False}, "", True),
        ({"gte": 10}, None, False),
        ({"gte": 10}, "abc", False),
        ({"gte": "2026-01-01"}, "2026-02-01", True),
    ],
)
def test_operators(spec: dict[str, Any], value: Any, expected: bool) -> None:
    assert check({"field": "title", **spec}, {"title": value}) is expected


def test_several_operators_in_one_condition_must_all_hold() -> None:
    band = {"field": "account.employees", "gte": 11, "lte": 50}
    assert check(band, {"account.employees": 30})
    assert not check(band, {"account.employees": 60})


def test_events_on_a_lead_and_on_the_activity_being_scored() -> None:
    booth_talk = {"event": "booth_visit", "property": {"detailed_talk": {"eq": True}}}
    assert check(
        booth_talk, activities=[("tradeshow_attend", {}), ("booth_visit", {"detailed_talk": True})]
    )
    assert not check(booth_talk, activities=[("booth_visit", {"detailed_talk": False})])
    assert check(booth_talk, activity=("booth_visit", {"detailed_talk": True}))
    assert not check(
        booth_talk,
        activity=("tradeshow_attend", {}),
        activities=[("booth_visit", {"detailed_talk": True})],
    )


def test_custom_fields_and_combinators() -> None:
    spec = {
        "all": [
            {"field": "custom.利用中のMAシステム", "in": ["Marketo", "HubSpot"]},
            {"not": {"field": "region", "eq": "近畿"}},
            {"any": [{"field": "score", "gte": 100}, {"event": "trial_signup"}]},
        ]
    }
    lead = {"custom": {"利用中のMAシステム": "HubSpot"}, "region": "関東", "score": 20}
    assert check(spec, lead, activities=[("trial_signup", {})])
    assert not check(spec, lead)
    assert not check(spec, {**lead, "region": "近畿"}, activities=[("trial_signup", {})])


@pytest.mark.parametrize(
    ("spec", "path", "message"),
    [
        ({"field": "titel", "eq": "x"}, "when.field", "unknown field 'titel'"),
        ({"event": "fax"}, "when.event", "unknown activity type 'fax'"),
        ({"field": "title", "equals": "x"}, "when.equals", "unknown operator"),
        ({"field": "title", "matches": "("}, "when.matches", "not a valid regular expression"),
        ({"field": "title", "in": "x"}, "when.in", "needs a list"),
        ({"field": "score", "between": [1]}, "when.between", "two bounds"),
        ({"any": []}, "when.any", "non-empty list"),
        ({"all": [{"field": "x", "eq": 1}]}, "when.all[0].field", "unknown field"),
        (
            {"not": {"event": "page_view", "property": {"url": {"near": "/x"}}}},
            "when.not.property.url.near",
            "unknown operator",
        ),
        ({"score": 5}, "when", "unknown keys"),
        ({}, "when", "expected a condition"),
    ],
)
def test_mistakes_are_errors_naming_the_path(spec: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition(spec, VOCAB)
    assert caught.value.path == path
    assert message in caught.value.message


values = st.one_of(st.none(), st.integers(-10_000, 10_000), st.text(max_size=8), st.booleans())


@given(values, st.integers(-10_000, 10_000), st.integers(-10_000, 10_000))
def test_between_is_gte_and_lte(value: Any, low: int, high: int) -> None:
    fields = {"score": value}
    both = check({"field": "score", "gte": low}, fields) and check(
        {"field": "score", "lte": high}, fields
    )
    assert check({"field": "score", "between": [low, high]}, fields) is both


@given(values, st.lists(st.text(max_size=4), max_size=5))
def test_not_inverts_and_ne_is_not_eq(value: Any, members: list[str]) -> None:
    fields = {"title": value}
    for spec in (
        {"field": "title", "in": members},
        {"field": "title", "eq": "x"},
        {"field": "title", "exists": True},
    ):
        assert check({"not": spec}, fields) is not check(spec, fields)
    assert check({"field": "title", "ne": "x"}, fields) is not check(
        {"field": "title", "eq": "x"}, fields
    )


@given(st.lists(st.booleans(), min_size=1, max_size=6))
def test_all_and_any_agree_with_python(flags: list[bool]) -> None:
    parts = [{"field": f"custom.f{i}", "eq": True} for i in range(len(flags))]
    fields = {"custom": {f"f{i}": flag for i, flag in enumerate(flags)}}
    assert check({"all": parts}, fields) is all(flags)
    assert check({"any": parts}, fields) is any(flags)
