"""Mapping documents: YAML given as text (an upload) or a file the command line names.

Errors name the key and its line and quote nothing else of the text; anchors and aliases are
refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml

from leadops.ingest.mappings.model import (
    EMPTY,
    FIELDS,
    Mapping,
    MappingError,
    all_presets,
    check_kind,
    default_mapping,
    preset,
)

_KEYS = (
    "kind",
    "columns",
    "custom",
    "constants",
    "values",
    "empty",
    "source_system",
    "date_order",
    "create_users",
)


def mapping_from_text(text: str, kind: str, *, source: str | None = None) -> Mapping:
    """A YAML mapping document given as text (an upload, a file the CLI has read); it opens
    nothing. Errors name the key and its line in ``text`` and quote nothing else of it."""
    check_kind(kind)
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
    check_kind(kind)
    if spec is None or spec.lower() == "default":
        return default_mapping(kind)
    if spec.lower() in all_presets():
        return preset(spec.lower(), kind)
    path = Path(spec)
    if not path.exists():
        raise MappingError(
            f"--mapping {spec!r}: not a preset (default, {', '.join(all_presets())}) and no "
            "such file"
        )
    return load_mapping_file(path, kind)


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
            custom=self.custom(document),
            constants=self.constants(document, kind),
            values=self.values(document, kind),
            empty=self.empty(document),
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
            columns[name] = self.names(value, key)
        return columns

    def names(self, value: Any, key: str) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            self.fail("expected a column name or a list of names", key)
        return list(value)

    def custom(self, document: dict[Any, Any]) -> dict[str, list[str]]:
        return {
            str(name): self.names(
                value if isinstance(value, list) else str(value), f"custom.{name}"
            )
            for name, value in self.section(document, "custom").items()
        }

    def empty(self, document: dict[Any, Any]) -> tuple[str, ...]:
        value = document.get("empty", list(EMPTY))
        if not isinstance(value, list):
            self.fail("expected a list of the values that mean empty, e.g. [null, '-']", "empty")
        if any(v is None for v in value):
            self.fail("write null in quotes ('null'): YAML reads a bare null as nothing", "empty")
        if not all(isinstance(v, str) for v in value):
            self.fail("expected texts, e.g. ['null', '(blank)', '-']", "empty")
        return tuple(value)

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
