"""Correcting a lead's details by hand (the lead page's form, ``PATCH /api/v1/leads/{ref}``).

Each field is read as an import reads it — a phone by ``phonenumbers``, a prefecture by the
prefectures table, an e-mail normalized (and unique: a clash names the lead that has it) — and the
reading of a name (フリガナ) is kept in full-width katakana (``jaconv``). Unlike an import, a value
that does not read is refused, named, rather than kept and flagged: the person typing it is there
to fix it. Every change is one ``field`` event through the door: who, when, which field, from → to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jaconv
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.auth import LeadScope
from leadops.errors import FieldError, Forbidden, NotFound, ValidationFailed
from leadops.ingest.lead_input import IDENTITY_HINT
from leadops.ingest.prefectures import find_prefecture, region_of
from leadops.lifecycle.door import Actor, Door
from leadops.matching import name_key, normalize_phone
from leadops.models import Lead, User, column_length
from leadops.normalize import clean_text, normalize_email, text_problem
from leadops.pipeline import process
from leadops.rules.loader import CompiledRules
from leadops.search import refresh_search_keys

#: The plain text details, with the longest text each holds.
TEXT_FIELDS = ("last_name", "first_name", "company", "department", "title")
KANA_FIELDS = ("last_name_kana", "first_name_kana")
#: What the form edits, in its order.
FIELDS = (
    "last_name",
    "first_name",
    "last_name_kana",
    "first_name_kana",
    "company",
    "department",
    "title",
    "phone",
    "email",
    "prefecture",
)
LENGTHS = {name: column_length(getattr(Lead, name)) for name in FIELDS if name != "prefecture"}
#: The longest custom field name and value typed on the page.
CUSTOM_NAME_LENGTH = 100
CUSTOM_VALUE_LENGTH = 1000
CUSTOM_FIELDS_MOST = 50
CUSTOM = "custom."
#: What may stand in a reading besides katakana: spaces, the middle dot and the long vowel mark.
_KANA_EXTRA = frozenset(" \u3000・ー")

#: Why a value is refused, by code: the English of the API; the web app translates each code.
MESSAGES = {
    "unstorable": "%(problem)s",
    "too_long": "is %(length)s characters long; the most is %(most)s",
    "kana": "write the reading in katakana or hiragana (ヤマダ, やまだ); %(value)s is not",
    "phone": "%(value)s is not a phone number (for example 03-1234-5678 or +1 415 555 0100)",
    "email": "%(value)s is not an e-mail address",
    "email_taken": "%(value)s is already the e-mail of lead %(id)s (%(name)s)",
    "prefecture": "%(value)s is not a prefecture of Japan (for example 東京都, 大阪, 13)",
    "identity": "the lead would have nothing that identifies it: " + IDENTITY_HINT,
    "unknown": "unknown field; the fields are %(fields)s",
    "custom_name": "give the custom field a name",
    "custom_many": "at most %(most)s custom fields",
}


@dataclass(frozen=True)
class Problem:
    """One refused value: the field, why (a code of MESSAGES) and what the message names."""

    field: str
    code: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def message(self) -> str:
        return MESSAGES[self.code] % dict(self.params)


class EditRefused(ValidationFailed):
    """The values refused, each with its field; ``problems`` carry the codes to translate."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__([FieldError(p.field, p.message) for p in problems])


@dataclass(frozen=True)
class Change:
    field: str
    old: str | None
    new: str | None


@dataclass
class EditResult:
    lead_id: int
    changes: list[Change] = dataclasses.field(default_factory=list)


@dataclass
class _Read:
    """The new values read from the form: shown (for the event) and the columns they set."""

    shown: dict[str, str | None] = dataclasses.field(default_factory=dict)
    columns: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    problems: list[Problem] = dataclasses.field(default_factory=list)


def read_kana(text: str) -> str:
    """A reading in full-width katakana: hiragana and half-width katakana converted (やまだ,
    ﾔﾏﾀﾞ → ヤマダ). Raises ValueError when it holds anything else."""
    kana = jaconv.hira2kata(jaconv.h2z(text, kana=True, ascii=False, digit=False))
    kana = kana.replace("\u3000", " ")
    if any(not ("\u30a0" <= c <= "\u30ff" or c in _KANA_EXTRA) for c in kana):
        raise ValueError(text)
    return " ".join(kana.split())


def _read_one(name: str, text: str, out: _Read) -> None:
    """One field's new text (blank: none), read and checked."""
    if name == "phone":
        try:
            key = normalize_phone(text) if text else None
        except ValueError:
            out.problems.append(Problem(name, "phone", {"value": text}))
            return
        out.shown[name] = text or None
        out.columns[name] = {"phone": text or None, "phone_key": key}
    elif name == "email":
        try:
            email = normalize_email(text) if text else None
        except ValueError:
            out.problems.append(Problem(name, "email", {"value": text}))
            return
        out.shown[name] = email
        out.columns[name] = {"email": email}
    elif name == "prefecture":
        found = find_prefecture(text) if text else None
        if text and found is None:
            out.problems.append(Problem(name, "prefecture", {"value": text}))
            return
        prefecture = found.name if found else None
        out.shown[name] = prefecture
        out.columns[name] = {"prefecture": prefecture, "region": region_of(prefecture)}
    elif name in KANA_FIELDS:
        try:
            kana = read_kana(text) if text else None
        except ValueError:
            out.problems.append(Problem(name, "kana", {"value": text}))
            return
        out.shown[name] = kana
        out.columns[name] = {name: kana}
    else:
        out.shown[name] = text or None
        out.columns[name] = {name: text or None}


def read_fields(given: Mapping[str, str | None], custom: Mapping[str, str | None]) -> _Read:
    """The given fields (None: not given, blank: none) and custom fields (blank: removed), read
    and checked; a pure function of the text."""
    out = _Read()
    for name, raw in given.items():
        if raw is None:
            continue
        if name not in FIELDS:
            out.problems.append(Problem(name, "unknown", {"fields": ", ".join(FIELDS)}))
            continue
        text = clean_text(raw) or ""
        problem = text_problem(text)
        if problem is not None:
            out.problems.append(Problem(name, "unstorable", {"problem": problem}))
            continue
        most = LENGTHS.get(name)
        if most is not None and len(text) > most:
            out.problems.append(Problem(name, "too_long", {"length": len(text), "most": most}))
            continue
        _read_one(name, text, out)
    if len(custom) > CUSTOM_FIELDS_MOST:
        out.problems.append(Problem("custom", "custom_many", {"most": CUSTOM_FIELDS_MOST}))
        return out
    for key, raw in custom.items():
        path = CUSTOM + key
        name, text = (clean_text(key) or ""), (clean_text(raw) or "")
        if not name:
            out.problems.append(Problem("custom", "custom_name"))
            continue
        for value, most in ((name, CUSTOM_NAME_LENGTH), (text, CUSTOM_VALUE_LENGTH)):
            problem = text_problem(value)
            if problem is not None:
                out.problems.append(Problem(path, "unstorable", {"problem": problem}))
            elif len(value) > most:
                out.problems.append(Problem(path, "too_long", {"length": len(value), "most": most}))
        out.shown[CUSTOM + name] = text or None
    return out


def _as_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _current(lead: Lead) -> dict[str, str | None]:
    shown = {name: _as_text(getattr(lead, name)) for name in FIELDS}
    for key, value in (lead.custom or {}).items():
        shown[CUSTOM + str(key)] = _as_text(value)
    return shown


def _who(lead: Lead) -> str:
    name = " ".join(p for p in (lead.last_name, lead.first_name) if p)
    return ", ".join(p for p in (name, lead.company or "") if p) or lead.email or f"#{lead.id}"


def _email_clash(session: Session, lead: Lead, email: str | None) -> Problem | None:
    if email is None or email == lead.email:
        return None
    other = session.scalar(select(Lead).where(Lead.email == email, Lead.id != lead.id))
    if other is None:
        return None
    return Problem("email", "email_taken", {"value": email, "id": other.id, "name": _who(other)})


def _identified(lead: Lead, after: Mapping[str, dict[str, Any]]) -> bool:
    """Whether the lead, with these new columns, still has something that says who it is."""
    value = {
        c: getattr(lead, c)
        for c in ("email", "phone_key", "crm_id", "last_name", "first_name", "company")
    }
    for columns in after.values():
        value.update({c: v for c, v in columns.items() if c in value})
    named = value["last_name"] or value["first_name"]
    return bool(
        value["email"] or value["crm_id"] or value["phone_key"] or (named and value["company"])
    )


def edit_lead(
    session: Session,
    rules: CompiledRules,
    lead_id: int,
    given: Mapping[str, str | None],
    *,
    custom: Mapping[str, str | None] | None = None,
    user: User,
    now: datetime,
) -> EditResult:
    """Correct the lead's details as ``user`` (within their ``LeadScope``): every value that
    differs from what the lead holds becomes one ``field`` event; sending the same values again
    changes nothing. Fit scoring and validity follow the new details; the lead is not rerouted."""
    door = Door(session, rules, now, Actor.user(user.id))
    row = door.lock([lead_id]).get(lead_id)
    lead = session.get(Lead, lead_id)
    if row is None or lead is None or lead.merged_into_id is not None:
        raise NotFound(f"no lead {lead_id}")
    scope = LeadScope(session, user)
    if not scope.may_edit(lead.owner_id, lead.team_id):
        raise Forbidden(
            f"{user.email} may not edit lead {lead.id} ({_who(lead)}): {scope.refusal()}"
        )
    read = read_fields(given, custom or {})
    current = _current(lead)
    changed = [n for n, v in read.shown.items() if current.get(n) != v]
    columns = {n: read.columns[n] for n in changed if n in read.columns}
    problems = list(read.problems)
    clash = _email_clash(session, lead, read.shown.get("email")) if "email" in changed else None
    if clash is not None:
        problems.append(clash)
    if not problems and not _identified(lead, columns):
        problems.append(Problem(next(iter(columns), "email"), "identity"))
    if problems:
        raise EditRefused(problems)
    result = EditResult(lead.id)
    custom_now = dict(lead.custom or {})
    for name in changed:
        old, new = current.get(name), read.shown[name]
        result.changes.append(Change(name, old, new))
        if name.startswith(CUSTOM):
            key = name.removeprefix(CUSTOM)
            custom_now = {k: v for k, v in custom_now.items() if k != key}
            custom_now.update({key: new} if new is not None else {})
            door.edit(lead.id, name, old, new, custom=custom_now)
        else:
            door.edit(lead.id, name, old, new, **columns[name])
    if not result.changes:
        return result
    names = {**{c: getattr(lead, c) for c in ("last_name", "first_name", "company")}}
    for name in ("last_name", "first_name", "company"):
        names.update(columns.get(name, {}))
    door.set_columns(
        lead.id, name_key=name_key(names["last_name"], names["first_name"], names["company"])
    )
    door.flush()
    refresh_search_keys(session, [lead.id])
    process(session, rules, now, [lead.id], refit=True, actor=Actor.user(user.id), routing=False)
    return result
