"""Playbooks in the rules document: seed 002's four stages by default, placeholders checked by name,
texts filled without ``str.format``."""

from __future__ import annotations

import pytest

from leadops.cadence.service import CHANNELS
from leadops.rules.loader import RulesInvalid, default_rules_text, load_rules
from leadops.rules.playbooks import PlaceholderError, fill, placeholders_in
from leadops.rules.schema import TOUCH_CHANNELS

PLAYBOOK = """
playbooks:
  - stage: touch_1
    channel: call
    template: first-call
    subject: {{ja: "{subject}", en: "Hello {{company}}"}}
    body: {{ja: "{{last_name}}様", en: "Dear {{first_name}}"}}
"""


def test_the_defaults_have_seed_002s_playbook_for_each_touch_stage() -> None:
    rules = load_rules(default_rules_text())
    assert {stage: (p.channel, p.template) for stage, p in rules.playbooks.items()} == {
        "touch_1": ("call", "stage1-call-voicemail"),
        "touch_2": ("call", "stage2-follow-up"),
        "touch_3": ("email", "stage3-industry-case"),
        "touch_4": ("email", "stage4-anything-needed"),
    }
    first = rules.playbooks["touch_1"]
    assert first.label is not None
    assert "留守番電話" in first.label.ja
    assert first.subject is not None
    assert "{company}" in first.subject.ja
    assert first.body is not None
    assert first.body.en.startswith("Dear {first_name} {last_name}")
    assert rules.templates["stage4-anything-needed"].stage == "touch_4"


def test_the_playbook_channels_are_the_touch_channels() -> None:
    assert TOUCH_CHANNELS == CHANNELS


def test_an_unknown_placeholder_is_an_error_naming_the_key_and_where_it_is() -> None:
    with pytest.raises(RulesInvalid) as caught:
        load_rules(PLAYBOOK.format(subject="{company}様 {owner_nmae}"))
    problem = caught.value.problems[0]
    assert problem.path == "playbooks[0].subject.ja"
    assert "unknown placeholder {owner_nmae}" in problem.message
    assert "{owner_name}" in problem.message  # the keys there are
    assert problem.line == 6
    # Attribute and index lookups are unknown keys, not a way into the objects.
    for text in ("{company.__class__}", "{company[0]}", "{company!r}"):
        with pytest.raises(RulesInvalid, match="unknown placeholder"):
            load_rules(PLAYBOOK.format(subject=text))
    with pytest.raises(RulesInvalid, match="a lone '}'"):
        load_rules(PLAYBOOK.format(subject="{{company}"))
    assert load_rules(PLAYBOOK.format(subject="{company}様")).templates["first-call"]


def test_stages_channels_and_templates_are_checked() -> None:
    text = """
playbooks:
  - {stage: touch_5, channel: call, template: a}
  - {stage: touch_1, channel: fax, template: b}
  - {stage: touch_2, channel: call, template: c}
  - {stage: touch_2, channel: email, template: c}
"""
    with pytest.raises(RulesInvalid) as caught:
        load_rules(text)
    paths = {p.path: p.message for p in caught.value.problems}
    assert "touch_5" in paths["playbooks[0].stage"]
    assert "unknown channel 'fax'" in paths["playbooks[1].channel"]
    text = text.replace("touch_5", "touch_3").replace("fax", "call")
    with pytest.raises(RulesInvalid) as caught:
        load_rules(text)
    paths = {p.path: p.message for p in caught.value.problems}
    assert paths == {
        "playbooks[3].stage": "a second playbook for touch_2",
        "playbooks[3].template": "duplicate template 'c'",
    }


def test_filling_a_text() -> None:
    values = {"company": "株式会社テスト", "last_name": "田中", "first_name": None}
    filled = fill("{company}\n{last_name}様 {first_name}{{x}}", values)
    assert filled == "株式会社テスト\n田中様 {x}"
    assert placeholders_in("{ company } {{not}} {owner_email}") == ["company", "owner_email"]
    with pytest.raises(PlaceholderError):
        placeholders_in("}")
