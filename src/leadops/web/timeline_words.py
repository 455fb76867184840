"""How the lead timeline says what happened: the codes of events, actors, activity payloads
and touches as words of the reader's language (pure: no session, no request)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from leadops.web.render import N_

#: Event kinds whose values are identifiers the vocabulary translates.
WORD_KINDS = {"touch_stage", "lifecycle_stage", "level", "temperature", "validity"}
#: Actors that are not a person.
ACTOR_WORDS = {"rule": N_("Rule"), "system": N_("System"), "import": N_("Import"), "api": "API"}
#: Activity payload keys, as words; a key not here is technical and is not shown.
PAYLOAD_KEYS = {
    "url": N_("Page"),
    "email_id": N_("Mailing"),
    "form": N_("Form"),
    "title": N_("Title"),
    "asset": N_("Content"),
    "webinar": N_("Webinar"),
    "campaign": N_("Campaign"),
    "answer": N_("Answer"),
    "question": N_("Question"),
}

Gettext = Callable[[str], str]


def event_value(
    kind: str, value: Any, gettext: Gettext, labels: Mapping[str, str], names: Mapping[str, str]
) -> str:
    """One side of an event line (``from`` or ``to``) as words: statuses by their label, stages
    and levels through the vocabulary, owners by the person's name; ∅ when empty."""
    if value is None or value == "":
        return "∅"
    text = str(value)
    if kind in ("status", "created"):
        return labels.get(text, gettext(text))
    if kind in WORD_KINDS:
        return gettext(text)
    if kind == "owner":
        return names.get(text, text)
    return text


def actor_words(actor: str | None, gettext: Gettext, names: Mapping[str, str]) -> str:
    """Who made a change: the user's name for ``user:<id>``, else a word for a rule, the
    system, an import or the API."""
    if not actor:
        return ""
    kind, _, ref = actor.partition(":")
    if kind == "user":
        return names.get(ref, gettext("User"))
    if kind in ACTOR_WORDS:
        return gettext(ACTOR_WORDS[kind])
    return actor


def payload_words(payload: Mapping[str, Any] | None, gettext: Gettext) -> str:
    """An activity's properties as ``key: value`` pairs, keys as words; technical keys are
    left out."""
    pairs = [
        f"{gettext(PAYLOAD_KEYS[key])}: {value}"
        for key, value in (payload or {}).items()
        if key in PAYLOAD_KEYS
        and value not in (None, "", [], {})
        and not isinstance(value, (dict, list))
    ]
    return "、".join(pairs) if pairs else ""


def template_title(templates: Mapping[str, Any], template: str | None, locale: str) -> str | None:
    """A template by its playbook's line (``label``) in ``locale``, else its name."""
    if not template:
        return None
    playbook = templates.get(template)
    label = getattr(playbook, "label", None)
    if label is None:
        return template
    return str(label.ja if locale == "ja" else label.en)
