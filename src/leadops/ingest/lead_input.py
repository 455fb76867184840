"""A lead as it comes in (an API item, a file row), checked field by field.

A lead needs something that says who it is: an e-mail, a phone, an id in its source system, or a
name with a company (phone-only lists are normal in Japan). A value that can be kept but looks
wrong (a region outside Japan, a phone that is not one) is kept and flagged, never a reason to lose
the lead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from leadops.errors import FieldError
from leadops.ingest.context import FieldReader, IngestContext
from leadops.ingest.prefectures import find_prefecture, prefecture_in_address
from leadops.matching import has_japanese, normalize_phone
from leadops.models import Account, Lead, User, column_length
from leadops.normalize import (
    clean_text,
    json_problem,
    normalize_email,
    parse_int,
    scrub_text,
    text_problem,
)

TEXT_FIELDS = ("first_name", "last_name", "company", "title", "department", "phone", "source")


@dataclass
class LeadInput:
    """A validated lead as it came in. None means "not given" (keep what is there)."""

    email: str | None = None
    crm_source: str | None = None
    crm_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    domain: str | None = None
    title: str | None = None
    department: str | None = None
    #: As given, for display; ``phone_key`` is what it matches on (None: not a phone number).
    phone: str | None = None
    phone_key: str | None = None
    address: str | None = None
    prefecture: str | None = None
    #: A region that is no prefecture (California, Bavaria), kept as the lead's region.
    region: str | None = None
    source: str | None = None
    created_at: datetime | None = None
    employees: int | None = None
    industry: str | None = None
    owner: str | None = None
    status: str | None = None
    status_reason: str | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    #: What was kept but looks wrong: (flag, message), reported with the input's outcome.
    flags: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.phone and self.phone_key is None:
            try:
                self.phone_key = normalize_phone(self.phone)
            except ValueError:
                self.phone_key = None

    def stateless(self) -> LeadInput:
        """This input without what would move the lead's state: its status and owner."""
        out = replace(self, owner=None, custom=dict(self.custom), flags=list(self.flags))
        out.status = None
        out.status_reason = None
        return out


#: The longest text each lead field may hold: the size of the column it ends up in (an owner is
#: looked up by e-mail, reference or name, a prefecture by name or code).
LEAD_LENGTHS = {
    "email": column_length(Lead.email),
    "external_id": column_length(Lead.crm_id),
    "crm_id": column_length(Lead.crm_id),
    "crm_source": column_length(Lead.crm_source),
    **{name: column_length(getattr(Lead, name)) for name in TEXT_FIELDS},
    "full_name": column_length(Lead.last_name) + 1 + column_length(Lead.first_name),
    "address": column_length(Lead.address),
    "domain": column_length(Account.domain),
    "industry": column_length(Account.industry),
    "owner": column_length(User.email),
    "prefecture": column_length(Lead.address),
    "status": column_length(Lead.status),
    "status_reason": column_length(Lead.status_reason),
    "created_at": 100,
    "employees": 40,
}
#: The longest region kept as given (California, Bavaria).
REGION_LENGTH = column_length(Lead.region)
#: The most employees a company may have (the largest employers have a few million).
MAX_EMPLOYEES = 10_000_000
KNOWN_FIELDS = frozenset(
    {f.name for f in dataclasses.fields(LeadInput)} - {"phone_key", "region", "flags"}
    | {"external_id", "full_name", "campaign"}
)
IDENTITY_HINT = "a lead needs an e-mail, a phone, an external_id, or a name with a company"


def validate_lead(
    fields: Mapping[str, Any],
    ctx: IngestContext,
    *,
    custom: Mapping[str, Any] | None = None,
    crm_source: str | None = None,
    prefix: str = "",
) -> tuple[LeadInput | None, list[FieldError]]:
    """Check one lead's fields. Errors carry the path of the field (``prefix`` + name).

    A blank field is not given: an empty ``crm_source`` is the same as none.
    """
    bad = _unstorable(fields, custom)
    reader = FieldReader({k: v for k, v in fields.items() if k not in bad}, prefix)
    fields = reader.fields
    for name, problem in bad.items():
        reader.error(scrub_text(name), problem)
    out = LeadInput(crm_source=clean_text(crm_source), custom=dict(custom or {}))
    for name in fields:
        if name not in KNOWN_FIELDS:
            shown = sorted(KNOWN_FIELDS - {"custom", "crm_id", "crm_source"})
            reader.error(scrub_text(name), f"unknown field; lead fields are {shown}")
    out.email = reader.read("email", lambda v: normalize_email(str(v)))
    out.crm_id = clean_text(fields.get("external_id") or fields.get("crm_id"))
    if out.crm_id is not None and out.crm_source is None:
        out.crm_source = clean_text(fields.get("crm_source")) or "import"
    for name in TEXT_FIELDS:
        setattr(out, name, clean_text(fields.get(name)))
    _read_full_name(reader, out)
    _read_phone(out)
    _read_place(fields, out)
    _read_company_and_state(reader, ctx, out)
    _check_identity(reader, out)
    extra = fields.get("custom")
    if extra is not None:
        if isinstance(extra, dict):
            out.custom.update(extra)
        else:
            reader.error("custom", "expected an object of custom fields")
    return (None if reader.errors else out), reader.errors


def _read_full_name(reader: FieldReader, out: LeadInput) -> None:
    full_name = clean_text(reader.fields.get("full_name"))
    if not full_name or out.first_name or out.last_name:
        return
    parts = full_name.replace("\u3000", " ").split(None, 1)
    out.last_name, out.first_name = (parts[0], parts[1]) if len(parts) == 2 else (parts[0], None)
    for name in ("last_name", "first_name"):
        too_long = text_problem(getattr(out, name) or "", LEAD_LENGTHS[name])
        if too_long is not None:
            reader.error("full_name", f"its {name.replace('_', ' ')} {too_long}")


def _read_phone(out: LeadInput) -> None:
    """The phone is kept as given; its key is what it matches on. One that is not a phone number
    is kept and flagged, and says nothing about who the lead is."""
    if out.phone is None:
        return
    try:
        out.phone_key = normalize_phone(out.phone)
    except ValueError as exc:
        out.flags.append(("invalid_phone", f"{exc}; kept as given, not matched on"))


def _read_place(fields: Mapping[str, Any], out: LeadInput) -> None:
    """The prefecture from its column (a name, a code or a whole address), else from the address.
    A region that is no prefecture is kept as the lead's region and flagged; a prefecture column
    longer than a region holds an address, kept as the lead's address when it has none."""
    out.address = clean_text(fields.get("address"))
    raw = clean_text(fields.get("prefecture"))
    if raw is not None and len(raw) > REGION_LENGTH and out.address is None:
        out.address, raw = raw, None
    if raw is not None:
        found = find_prefecture(raw)
        if found is not None:
            out.prefecture = found.name
        else:
            _keep_region(raw, out)
    if out.address is not None and out.prefecture is None:
        in_address = prefecture_in_address(out.address)
        if in_address is not None:
            out.prefecture = in_address.name
        elif out.region is None:
            message = "no prefecture found in the address; the address is kept as given"
            out.flags.append(("no_prefecture", message))


def _keep_region(raw: str, out: LeadInput) -> None:
    flag, why = (
        ("unknown_prefecture", "is no prefecture")
        if has_japanese(raw)
        else ("region_outside_japan", "is outside Japan")
    )
    if len(raw) <= REGION_LENGTH:
        out.region = raw
        out.flags.append((flag, f"{raw!r} {why}; kept as the lead's region"))
    else:
        out.custom.setdefault("prefecture", raw)
        out.flags.append((flag, f"{raw!r} {why}; kept as the custom field 'prefecture'"))


def _read_company_and_state(reader: FieldReader, ctx: IngestContext, out: LeadInput) -> None:
    fields = reader.fields
    out.domain = clean_text(fields.get("domain"))
    out.industry = clean_text(fields.get("industry"))
    out.owner = clean_text(fields.get("owner"))
    out.employees = reader.read("employees", lambda v: parse_int(v, most=MAX_EMPLOYEES))
    if out.employees is not None and out.employees < 0:
        reader.error("employees", "must not be negative")
    out.created_at = reader.read("created_at", ctx.parse_time)
    status = clean_text(fields.get("status"))
    if status is not None:
        statuses = ctx.rules().statuses
        if status not in statuses:
            reader.error("status", f"unknown status {status!r}; statuses are {statuses}")
        else:
            out.status = status
    out.status_reason = clean_text(fields.get("status_reason"))


def _check_identity(reader: FieldReader, out: LeadInput) -> None:
    """Refuse a lead nothing identifies, saying what it has and what would do."""
    named = bool(out.first_name or out.last_name)
    if out.email or out.crm_id or out.phone_key or (named and out.company):
        return
    if reader.failed("email"):
        return  # the e-mail's own error says it
    if out.phone is not None:
        has = f"its phone {out.phone!r} is not a phone number"
    elif named:
        has = "it has a name but no company"
    elif out.company:
        has = "it has a company but no one's name"
    else:
        has = "it has none of these"
    reader.error("email", f"missing: {IDENTITY_HINT}; {has}")


def _unstorable(fields: Mapping[str, Any], custom: Mapping[str, Any] | None) -> dict[str, str]:
    """The fields that cannot be stored as they are, and why: a NUL or a lone surrogate anywhere,
    or a text longer than its column (blanks around it do not count)."""
    bad = {}
    for name, value in fields.items():
        problem: str | None
        if text_problem(name) is not None:
            problem = f"the field's name {text_problem(name)}"
        elif isinstance(value, str):
            problem = text_problem(value.strip(), LEAD_LENGTHS.get(name))
        else:
            found = json_problem(value)
            problem = None if found is None else (f"at {found[0]}: " if found[0] else "") + found[1]
        if problem is not None:
            bad[name] = problem
    found = json_problem(dict(custom or {}))
    if found is not None:
        bad["custom"] = f"at {found[0]}: {found[1]}"
    return bad


#: Fields that go together: a status with its reason, a phone with its key, a place.
_TOGETHER = (("status", "status_reason"), ("phone", "phone_key"), ("prefecture", "region"))


def fold(items: list[LeadInput]) -> LeadInput:
    """Inputs of one lead in one batch as one: each field from the last input that gives it, the
    earliest creation time, custom fields merged in order; the flags are the last input's own."""
    last = items[-1]
    out = replace(last, custom={}, flags=list(last.flags))
    grouped = {name for pair in _TOGETHER for name in pair}
    for item in items:
        for f in dataclasses.fields(LeadInput):
            value = getattr(item, f.name)
            if f.name not in grouped | {"custom", "flags", "created_at"} and value is not None:
                setattr(out, f.name, value)
        for pair in _TOGETHER:
            if any(getattr(item, name) is not None for name in pair):
                for name in pair:
                    setattr(out, name, getattr(item, name))
        out.custom.update(item.custom)
    times = [i.created_at for i in items if i.created_at is not None]
    out.created_at = min(times) if times else None
    return out
