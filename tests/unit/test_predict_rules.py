"""``prediction.probability`` in the rules: a field of conditions (approach requests, routing
rules), of ``by_field`` routing bands, and of temperature bands — all checked when the document
is loaded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadops.models import ACTIVITY_TYPES
from leadops.routing.strategies import Candidate, LeadFacts, choose
from leadops.rules.loader import DEFAULTS_PATH, RulesInvalid, load_rules

AT = datetime(2026, 11, 23, 10, tzinfo=UTC)
TYPES = frozenset(ACTIVITY_TYPES)
LIKELY = """approach_requests:
  - id: likely-to-book
    when: {all: [{event: content_download}, {field: prediction.probability, gte: 0.4}]}
    subject: 予測確率40%以上
    due_hours: 24
"""
ROUTE = """  rules:
    - id: likely-to-field-sales
      when: {field: prediction.probability, gte: 0.6}
      team: 本社営業本部法人営業部
      strategy: by_field
      options: {field: prediction.probability, bands: [{min: 0.6, user: a@x.jp}]}
"""


def _document(temperature: str | None = None) -> str:
    text = DEFAULTS_PATH.read_text(encoding="utf-8")
    if temperature is not None:
        start = text.index("temperature:")
        end = text.index("\n\n", start)
        text = text[:start] + temperature + text[end:]
    return text


def test_routing_bands_can_divide_the_predicted_probability() -> None:
    options = {
        "field": "prediction.probability",
        "bands": [{"max": 0.3, "user": 1}, {"min": 0.3, "user": 2}],
    }
    reps = [Candidate(1), Candidate(2)]
    picked = [
        choose("by_field", reps, LeadFacts(fields={"prediction.probability": p}), AT, options)
        for p in (0.05, 0.29, 0.31, 0.9)
    ]
    assert [c.user_id for c in picked] == [1, 1, 2, 2]
    assert "prediction.probability 0.9 in band" in picked[-1].reason


def test_approach_requests_and_routing_rules_may_read_the_probability() -> None:
    text = _document().replace("approach_requests:\n", LIKELY, 1).replace("  rules:\n", ROUTE, 1)
    rules = load_rules(text, activity_types=TYPES)
    assert any(r.id == "likely-to-book" for r in rules.document.approach_requests)
    assert rules.document.routing.rules[0].id == "likely-to-field-sales"
    misspelt = text.replace(
        "{field: prediction.probability, gte: 0.4}", "{field: prediction, gte: 1}"
    )
    with pytest.raises(RulesInvalid, match="unknown field 'prediction'"):
        load_rules(misspelt, activity_types=TYPES)


def test_temperature_bands_of_the_probability_are_checked_like_score_bands() -> None:
    good = (
        "temperature:\n  field: prediction.probability\n  bands:\n"
        "    - {name: cold, below: 0.2}\n    - {name: hot}\n"
    )
    rules = load_rules(_document(good), activity_types=TYPES)
    assert rules.document.temperature.field == "prediction.probability"
    assert rules.temperature(0.1) == "cold"
    assert rules.temperature(0.5) == "hot"
    wrong = "temperature:\n  field: likelihood\n  bands:\n    - {name: hot}\n"
    with pytest.raises(RulesInvalid, match="temperature"):
        load_rules(_document(wrong), activity_types=TYPES)
