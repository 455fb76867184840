"""Column mappings: how a file's columns become leadops fields.

Presets cover Salesforce, HubSpot and Marketo exports (English and Japanese headers); a YAML file
describes anything else. Columns no mapping names are kept as custom fields / properties, never
lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


class MappingError(ValueError):
    pass


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


def preset(name: str, kind: str) -> Mapping:
    tables = {"leads": _LEAD_PRESETS, "deals": _DEAL_PRESETS}.get(kind, {})
    if name not in tables:
        kinds = [k for k, t in (("leads", _LEAD_PRESETS), ("deals", _DEAL_PRESETS)) if name in t]
        raise MappingError(
            f"there is no {name!r} preset for {kind}; presets for {kind}: "
            f"{sorted(tables) or 'none'}"
            + (f" ({name} has presets for {', '.join(kinds)})" if kinds else "")
        )
    columns = {key: [*names, key] for key, names in tables[name].items()}
    return Mapping(name=name, kind=kind, columns=columns, source_system=name)


def load_mapping_file(path: Path, kind: str) -> Mapping:
    """Read a YAML mapping file. Errors name the key and what is wrong."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"{path}: no such mapping file") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise MappingError(f"{path}: a mapping file is a YAML object with 'columns:'")
    allowed = {
        "kind",
        "columns",
        "custom",
        "constants",
        "values",
        "source_system",
        "date_order",
        "create_users",
    }
    unknown = sorted(set(document) - allowed)
    if unknown:
        raise MappingError(f"{path}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    file_kind = document.get("kind", kind)
    if file_kind != kind:
        raise MappingError(f"{path}: kind is {file_kind!r} but this is an import of {kind}")
    columns: dict[str, list[str]] = {}
    for name, value in (document.get("columns") or {}).items():
        if name not in FIELDS[kind]:
            raise MappingError(
                f"{path}: columns.{name}: not a field of {kind}; fields are {list(FIELDS[kind])}"
            )
        if isinstance(value, str):
            columns[name] = [value]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            columns[name] = list(value)
        else:
            raise MappingError(f"{path}: columns.{name}: expected a column name or a list of names")
    for name in document.get("constants") or {}:
        if name not in FIELDS[kind]:
            raise MappingError(f"{path}: constants.{name}: not a field of {kind}")
    values = document.get("values") or {}
    for name, table in values.items():
        if name not in FIELDS[kind] or not isinstance(table, dict):
            raise MappingError(
                f"{path}: values.{name}: expected a field of {kind} with a table of values"
            )
    date_order = document.get("date_order")
    if date_order not in (None, "ymd", "mdy", "dmy"):
        raise MappingError(f"{path}: date_order: expected ymd, mdy or dmy, got {date_order!r}")
    return Mapping(
        name=str(path),
        kind=kind,
        columns=columns,
        custom={str(k): str(v) for k, v in (document.get("custom") or {}).items()},
        constants=dict(document.get("constants") or {}),
        values={k: {str(a): b for a, b in v.items()} for k, v in values.items()},
        source_system=document.get("source_system"),
        date_order=date_order,
        create_users=bool(document.get("create_users", False)),
    )


def resolve_mapping(spec: str | None, kind: str) -> Mapping:
    """``None`` → the default (columns named like leadops fields); a preset name; or a YAML path."""
    if kind not in KINDS:
        raise MappingError(f"unknown import kind {kind!r}; kinds are {list(KINDS)}")
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
