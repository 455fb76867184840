"""Column mappings: how a file's columns become leadops fields.

Presets (``leadops.ingest.presets``) read the exports of Salesforce, HubSpot, Marketo, Sansan, Eight
and SATORI and the usual Japanese lists; a YAML document describes anything else: the CLI reads it
from a file its user names, the web app from an upload (``mapping_from_text``), never from a path.
Columns no mapping names are kept as custom fields / properties, never lost.

A mapping is resolved once per file against its header (``Mapping.plan``): a column named exactly
is chosen before one that differs only in case or width, repeated headers are told apart by their
count (``Create Date (2)``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from leadops.ingest.mappings.presets import DEFAULTS, PRESETS, Preset
from leadops.ingest.readers import normalize_header

KINDS = ("leads", "events", "deals", "campaign-members")

FIELDS: dict[str, tuple[str, ...]] = {
    "leads": (
        "email",
        "external_id",
        "first_name",
        "last_name",
        "full_name",
        "company",
        "domain",
        "title",
        "department",
        "phone",
        "prefecture",
        "address",
        "source",
        "campaign",
        "created_at",
        "employees",
        "industry",
        "owner",
        "status",
        "status_reason",
        "lifecycle_stage",
    ),
    "events": (
        "email",
        "lead_external_id",
        "type",
        "occurred_at",
        "source",
        "external_id",
        "campaign",
        "channel",
        "properties",
    ),
    "deals": (
        "external_id",
        "lead_email",
        "lead_external_id",
        "account",
        "name",
        "owner",
        "sdr",
        "stage",
        "amount",
        "created_at",
        "closed_at",
        "lost_reason",
    ),
    "campaign-members": (
        "campaign",
        "campaign_type",
        "email",
        "lead_external_id",
        "status",
        "responded_at",
        "cost",
    ),
}
#: The fields of each kind that hold dates (read by column: see ``leadops.ingest.dates``).
DATE_FIELDS: dict[str, tuple[str, ...]] = {
    "leads": ("created_at",),
    "events": ("occurred_at",),
    "deals": ("created_at", "closed_at"),
    "campaign-members": ("responded_at",),
}
#: A value translated by ``values:`` keeps the source's own word as its reason, when the row gives
#: none (recycled and disqualified_* need one).
REASON_OF = {"status": "status_reason"}
#: Cell values that mean "empty" unless a mapping says otherwise (``empty:``), ignoring case.
EMPTY = ("null", "(blank)", "-")


class MappingError(ValueError):
    """What is wrong with a mapping: the key it is about (``columns.emali``), what, the line of the
    YAML text, and ``source``, the name of that text (a file given to the CLI, an upload's name)."""

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        line: int | None = None,
        source: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.key, self.line, self.source = message, key, line, source

    def __str__(self) -> str:
        text = ": ".join(part for part in (self.source, self.key, self.message) if part)
        return f"{text}, line {self.line}" if self.line else text


@dataclass(frozen=True)
class Plan:
    """A mapping resolved against one file's columns: the column of each field and custom field."""

    fields: dict[str, str]
    custom: dict[str, str]

    @property
    def used(self) -> set[str]:
        return {*self.fields.values(), *self.custom.values()}

    def column_of(self, name: str) -> str | None:
        return self.fields.get(name)


class _Columns:
    """A file's columns, looked up by a header as a mapping names it: exactly (after NFKC and
    trimming) first, else the first one in the file's order that differs only in case."""

    def __init__(self, columns: Iterable[Any]) -> None:
        self.exact: dict[str, str] = {}
        self.folded: dict[str, str] = {}
        for column in columns:
            name = normalize_header(str(column))
            self.exact.setdefault(name, str(column))
            self.folded.setdefault(name.casefold(), str(column))

    def find(self, header: str) -> str | None:
        name = normalize_header(header)
        return self.exact.get(name) or self.folded.get(name.casefold())


@dataclass
class Mapping:
    """How one file's columns map onto one kind of record."""

    name: str
    kind: str
    columns: dict[str, list[str]] = field(default_factory=dict)
    custom: dict[str, list[str]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    source_system: str | None = None
    date_order: str | None = None
    create_users: bool = False
    empty: tuple[str, ...] = EMPTY
    #: A field a preset names is also read from a column named like the field itself.
    name_fallback: bool = False
    #: Reads files of no particular system (the default, the Japanese lists): see ``recognise``.
    general: bool = False

    def candidates(self, name: str, declared_only: bool = False) -> list[str]:
        """The headers that may hold a field, in the order they are tried."""
        named = self.columns.get(name)
        if declared_only:
            return list(named or [])
        if named is None:
            return [name]
        return [*named, name] if self.name_fallback else list(named)

    def plan(self, columns: Iterable[Any], *, declared_only: bool = False) -> Plan:
        """Which column feeds each field; ``declared_only`` leaves out the columns found only by
        a field's own name (what recognition counts as a preset reading a file)."""
        found = _Columns(columns)
        fields: dict[str, str] = {}
        for name in FIELDS[self.kind]:
            for candidate in self.candidates(name, declared_only):
                column = found.find(candidate)
                if column is not None:
                    fields[name] = column
                    break
        custom: dict[str, str] = {}
        for custom_name, headers in self.custom.items():
            for header in headers:
                column = found.find(header)
                if column is not None:
                    custom[custom_name] = column
                    break
        return Plan(fields, custom)

    @cached_property
    def _empty(self) -> frozenset[str]:
        return frozenset(e.strip().casefold() for e in self.empty)

    @cached_property
    def _tables(self) -> dict[str, dict[str, Any]]:
        return {
            name: {str(k).strip().casefold(): v for k, v in table.items()}
            for name, table in self.values.items()
        }

    def blank(self, value: Any) -> Any:
        """None for a blank cell or one of the empty literals (``null``, ``(blank)``, ``-``)."""
        if isinstance(value, str):
            text = value.strip()
            if not text or text.casefold() in self._empty:
                return None
        return value

    def apply(
        self, data: dict[str, Any], plan: Plan | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(fields, extra): the mapped fields, and every other non-empty column kept by its name."""
        plan = plan or self.plan(data)
        fields = {name: self.blank(data.get(column)) for name, column in plan.fields.items()}
        for name, value in self.constants.items():
            if fields.get(name) is None:
                fields[name] = value
        self.translate(fields)
        extra: dict[str, Any] = {}
        for custom_name, column in plan.custom.items():
            value = self.blank(data.get(column))
            if value is not None:
                extra[custom_name] = value
        used = plan.used
        for key, value in data.items():
            if key not in used and self.blank(value) is not None:
                extra.setdefault(str(key), value)
        return fields, extra

    def translate(self, fields: dict[str, Any]) -> None:
        """Values translated by ``values:`` (trimmed, ignoring case); a translated status keeps the
        source's word as its reason when the row gives none."""
        for name, table in self._tables.items():
            value = fields.get(name)
            if value is None:
                continue
            word = str(value).strip()
            if word.casefold() not in table:
                continue
            fields[name] = table[word.casefold()]
            reason = REASON_OF.get(name)
            if reason and fields.get(reason) is None:
                fields[reason] = word


def default_mapping(kind: str) -> Mapping:
    """Columns named like the fields of ``kind`` (and, for leads, their plain English names)."""
    base = DEFAULTS.get(kind)
    columns = {n: [n, *(base.columns.get(n, []) if base else [])] for n in FIELDS[kind]}
    return Mapping(name="default", kind=kind, columns=columns, general=True)


def presets_for(kind: str) -> tuple[str, ...]:
    """The presets that read exports of this kind of record."""
    return tuple(PRESETS.get(kind, {}))


def _from_preset(found: Preset) -> Mapping:
    return Mapping(
        name=found.name,
        kind=found.kind,
        columns={k: list(v) for k, v in found.columns.items()},
        custom={k: list(v) for k, v in found.custom.items()},
        constants=dict(found.constants),
        values={k: dict(v) for k, v in found.values.items()},
        source_system=found.source_system,
        date_order=found.date_order,
        name_fallback=True,
        general=found.general,
    )


def preset(name: str, kind: str) -> Mapping:
    tables = PRESETS.get(kind, {})
    if name not in tables:
        kinds = [k for k, t in PRESETS.items() if name in t]
        raise MappingError(
            f"there is no {name!r} preset for {kind}; presets for {kind}: "
            f"{sorted(tables) or 'none'}"
            + (f" ({name} has presets for {', '.join(kinds)})" if kinds else "")
        )
    return _from_preset(tables[name])


def all_presets() -> tuple[str, ...]:
    """Every preset name, of any kind."""
    return tuple(dict.fromkeys(name for tables in PRESETS.values() for name in tables))


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise MappingError(f"unknown import kind {kind!r}; kinds are {list(KINDS)}")
