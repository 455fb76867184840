"""The lead page's timeline: activities, score lines, history events, touches, notes, follow-ups
and qualifications of one lead, in the words of the reader's language."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.cadence.notes import notes_of
from leadops.cadence.playbooks import stage_templates
from leadops.cadence.qualify import ANSWERS, qualifications_of
from leadops.cadence.tasks import timeline_items
from leadops.models import ScoreLedger, Touch, User
from leadops.web.i18n import N_
from leadops.web.render import status_labels
from leadops.web.timeline_words import (
    actor_words,
    event_value,
    payload_words,
    template_title,
)

DECAY = re.compile(r"^(?P<percent>[\d.]+)% decay after (?P<days>\d+) days without activity$")
#: The score lines' reasons the scoring engine says in English, in the reader's words.
DECAY_WORDS = N_("%(percent)s%% less after %(days)s days without activity")
EXPIRED_WORDS = N_("points expired")
ENDED_WORDS = N_("no longer applies")
SCORED = re.compile(r"^score (?P<n>-?\d+)$")
SCORED_WORDS = N_("score %(n)s")


def event_reason(reason: str | None, t: Any) -> str | None:
    """An event's reason in words: a temperature change's ``score 47`` too."""
    if not reason:
        return reason
    if found := SCORED.match(reason):
        return t.gettext(SCORED_WORDS, n=found["n"])
    return t.gettext(reason)


def score_words(reason: str | None, descriptions: dict[str, str], rule_id: str, t: Any) -> dict:
    """A score line in words: the rule's description (its id only when it has none), and what
    happened when that is more than the rule matching (a decay, an expiry, a fit that ended)."""
    label = descriptions.get(rule_id)
    said: str | None = reason
    if reason and (found := DECAY.match(reason)):
        said = t.gettext(DECAY_WORDS, **found.groupdict())
    elif reason == "points expired":
        said = t.gettext(EXPIRED_WORDS)
    elif reason and reason.startswith("no longer: "):
        said = t.gettext(ENDED_WORDS)
        label = label or reason.removeprefix("no longer: ")
    title = label or said or rule_id
    return {"title": title, "reason": said if said and said != title else None, "rule": rule_id}


def stage_titles(rules: Any, locale: str) -> dict[str, str]:
    """The next touch's template by touch stage, by its playbook's line where it has one."""
    return {
        stage: template_title(rules.templates, name, locale) or name
        for stage, name in stage_templates(rules).items()
    }


def _people(session: Session, events: list[dict[str, Any]]) -> dict[str, str]:
    """The names of the people the events name, by user id (``user:<id>`` actors) and by
    e-mail (owner changes)."""
    ids = {e["actor"].partition(":")[2] for e in events if (e["actor"] or "").startswith("user:")}
    emails = {v for e in events if e["kind"] == "owner" for v in (e["from"], e["to"]) if v}
    wanted = [int(i) for i in ids if i.isdigit()]
    if not wanted and not emails:
        return {}
    rows = session.execute(
        select(User.id, User.email, User.name).where(User.id.in_(wanted) | User.email.in_(emails))
    )
    names: dict[str, str] = {}
    for uid, email, name in rows:
        names[str(uid)] = name or email or str(uid)
        if email:
            names[email] = names[str(uid)]
    return names


def timeline(
    session: Session, lead_id: int, detail: dict[str, Any], t: Any, rules: Any
) -> list[dict[str, Any]]:
    """Activities, score lines, history events and touches of one lead, newest first, in the
    words of ``t``'s language (statuses by the labels of ``rules``)."""
    labels = status_labels(rules, t.locale)
    items: list[dict[str, Any]] = []
    for a in detail["activities"][:300]:
        items.append(
            {
                "at": a["occurred_at"],
                "kind": "activity",
                "title": a["type"],
                "detail": payload_words(a["properties"], t.gettext),
                "source": a["source"],
            }
        )
    events = detail["events"][:300]
    names = _people(session, events)
    for e in events:
        items.append({**e, "kind": "event", "title": e["kind"]})
        if e["kind"] != "field":
            words = [event_value(e["kind"], e[k], t.gettext, labels, names) for k in ("from", "to")]
            items[-1].update({"from": words[0], "to": words[1]})
            items[-1]["reason"] = event_reason(e["reason"], t)
            items[-1]["actor"] = actor_words(e["actor"], t.gettext, names)
    touches = session.execute(
        select(Touch, User.name)
        .outerjoin(User, User.id == Touch.user_id)
        .where(Touch.lead_id == lead_id)
        .order_by(Touch.at.desc())
        .limit(300)
    )
    for touch, author in touches:
        items.append(
            {
                "at": touch.at,
                "kind": "touch",
                "title": f"{t.gettext(touch.channel)}: {t.gettext(touch.outcome)}",
                "template": template_title(rules.templates, touch.template, t.locale),
                "actor": author or "",
                "note": touch.note,
            }
        )
    for note, author in notes_of(session, lead_id):
        items.append({"at": note.at, "kind": "note", "title": "note", "actor": author})
        items[-1]["note"] = note.body
    items.extend(timeline_items(session, lead_id))
    for q in qualifications_of(session, lead_id)[:50]:
        answers = "; ".join(
            f"{name}: {value}" for name in ANSWERS if (value := getattr(q, name)) is not None
        )
        items.append({"at": q.at, "kind": "qualification", "title": "qualified", "note": answers})
    ledger = session.scalars(
        select(ScoreLedger)
        .where(ScoreLedger.lead_id == lead_id)
        .order_by(ScoreLedger.at.desc())
        .limit(300)
    )
    scoring = rules.document.scoring
    descriptions = {r.id: r.description for r in scoring.behavior + scoring.fit if r.description}
    for line in ledger:
        items.append(
            {"at": line.at, "kind": "score", "points": line.delta}
            | score_words(line.reason, descriptions, line.rule_id, t)
        )
    items.sort(key=lambda i: i["at"], reverse=True)
    return items
