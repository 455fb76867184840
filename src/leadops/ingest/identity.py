"""Who a lead is: the keys an input and a lead are matched on, the order they are tried in, and
which inputs of one batch are one lead.

``LeadIndex.find`` tries, in this order:

1. the e-mail (normalized);
2. the id in its source system (``crm_source``, ``external_id``);
3. the phone (its E.164 key, ``matching.normalize_phone``), among the leads whose e-mail, source id
   and name do not contradict the input: the one with the same name first, then the oldest. An
   input without a name whose phone several leads share is ambiguous: flagged, and the oldest
   taken only when nothing stronger found a lead;
4. the name with the company (``matching.name_key``), among the leads whose e-mail, source id and
   phone do not contradict the input: the oldest.

The first key that finds a lead decides. What a later key finds is merged into it when the two
cannot be told apart: a lead found by id (as always), a lead found by phone that nothing
contradicts, and leads known by nothing but the same name and company.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from leadops.matching import name_key, person_key
from leadops.models import Lead


class Identified(Protocol):
    """What identifies a lead or an input: a ``Lead`` or a ``LeadInput``."""

    @property
    def email(self) -> str | None: ...
    @property
    def crm_source(self) -> str | None: ...
    @property
    def crm_id(self) -> str | None: ...
    @property
    def phone_key(self) -> str | None: ...
    @property
    def first_name(self) -> str | None: ...
    @property
    def last_name(self) -> str | None: ...
    @property
    def company(self) -> str | None: ...


@dataclass(frozen=True)
class Keys:
    email: str | None = None
    crm: tuple[str, str] | None = None
    phone: str | None = None
    person: str | None = None
    name: str | None = None

    @classmethod
    def of(cls, who: Identified) -> Keys:
        crm = (who.crm_source, who.crm_id) if who.crm_source and who.crm_id else None
        return cls(
            email=who.email,
            crm=crm,
            phone=who.phone_key,
            person=person_key(who.last_name, who.first_name),
            name=name_key(who.last_name, who.first_name, who.company),
        )

    def tokens(self) -> Iterator[tuple[str, ...]]:
        """What makes two inputs of one batch one lead: the same e-mail, source id, phone with
        the same name (or both without one), or name with company."""
        if self.email:
            yield ("email", self.email)
        if self.crm:
            yield ("crm", *self.crm)
        if self.phone:
            yield ("phone", self.phone, self.person or "")
        if self.name:
            yield ("name", self.name)


def contradicts(a: Keys, b: Keys, *, phones: bool = False) -> bool:
    """Whether ``a`` and ``b`` cannot be one person: two e-mails, two ids in one source system,
    two names (and, with ``phones``, two phones)."""
    if a.email and b.email and a.email != b.email:
        return True
    if a.crm and b.crm and a.crm[0] == b.crm[0] and a.crm != b.crm:
        return True
    if a.person and b.person and a.person != b.person:
        return True
    return phones and bool(a.phone and b.phone and a.phone != b.phone)


@dataclass
class Found:
    """The lead an input is (None: a new one), the leads to merge into it, and why a match was
    uncertain."""

    lead: Lead | None
    merge: list[Lead] = field(default_factory=list)
    flags: list[tuple[str, str]] = field(default_factory=list)


_KIND_COLUMN = {"email": Lead.email, "phone": Lead.phone_key, "name": Lead.name_key}


def _age(lead: Lead) -> tuple[bool, int]:
    """Oldest first; leads of this batch (no id yet) after the stored ones, in their order."""
    return (lead.id is None, lead.id or 0)


def _current(lead: Lead, kind: str) -> Any:
    if kind == "crm":
        return (lead.crm_source, lead.crm_id)
    return getattr(lead, {"email": "email", "phone": "phone_key", "name": "name_key"}[kind])


class LeadIndex:
    """The leads one batch has seen, by each key it matches on. Each key is looked up in the
    database once (``preload`` asks for a whole batch at a time)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.found: dict[str, dict[Any, list[Lead]]] = {
            kind: {} for kind in ("email", "crm", "phone", "name")
        }
        self.looked: dict[str, set[Any]] = {kind: set() for kind in self.found}

    def preload(self, keys: Iterable[Keys]) -> None:
        items = list(keys)
        self._load("email", {k.email for k in items if k.email})
        self._load("crm", {k.crm for k in items if k.crm})
        self._load("phone", {k.phone for k in items if k.phone})
        self._load("name", {k.name for k in items if k.name})

    def _load(self, kind: str, wanted: set[Any]) -> None:
        missing = sorted(wanted - self.looked[kind])
        self.looked[kind].update(missing)
        size = 300 if kind == "crm" else 500
        for start in range(0, len(missing), size):
            part = missing[start : start + size]
            if kind == "crm":
                where = tuple_(Lead.crm_source, Lead.crm_id).in_(part)
            else:
                where = _KIND_COLUMN[kind].in_(part)
            # Sorted here rather than by the database: ORDER BY id tempts a planner whose
            # statistics lag behind a growing table (an import's own new leads) into walking the
            # whole primary key instead of the key's index.
            stmt = select(Lead).where(where, Lead.merged_into_id.is_(None))
            for lead in sorted(self.session.scalars(stmt), key=lambda lead: lead.id):
                self.remember(lead)

    def remember(self, lead: Lead) -> None:
        """Index a lead under the keys it has now (a new one, or one whose keys grew)."""
        for kind, leads in self.found.items():
            key = _current(lead, kind)
            if key is None or (kind == "crm" and None in key):
                continue
            known = leads.setdefault(key, [])
            if lead not in known:
                known.append(lead)

    def _leads(self, kind: str, key: Any) -> list[Lead]:
        """The live leads that have this key now, oldest first."""
        if key is None:
            return []
        self._load(kind, {key})
        leads = [
            lead
            for lead in self.found[kind].get(key, [])
            if lead.merged_into_id is None and _current(lead, kind) == key
        ]
        return sorted(leads, key=_age)

    def find(self, keys: Keys) -> Found:
        by_email = next(iter(self._leads("email", keys.email)), None)
        by_crm = next(iter(self._leads("crm", keys.crm)), None)
        found = Found(by_email or by_crm)
        if by_email is not None and by_crm is not None and by_crm is not by_email:
            found.merge.append(by_crm)
        self._by_phone(keys, found)
        self._by_name(keys, found)
        return found

    def _candidates(self, kind: str, keys: Keys, found: Found, *, phones: bool) -> list[Lead]:
        taken = [lead for lead in (found.lead, *found.merge) if lead is not None]
        against = [keys] + ([Keys.of(found.lead)] if found.lead is not None else [])
        return [
            lead
            for lead in self._leads(kind, getattr(keys, kind))
            if all(lead is not other for other in taken)
            and not any(contradicts(k, Keys.of(lead), phones=phones) for k in against)
        ]

    def _by_phone(self, keys: Keys, found: Found) -> None:
        candidates = self._candidates("phone", keys, found, phones=False)
        if not candidates:
            return
        # The same name first; a stable sort keeps the oldest first within each.
        candidates.sort(key=lambda lead: Keys.of(lead).person != keys.person)
        best = candidates[0]
        exact = keys.person is not None and Keys.of(best).person == keys.person
        if len(candidates) > 1 and not exact:
            ids = ", ".join(str(lead.id) for lead in candidates if lead.id is not None)
            message = (
                f"the phone {keys.phone} is the phone of several leads ({ids or 'new ones'}), none"
                " with this row's name"
            )
            if found.lead is None:
                found.lead = best
                message += f"; the oldest ({best.id or 'new'}) was taken"
            found.flags.append(("ambiguous_phone", message))
        elif found.lead is None:
            found.lead = best
        else:
            found.merge.append(best)

    def _by_name(self, keys: Keys, found: Found) -> None:
        candidates = self._candidates("name", keys, found, phones=True)
        if not candidates:
            return
        if found.lead is None:
            found.lead, candidates = candidates[0], candidates[1:]
        # Leads known by nothing but this name and company cannot be told apart from it.
        found.merge += [lead for lead in candidates if _by_name_alone(lead)]


def _by_name_alone(lead: Lead) -> bool:
    return not (lead.email or lead.crm_id or lead.phone_key)


def same_lead_groups(keys: Sequence[Keys]) -> list[list[int]]:
    """The inputs of one batch (by index) that are one lead, for each lead given more than once:
    inputs sharing an e-mail or a source id, or a phone with the same name (or both without one)
    or a name with company where nothing else of theirs contradicts."""
    groups: list[list[int]] = []
    merged: list[Keys] = []
    owner: dict[tuple[str, ...], int] = {}
    for index, item in enumerate(keys):
        target = None
        for token in item.tokens():
            group = owner.get(token)
            if group is None:
                continue
            if token[0] in ("email", "crm") or not contradicts(
                item, merged[group], phones=token[0] == "name"
            ):
                target = group
                break
        if target is None:
            target = len(groups)
            groups.append([])
            merged.append(item)
        groups[target].append(index)
        merged[target] = _combined(merged[target], item)
        for token in item.tokens():
            owner.setdefault(token, target)
    return [group for group in groups if len(group) > 1]


def _combined(known: Keys, new: Keys) -> Keys:
    """What identifies a lead given by two inputs: the newer keys, the older where it has none."""
    return Keys(
        email=new.email or known.email,
        crm=new.crm or known.crm,
        phone=new.phone or known.phone,
        person=new.person or known.person,
        name=new.name or known.name,
    )
