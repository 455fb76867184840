"""What an import does with each row: taken (changed or unchanged), flagged, or rejected with its
raw content, its number and the field and column of each error."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from leadops.errors import FieldError
from leadops.ingest.mappings import Plan
from leadops.ingest.readers import Row
from leadops.normalize import scrubbed


@dataclass
class RejectedRow:
    row: int
    field: str | None
    error: str
    raw: dict[str, Any] = dataclasses.field(default_factory=dict)


def json_safe(raw: dict[str, Any]) -> dict[str, Any]:
    """The row as JSON can hold it: dates as text, NULs and lone surrogates as U+FFFD."""
    safe = scrubbed(json.loads(json.dumps(raw, default=str)))
    assert isinstance(safe, dict)
    return safe


def where(name: str, plan: Plan | None) -> str:
    """A field as a message names it: with the column it was read from, when that differs."""
    column = plan.column_of(name) if plan is not None and name else None
    return f"{name} (column {column!r})" if column and column != name else name


def describe(errors: list[FieldError], plan: Plan | None = None) -> str:
    return "; ".join(f"{where(e.path, plan)}: {e.message}" if e.path else e.message for e in errors)


@dataclass
class Sink:
    """What one chunk did with its rows; the importer adds it to the summary and the job."""

    rejects: list[RejectedRow] = dataclasses.field(default_factory=list)
    #: (row, flag, message, entity)
    flags: list[tuple[int, str, str, str]] = dataclasses.field(default_factory=list)
    taken: int = 0
    unchanged: int = 0

    def reject(self, row: Row, errors: list[FieldError], plan: Plan | None = None) -> None:
        if errors:
            field = errors[0].path or None
            self.rejects.append(
                RejectedRow(row.number, field, describe(errors, plan), json_safe(row.raw))
            )

    def flag(self, row: int, flag: str, message: str, entity: str = "lead") -> None:
        self.flags.append((row, flag, message, entity))

    def count(self, changed: bool, rows: int = 1) -> None:
        if changed:
            self.taken += rows
        else:
            self.unchanged += rows
