"""Column mappings: how a file's columns become leadops fields.

Presets cover Salesforce, HubSpot and Marketo exports (English and Japanese headers); a YAML
document describes anything else: the CLI reads it from a file its user names, the web app from an
upload (``mapping_from_text``), never from a path. Columns no mapping names are kept as custom
fields / properties, never lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

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
        "source",
        "campaign",
        "created_at",
        "employees",
        "industry",
        "owner",
        "status",
        "status_reason",
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

_LEAD_PRESETS: dict[str, dict[str, list[str]]] = {
    "salesforce": {
        "external_id": ["Lead ID", "リード ID", "リードID"],
        "first_name": ["First Name", "名"],
        "last_name": ["Last Name", "姓"],
        "email": ["Email", "メール"],
        "company": ["Company", "Company / Account", "会社名"],
        "title": ["Title", "役職"],
        "phone": ["Phone", "電話"],
        "prefecture": ["State/Province", "State", "都道府県"],
        "source": ["Lead Source", "リードソース"],
        "created_at": ["Created Date", "作成日"],
        "employees": ["No. of Employees", "Employees", "従業員数"],
        "industry": ["Industry", "業種"],
        "status": ["Lead Status", "リード状況"],
        "owner": ["Lead Owner", "Owner Email", "リード所有者"],
        "domain": ["Website", "Web サイト", "Webサイト"],
    },
    "hubspot": {
        "external_id": ["Record ID", "Contact ID", "レコードID"],
        "first_name": ["First Name", "名"],
        "last_name": ["Last Name", "姓"],
        "email": ["Email", "Eメール", "メール"],
        "company": ["Company Name", "Company", "会社名"],
        "title": ["Job Title", "役職"],
        "phone": ["Phone Number", "電話番号"],
        "prefecture": ["State/Region", "都道府県/地域", "都道府県"],
        "source": ["Original Source", "Original Traffic Source", "元のソース"],
        "created_at": ["Create Date", "作成日"],
        "employees": ["Number of Employees", "従業員数"],
        "industry": ["Industry", "業種"],
        "status": ["Lead Status", "リードステータス"],
        "owner": ["Contact owner", "Contact Owner", "コンタクト担当者"],
        "domain": ["Website URL", "Company Domain Name", "ウェブサイトURL"],
    },
    "marketo": {
        "external_id": ["Id", "Lead ID", "ID"],
        "first_name": ["First Name", "名"],
        "last_name": ["Last Name", "姓"],
        "email": ["Email Address", "Email", "メールアドレス"],
        "company": ["Company Name", "Company", "会社名"],
        "title": ["Job Title", "Title", "役職"],
        "department": ["Department", "部署"],
        "phone": ["Phone Number", "Phone", "電話番号"],
        "prefecture": ["State", "都道府県"],
        "source": ["Lead Source", "Original Source Type", "リードソース"],
        "created_at": ["Created At", "Created", "作成日"],
        "employees": ["Number of Employees", "NumberOfEmployees", "従業員数"],
        "industry": ["Industry", "業種"],
        "status": ["Lead Status", "リード状況"],
        "domain": ["Website", "Webサイト"],
    },
}
_DEAL_PRESETS: dict[str, dict[str, list[str]]] = {
    "salesforce": {
        "external_id": ["Opportunity ID", "商談 ID"],
        "name": ["Opportunity Name", "商談名"],
        "account": ["Account Name", "取引先名"],
        "stage": ["Stage", "フェーズ"],
        "amount": ["Amount", "金額"],
        "created_at": ["Created Date", "作成日"],
        "closed_at": ["Close Date", "完了予定日"],
        "owner": ["Opportunity Owner", "商談 所有者"],
        "lead_email": ["Contact Email", "Email"],
    },
    "hubspot": {
        "external_id": ["Record ID", "Deal ID"],
        "name": ["Deal Name", "取引名"],
        "account": ["Associated Company", "Company Name"],
        "stage": ["Deal Stage", "取引ステージ"],
        "amount": ["Amount", "金額"],
        "created_at": ["Create Date", "作成日"],
        "closed_at": ["Close Date", "クローズ日"],
        "owner": ["Deal owner", "Deal Owner", "取引担当者"],
        "lead_email": ["Associated Contact Email", "Email"],
    },
}
PRESETS = ("salesforce", "hubspot", "marketo")
_PRESET_TABLES = {"leads": _LEAD_PRESETS, "deals": _DEAL_PRESETS}
_KEYS = (
    "kind",
    "columns",
    "custom",
    "constants",
    "values",
    "source_system",
    "date_order",
    "create_users",
)


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


@dataclass
class Mapping:
    """How one file's columns map onto one kind of record."""

    name: str
    kind: str
    columns: dict[str, list[str]] = field(default_factory=dict)
    custom: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    source_system: str | None = None
    date_order: str | None = None
    create_users: bool = False

    def apply(self, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(fields, extra): the mapped fields, and every other non-empty column kept by its name."""
        headers = {normalize_header(str(k)).casefold(): k for k in data}
        fields: dict[str, Any] = {}
        used: set[str] = set()
        for name in FIELDS[self.kind]:
            candidates = self.columns.get(name, [name])
            for candidate in candidates:
                key = headers.get(normalize_header(candidate).casefold())
                if key is not None:
                    used.add(key)
                    fields[name] = _blank_to_none(data[key])
                    break
        for name, value in self.constants.items():
            if fields.get(name) is None:
                fields[name] = value
        for name, table in self.values.items():
            value = fields.get(name)
            if value is not None and str(value) in table:
                fields[name] = table[str(value)]
        extra: dict[str, Any] = {}
        for custom_name, column in self.custom.items():
            key = headers.get(normalize_header(column).casefold())
            if key is not None:
                used.add(key)
                value = _blank_to_none(data[key])
                if value is not None:
                    extra[custom_name] = value
        for key, value in data.items():
            if key not in used and _blank_to_none(value) is not None:
                extra.setdefault(str(key), value)
        return fields, extra


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def default_mapping(kind: str) -> Mapping:
    return Mapping(name="default", kind=kind)


def presets_for(kind: str) -> tuple[str, ...]:
    """The presets that read exports of this kind of record."""
    tables = _PRESET_TABLES.get(kind, {})
    return tuple(name for name in PRESETS if name in tables)


def preset(name: str, kind: str) -> Mapping:
    tables = _PRESET_TABLES.get(kind, {})
    if name not in tables:
        kinds = [k for k, t in _PRESET_TABLES.items() if name in t]
        raise MappingError(
            f"there is no {name!r} preset for {kind}; presets for {kind}: "
            f"{sorted(tables) or 'none'}"
            + (f" ({name} has presets for {', '.join(kinds)})" if kinds else "")
        )
    columns = {key: [*names, key] for key, names in tables[name].items()}
    return Mapping(name=name, kind=kind, columns=columns, source_system=name)


def mapping_from_text(text: str, kind: str, *, source: str | None = None) -> Mapping:
    """A YAML mapping document given as text (an upload, a file the CLI has read); it opens
    nothing. Errors name the key and its line in ``text`` and quote nothing else of it."""
    _check_kind(kind)
    document, lines = _parse(text, source)
    return _Document(lines, source).mapping(document, kind)


def load_mapping_file(path: Path, kind: str) -> Mapping:
    """Read a YAML mapping file: for the command line only, whose user names their own files. The
    web app never calls this (it takes a preset or an uploaded document, see mapping_from_text)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError("no such mapping file", source=str(path)) from None
    except UnicodeDecodeError:
        raise MappingError("not UTF-8 text", source=str(path)) from None
    except OSError as exc:
        raise MappingError(f"cannot be read: {exc.strerror}", source=str(path)) from None
    return mapping_from_text(text, kind, source=str(path))


def resolve_mapping(spec: str | None, kind: str) -> Mapping:
    """The command line's ``--mapping``: ``None`` → the default (columns named like leadops
    fields); a preset name; or the path of a YAML file, which is opened. Never call it with a
    value from a request."""
    _check_kind(kind)
    if spec is None:
        return default_mapping(kind)
    if spec.lower() in PRESETS:
        return preset(spec.lower(), kind)
    path = Path(spec)
    if not path.exists():
        raise MappingError(
            f"--mapping {spec!r}: not a preset ({', '.join(PRESETS)}) and no such file"
        )
    return load_mapping_file(path, kind)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise MappingError(f"unknown import kind {kind!r}; kinds are {list(KINDS)}")


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: a few lines of them can stand for a document too large
    to hold."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise MappingError(
                "anchors and aliases (&name, *name) are not allowed in a mapping file",
                line=event.start_mark.line + 1,
            )
        return super().compose_node(parent, index)


def _parse(text: str, source: str | None) -> tuple[Any, dict[str, int]]:
    """The document and the line of each key (``columns``, ``columns.email``), in one pass."""
    try:
        loader = _NoAliasLoader(text)
        try:
            node = loader.get_single_node()
            document = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _not_yaml(exc, text, source) from None
    except MappingError as exc:
        exc.source = source
        raise
    return document, _key_lines(node)


def _not_yaml(exc: yaml.YAMLError, text: str, source: str | None) -> MappingError:
    """What the YAML parser found and where, without the excerpt of the text it would quote."""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        return MappingError(f"not valid YAML: {problem}", line=mark.line + 1, source=source)
    position = getattr(exc, "position", None)  # a reader error: a character YAML does not allow
    line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
    reason = getattr(exc, "reason", None) or "cannot be read"
    return MappingError(f"not valid YAML: {reason}", line=line, source=source)


def _key_lines(node: yaml.Node | None) -> dict[str, int]:
    """The line of each top-level key and of each key one level below it."""
    lines: dict[str, int] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key, value in node.value:
        name = str(key.value)
        lines.setdefault(name, key.start_mark.line + 1)
        if isinstance(value, yaml.MappingNode):
            for sub, _ in value.value:
                lines.setdefault(f"{name}.{sub.value}", sub.start_mark.line + 1)
    return lines


@dataclass
class _Document:
    """Checks a parsed mapping document; each problem names its key and line."""

    lines: dict[str, int]
    source: str | None

    def fail(self, message: str, key: str | None = None, at: str | None = None) -> NoReturn:
        where = at or key
        line = None
        if where is not None:
            line = self.lines.get(where) or self.lines.get(where.split(".")[0])
        raise MappingError(message, key=key, line=line, source=self.source)

    def section(self, document: dict[Any, Any], key: str) -> dict[Any, Any]:
        value = document.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail("expected a YAML object (name: value lines)", key)
        return value

    def mapping(self, document: Any, kind: str) -> Mapping:
        if not isinstance(document, dict):
            self.fail("a mapping file is a YAML object with 'columns:'")
        unknown = sorted(str(k) for k in document if k not in _KEYS)
        if unknown:
            self.fail(f"unknown key(s) {unknown}; allowed: {sorted(_KEYS)}", at=unknown[0])
        file_kind = document.get("kind", kind)
        if file_kind != kind:
            self.fail(f"kind is {file_kind!r} but this is an import of {kind}", "kind")
        return Mapping(
            name=self.source or "mapping",
            kind=kind,
            columns=self.columns(document, kind),
            custom={str(k): str(v) for k, v in self.section(document, "custom").items()},
            constants=self.constants(document, kind),
            values=self.values(document, kind),
            source_system=self.scalar(document, "source_system"),
            date_order=self.date_order(document),
            create_users=self.flag(document, "create_users"),
        )

    def columns(self, document: dict[Any, Any], kind: str) -> dict[str, list[str]]:
        columns: dict[str, list[str]] = {}
        for name, value in self.section(document, "columns").items():
            key = f"columns.{name}"
            if name not in FIELDS[kind]:
                self.fail(f"not a field of {kind}; fields are {list(FIELDS[kind])}", key)
            if isinstance(value, str):
                columns[name] = [value]
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                columns[name] = list(value)
            else:
                self.fail("expected a column name or a list of names", key)
        return columns

    def constants(self, document: dict[Any, Any], kind: str) -> dict[str, Any]:
        constants = self.section(document, "constants")
        for name in constants:
            if name not in FIELDS[kind]:
                self.fail(f"not a field of {kind}", f"constants.{name}")
        return dict(constants)

    def values(self, document: dict[Any, Any], kind: str) -> dict[str, dict[str, Any]]:
        values = self.section(document, "values")
        for name, table in values.items():
            if name not in FIELDS[kind] or not isinstance(table, dict):
                self.fail(f"expected a field of {kind} with a table of values", f"values.{name}")
        return {k: {str(a): b for a, b in v.items()} for k, v in values.items()}

    def scalar(self, document: dict[Any, Any], key: str) -> str | None:
        value = document.get(key)
        if isinstance(value, dict | list):
            self.fail("expected a name", key)
        return None if value is None else str(value)

    def date_order(self, document: dict[Any, Any]) -> str | None:
        date_order = document.get("date_order")
        if date_order not in (None, "ymd", "mdy", "dmy"):
            self.fail(f"expected ymd, mdy or dmy, got {date_order!r}", "date_order")
        return date_order

    def flag(self, document: dict[Any, Any], key: str) -> bool:
        value = document.get(key, False)
        if not isinstance(value, bool):
            self.fail("expected true or false", key)
        return value
