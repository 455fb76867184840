"""The search box: finding leads by what a person types.

A lead is found by its e-mail, its name as displayed with or without the space
(小川 聡, 小川聡), its name in kana (katakana or hiragana, full or half width), its company
in any common form ((株), ㈱, （株）, 株式会社, half-width kana, full-width Latin) and its
phone in any format (03-1234-5678, 0312345678, +81 3 1234 5678, full-width digits).
Both sides are folded the same way (``fold``):
the stored side into ``lead_search_keys`` when a lead is written (``refresh_search_keys``), the
query when it is asked. A search is then a prefix range over one index, on SQLite and PostgreSQL
alike (the key column compares bytes), and what is typed is never a pattern: ``%`` and ``_`` are
the characters themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jaconv
from sqlalchemy import ColumnElement, and_, case, delete, false, func, or_, select
from sqlalchemy.orm import Session

from leadops.db import chunked, insert_plain
from leadops.matching import has_japanese
from leadops.models import Account, Lead, LeadSearchKey, User
from leadops.models.base import table_of
from leadops.normalize import nfkc, normalize_company

#: The longest key kept (and the longest query looked for).
KEY_LENGTH = 300
#: Above every character: ``key < prefix + HIGH`` is "starts with prefix".
HIGH = "\U0010ffff"
#: The kinds of key, in the order a match of each ranks.
KINDS = ("email", "name", "kana", "company", "phone")
#: The custom fields that hold a name in kana (SATORI's 苗字(ふりがな), フリガナ, セイ/メイ …).
_KANA_FIELD_RE = re.compile(r"ふりがな|フリガナ|ﾌﾘｶﾞﾅ|カナ|かな|kana|セイ|メイ", re.IGNORECASE)
_LAST_FIELD_RE = re.compile(r"苗字|姓|セイ|last", re.IGNORECASE)
_DROP_RE = re.compile(r"[\s・･]+")
_PHONE_RE = re.compile(r"^\+?[\d\s\-‐－()（）.]+$")
#: How many matching keys a search ranks at most (a one-letter query matches many).
RANKED_ROWS = 2_000


def fold(text: str) -> str:
    """The form both sides are compared in: NFKC (half-width kana to full, full-width Latin and
    digits to ASCII), case folded, hiragana as katakana, spaces and middle dots dropped."""
    return _DROP_RE.sub("", jaconv.hira2kata(nfkc(text).casefold()))[:KEY_LENGTH]


def company_form(text: str) -> str:
    """A company without its legal form ((株)スター電機, ｽﾀｰ電機㈱ → スター電機), folded."""
    return fold(normalize_company(text))


def phone_form(text: str) -> str | None:
    """A phone as national digits (+81 3 1234 5678, ０３－１２３４－５６７８ → 0312345678), or
    None when the text is not a phone number (or the start of one)."""
    plain = nfkc(text).strip()
    if not _PHONE_RE.match(plain):
        return None
    digits = re.sub(r"\D", "", plain)
    if len(digits) < 2:
        return None
    if plain.startswith("+81"):
        return "0" + digits[2:]
    return digits


def _stored_phone(phone_key: str | None, phone: str | None) -> str | None:
    if phone_key:
        number = phone_key.split(";", 1)[0]
        return "0" + number[3:] if number.startswith("+81") else number.lstrip("+")
    return phone_form(phone) if phone else None


def _kana(custom: Mapping[str, Any]) -> list[str]:
    """The kana of the name kept in custom fields: family name first."""
    found = [(k, v) for k, v in custom.items() if isinstance(v, str) and _KANA_FIELD_RE.search(k)]
    found.sort(key=lambda kv: 0 if _LAST_FIELD_RE.search(kv[0]) else 1)
    return [v for _, v in found if v.strip()]


def keys_of(lead: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The (kind, key) pairs a lead is found by, from its ``email``, ``last_name``,
    ``first_name``, their kana (``last_name_kana``, ``first_name_kana``, else the custom
    fields that hold it), ``company`` (else ``account``), ``phone``, ``phone_key`` and
    ``custom``."""
    keys: set[tuple[str, str]] = set()
    if lead.get("email"):
        keys.add(("email", fold(lead["email"])))
    last, first = lead.get("last_name") or "", lead.get("first_name") or ""
    for name in (last + first, first, last):
        if name.strip():
            keys.add(("name", fold(name)))
    if first.strip() and last.strip() and not has_japanese(last + first):
        keys.add(("name", fold(first + last)))  # Taro Suzuki as well as Suzuki Taro
    kana = [k for k in (lead.get("last_name_kana"), lead.get("first_name_kana")) if k]
    kana = kana or _kana(lead.get("custom") or {})
    for name in ("".join(kana), *kana):
        if fold(name):
            keys.add(("kana", fold(name)))
    for company in {lead.get("company"), lead.get("account")}:
        if company and company.strip():
            keys.update((("company", company_form(company)), ("company", fold(company))))
    phone = _stored_phone(lead.get("phone_key"), lead.get("phone"))
    if phone:
        keys.add(("phone", phone))
    return {(kind, key) for kind, key in keys if key}


def query_keys(query: str) -> list[str]:
    """The prefixes a query is looked for as: folded, as a company, as a phone."""
    keys = [fold(query), company_form(query) if query.strip() else ""]
    phone = phone_form(query)
    if phone:
        keys.append(phone)
    return sorted({k for k in keys if k})


def matching(query: str) -> ColumnElement[bool] | None:
    """The keys that start with what ``query`` asks for (None: it asks for nothing)."""
    keys = query_keys(query)
    if not keys:
        return None
    key = LeadSearchKey.key
    return or_(*(and_(key >= k, key < k + HIGH) for k in keys))


def matching_leads(query: str) -> Any:
    """The ids of the leads a query finds, as a subquery (the lead list's search filter)."""
    found = matching(query)
    return select(LeadSearchKey.lead_id).where(found if found is not None else false())


@dataclass(frozen=True)
class Hit:
    lead: Lead
    owner: str | None
    account: str | None
    #: What it was found by (e-mail, name, kana, company, phone), and whether all of it matched.
    kind: str
    exact: bool


def search_leads(
    session: Session, query: str, *, limit: int = 50, owner_id: int | None = None
) -> list[Hit]:
    """The live leads a query finds, best first: a whole key before a prefix, then by the kind
    matched (e-mail, name, kana, company, phone), then by score."""
    found = matching(query)
    if found is None:
        return []
    keys = query_keys(query)
    whole = case((LeadSearchKey.key.in_(keys), 0), else_=len(KINDS))
    kind = case({k: i for i, k in enumerate(KINDS)}, value=LeadSearchKey.kind, else_=0)
    rows = (
        select(LeadSearchKey.lead_id, (whole + kind).label("rank"))
        .where(found)
        .limit(RANKED_ROWS)
        .subquery()
    )
    ranked = (
        select(rows.c.lead_id, func.min(rows.c.rank).label("rank"))
        .group_by(rows.c.lead_id)
        .subquery()
    )
    stmt = (
        select(Lead, ranked.c.rank, User.name, Account.name)
        .join(ranked, ranked.c.lead_id == Lead.id)
        .outerjoin(User, User.id == Lead.owner_id)
        .outerjoin(Account, Account.id == Lead.account_id)
        .where(Lead.merged_into_id.is_(None))
        .order_by(ranked.c.rank, Lead.score.desc(), Lead.id.desc())
        .limit(limit)
    )
    if owner_id is not None:
        stmt = stmt.where(Lead.owner_id == owner_id)
    return [
        Hit(lead, owner_name, account, KINDS[rank % len(KINDS)], rank < len(KINDS))
        for lead, rank, owner_name, account in session.execute(stmt)
    ]


_LEAD_FIELDS = (
    Lead.id,
    Lead.email,
    Lead.last_name,
    Lead.first_name,
    Lead.last_name_kana,
    Lead.first_name_kana,
    Lead.company,
    Lead.phone,
    Lead.phone_key,
    Lead.custom,
    Lead.merged_into_id,
)


#: The columns of a ``lead_search_keys`` row.
KEY_COLUMNS = ("lead_id", "kind", "key")


def refresh_search_keys(session: Session, lead_ids: Iterable[int]) -> int:
    """Write the search keys of these leads again from what they hold now (a merged lead is
    found by none: the lead it went into is). Returns how many keys were written."""
    table = table_of(LeadSearchKey)
    written = 0
    for part in chunked(sorted(set(lead_ids))):
        session.execute(delete(table).where(table.c.lead_id.in_(part)))
        stmt = (
            select(*_LEAD_FIELDS, Account.name.label("account"))
            .outerjoin(Account, Account.id == Lead.account_id)
            .where(Lead.id.in_(part), Lead.merged_into_id.is_(None))
        )
        rows = key_rows(dict(r._mapping) for r in session.execute(stmt))
        insert_plain(
            session,
            "lead_search_keys",
            KEY_COLUMNS,
            [(r["lead_id"], r["kind"], r["key"]) for r in rows],
        )
        written += len(rows)
    return written


def key_rows(leads: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ``lead_search_keys`` rows of these leads (each with its ``id``)."""
    return [
        {"lead_id": lead["id"], "kind": kind, "key": key}
        for lead in leads
        for kind, key in sorted(keys_of(lead))
    ]
