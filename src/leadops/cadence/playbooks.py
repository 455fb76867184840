"""The playbook of a touch (seed 002: what each touch stage sends) and its texts filled with a
lead's values.

A touch is made *at* a stage: the first touch of an untouched lead is touch_1's, the touch after
touch_1 is touch_2's …, a further try after touch_4 is touch_4's again. A connected lead has no next
touch and no playbook.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from leadops.errors import FieldError, ValidationFailed
from leadops.models import Lead, User
from leadops.rules.loader import CompiledRules
from leadops.rules.playbooks import fill
from leadops.rules.schema import PLAYBOOK_STAGES, Localized, Playbook


def touch_step(stage_before: str) -> str:
    """The stage a touch is made at, from the lead's touch stage before it."""
    if stage_before == "untouched":
        return PLAYBOOK_STAGES[0]
    if stage_before in PLAYBOOK_STAGES[:-1]:
        return PLAYBOOK_STAGES[PLAYBOOK_STAGES.index(stage_before) + 1]
    return stage_before  # touch_4 (more tries) or connected


def playbook_for(rules: CompiledRules, stage_before: str) -> Playbook | None:
    """The playbook of the next touch of a lead in ``stage_before``."""
    return rules.playbooks.get(touch_step(stage_before))


def stage_templates(rules: CompiledRules) -> dict[str, str]:
    """The template of the next touch, by the lead's touch stage (leads the queue shows)."""
    stages = ("untouched", *PLAYBOOK_STAGES)
    return {s: p.template for s in stages if (p := playbook_for(rules, s)) is not None}


def touch_template(rules: CompiledRules, template: str | None, stage_before: str) -> str | None:
    """The template a touch used: the one named (an unknown name is a ValidationFailed naming
    ``template``), else the playbook's of the touch's stage (None when it has none)."""
    name = (template or "").strip()
    if name:
        if name not in rules.templates:
            known = ", ".join(sorted(rules.templates)) or "none (the rules have no playbooks)"
            raise ValidationFailed(
                [FieldError("template", f"unknown template {name!r}; templates are {known}")]
            )
        return name
    playbook = playbook_for(rules, stage_before)
    return playbook.template if playbook else None


def lead_values(session: Session, lead: Lead) -> dict[str, str | None]:
    """What the placeholders stand for, for this lead."""
    owner = session.get(User, lead.owner_id) if lead.owner_id else None
    return {
        "last_name": lead.last_name,
        "first_name": lead.first_name,
        "company": lead.company,
        "department": lead.department,
        "title": lead.title,
        "owner_name": owner.name if owner else None,
        "owner_email": owner.email if owner else None,
    }


@dataclass(frozen=True)
class Rendered:
    """A playbook in one language, its texts filled with a lead's values."""

    stage: str
    channel: str
    template: str
    label: str | None
    script: str | None
    subject: str | None
    body: str | None


def render_playbook(playbook: Playbook, values: dict[str, str | None], locale: str) -> Rendered:
    def text(part: Localized | None) -> str | None:
        if part is None:
            return None
        return fill(part.en if locale == "en" else part.ja, values)

    return Rendered(
        playbook.stage,
        playbook.channel,
        playbook.template,
        text(playbook.label),
        text(playbook.script),
        text(playbook.subject),
        text(playbook.body),
    )
