"""The rules document: defaults load; every error has a path and a line."""

from __future__ import annotations

import pytest

from leadops.rules.loader import RulesInvalid, default_rules_text, load_rules


def test_the_shipped_defaults_load() -> None:
    rules = load_rules(default_rules_text(), version=1)
    assert {r.rule.id for r in rules.behavior} >= {
        "contact-form",
        "email-open",
        "pricing-page",
        "free-trial",
    }
    assert [level for level, _, _ in rules.levels] == [4, 4, 3, 2, 1]
    assert rules.totals == {"behavior", "fit"}
    assert [rules.temperature(s) for s in (0, 39, 40, 99, 100)] == [
        "cold",
        "cold",
        "warm",
        "warm",
        "hot",
    ]
    assert rules.region_map()["大阪府"] == "近畿"
    assert "三重県" not in rules.region_map()


def test_every_error_is_listed_with_path_and_line() -> None:
    text = default_rules_text()
    text = text.replace("      points: 10\n", "      points: ten\n", 1)
    text = text.replace("field: title", "field: titel", 1)
    text = text.replace("strategy: account_owner}", "strategy: coin_flip}", 1)
    with pytest.raises(RulesInvalid) as caught:
        load_rules(text)
    problems = {p.path: p for p in caught.value.problems}
    lines = text.splitlines()
    points = problems["scoring.behavior[5].points"]
    assert points.message == "expected a number, got 'ten'"
    assert "points: ten" in lines[(points.line or 0) - 1]
    assert "unknown field 'titel'" in problems["scoring.fit[0].when.field"].message
    assert "titel" in lines[(problems["scoring.fit[0].when.field"].line or 0) - 1]
    strategy = next(p for p in caught.value.problems if p.path.startswith("routing.rules"))
    assert "unknown strategy 'coin_flip'" in strategy.message
    assert "coin_flip" in lines[(strategy.line or 0) - 1]
    assert "line " in str(caught.value)


@pytest.mark.parametrize(
    ("yaml_text", "path", "message"),
    [
        (
            "scoring:\n  behavior:\n    - {id: a, when: {event: page_view}, points: 1}\n"
            "    - {id: a, when: {event: email_open}}\n",
            "scoring.behavior[1].id",
            "duplicate rule id",
        ),
        (
            "scoring:\n  behavior:\n    - {id: a, group: nope, when: {event: page_view}, points: "
            "1}\n",
            "scoring.behavior[0].group",
            "unknown score group",
        ),
        (
            "scoring:\n  fit:\n    - {id: f, when: {event: page_view}, points: 1}\n",
            "scoring.fit[0].when",
            "fit rules look at fields",
        ),
        (
            "temperature:\n  bands: [{name: hot, below: 100}, {name: cold, below: 40},"
            " {name: x}]\n",
            "temperature.bands",
            "bands must go up",
        ),
        (
            "scoring:\n  behavior:\n    - {id: a, when: {event: page_view}, points: 1, colour: "
            "red}\n",
            "scoring.behavior[0].colour",
            "unknown key",
        ),
        ("scoring: [\n", "(document)", "not valid YAML"),
    ],
)
def test_specific_mistakes(yaml_text: str, path: str, message: str) -> None:
    with pytest.raises(RulesInvalid) as caught:
        load_rules(yaml_text)
    assert any(p.path == path and message in p.message for p in caught.value.problems), (
        caught.value.problems
    )


def test_status_transitions_and_lifecycle_stages_are_checked() -> None:
    text = default_rules_text().replace("to: [partner]}", "to: [partnr]}", 1)
    text = text.replace(
        "stages: [inquiry, mql, sql, opportunity, customer]", "stages: [inquiry, sql]"
    )
    with pytest.raises(RulesInvalid) as caught:
        load_rules(text)
    problems = {p.path: p for p in caught.value.problems}
    assert "unknown status 'partnr'" in problems["statuses[3].to"].message
    assert "partnr" in text.splitlines()[(problems["statuses[3].to"].line or 0) - 1]
    assert "must include 'mql'" in problems["lifecycle.stages"].message
    defaults = load_rules(default_rules_text())
    transitions = {s.name: s.to for s in defaults.document.statuses}
    assert transitions["disqualified_sales"] == ["new"]
    assert "recycled" in (transitions["lead"] or [])
