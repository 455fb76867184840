"""Lead rows of a file import: a value never loses its row, and a lead the file has more than once
is written once.

- A status or lifecycle stage is translated by the mapping's ``values:`` or by the rules' own
  labels (未確認, Recycled …); one that neither knows is kept as a custom field (by its column's
  name) and the row flagged; the lead is taken without it. So is a status the transition table
  refuses for the lead as it stands.
- A date the column's order cannot read, a date in the future, an unknown prefecture or a number
  of employees that is not one: the field is left empty, its value kept as a custom field, the
  row flagged.
- Rows that are one lead (same e-mail, or same id) are taken in by the lead's last row: the last
  row's values win, the earlier rows fill what it leaves empty. Importing the file again finds
  every lead as it left it.
- Lifecycle stages (``lifecycle_stage``) move forward only, through the door, after the rows are
  written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from leadops.errors import FieldError
from leadops.ingest.context import IngestContext
from leadops.ingest.lead_input import fold
from leadops.ingest.leads import LeadInput, LeadOutcome, LeadWriter, validate_lead
from leadops.ingest.outcomes import Sink, describe, where
from leadops.ingest.readers import Row
from leadops.ingest.survey import FileReading
from leadops.lifecycle.door import Actor, Door
from leadops.models import Lead

#: Fields whose bad value is kept aside (custom field, flag) instead of losing the row.
SOFT = ("created_at", "prefecture", "employees", "status", "status_reason", "address")


@dataclass
class Prepared:
    row: Row
    earlier: list[Row]
    item: LeadInput
    flags: list[tuple[str, str]]
    #: (stage, reason) of the lifecycle stage the row gives.
    lifecycle: tuple[str, str] | None = None
    #: The fields and custom fields the input was validated from (to validate it again without a
    #: status the transition table refuses).
    fields: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


class LeadRows:
    """Writes one chunk of lead rows. ``held`` keeps, across chunks, the earlier rows of leads the
    file has again, until their last row."""

    def __init__(
        self, ctx: IngestContext, reading: FileReading, held: dict[int, Row], sink: Sink
    ) -> None:
        self.ctx, self.reading, self.held, self.sink = ctx, reading, held, sink
        self.mapping, self.plan = reading.mapping, reading.plan
        rules = ctx.rules()
        self.labels: dict[str, str] = {}
        for status in rules.document.statuses:
            for word in (status.label_en, status.label_ja, status.name):
                self.labels.setdefault(word.casefold(), status.name)
        self.stages = list(rules.document.lifecycle.stages)

    def write(self, rows: list[Row]) -> None:
        writer = LeadWriter(self.ctx, create_users=self.mapping.create_users)
        prepared: list[Prepared] = []
        for row in rows:
            if row.number in self.reading.later:
                self.held[row.number] = row
                continue
            earlier = [self.held[n] for n in self.reading.groups.get(row.number, ())[:-1]]
            ready = self._prepare_lead(earlier, row) if earlier else self.prepare(row)
            if isinstance(ready, list):
                self._reject(row, earlier, ready)
            else:
                prepared.append(ready)
        writer.preload(p.item for p in prepared)
        written = [(p, o) for p in prepared if (o := self._upsert(writer, p)) is not None]
        writer.finish()
        moved = self._move_lifecycles(written)
        for p, outcome in written:
            self._record(p, outcome, moved)

    def _prepare_lead(self, earlier: list[Row], row: Row) -> Prepared | list[FieldError]:
        """The rows of one lead as one input: each validated on its own, then folded field by
        field (the last row's values win, the earlier rows fill in what it leaves empty). The
        lead stands or falls with its last row; an earlier row that fails alone is rejected
        alone, its values kept with it."""
        parts = [self.prepare(part) for part in (*earlier, row)]
        last = parts[-1]
        if isinstance(last, list):
            return last
        good: list[Prepared] = []
        for part, ready in zip(earlier, parts[:-1], strict=True):
            if isinstance(ready, list):
                self.sink.reject(part, ready, self.plan)
            else:
                good.append(ready)
        lifecycle = next((p.lifecycle for p in reversed([*good, last]) if p.lifecycle), None)
        flags = [f for p in [*good, last] for f in p.flags]
        item = fold([p.item for p in [*good, last]])
        return replace(
            last, item=item, flags=flags, lifecycle=lifecycle, earlier=[p.row for p in good]
        )

    def prepare(self, row: Row) -> Prepared | list[FieldError]:
        """The row validated, with what could not be taken kept aside; or why it is rejected."""
        data, problems = self.reading.dates.rewrite(row.data)
        fields, extra = self.mapping.apply(data, self.plan)
        flags: list[tuple[str, str]] = []
        for column, why in problems.items():
            extra[column] = row.data[column]
            name = self.reading.field_of(column)
            flags.append(("date_not_read", f"{where(name, self.plan)}: {why}; left empty"))
        self._status_by_label(fields)
        lifecycle = self._lifecycle(fields, data, extra, flags)
        item, errors = self._validate(fields, extra)
        if errors and all(e.path in SOFT for e in errors):
            for path in dict.fromkeys(e.path for e in errors):
                self._keep_aside(path, errors, fields, extra, flags)
            item, errors = self._validate(fields, extra)
        if item is None:
            return errors
        return Prepared(row, [], item, flags, lifecycle, fields, extra)

    def _validate(
        self, fields: dict[str, Any], extra: dict[str, Any]
    ) -> tuple[LeadInput | None, list[FieldError]]:
        source = self.mapping.source_system
        return validate_lead(fields, self.ctx, custom=extra, crm_source=source)

    def _status_by_label(self, fields: dict[str, Any]) -> None:
        """A status named by one of the rules' labels (未確認, Recycled) is that status."""
        value = fields.get("status")
        if value is None or str(value).strip() in self.labels.values():
            return
        word = str(value).strip()
        found = self.labels.get(word.casefold())
        if found is not None:
            fields["status"] = found
            if fields.get("status_reason") is None:
                fields["status_reason"] = word

    def _lifecycle(
        self,
        fields: dict[str, Any],
        data: dict[str, Any],
        extra: dict[str, Any],
        flags: list[tuple[str, str]],
    ) -> tuple[str, str] | None:
        value = fields.pop("lifecycle_stage", None)
        if value is None:
            return None
        column = self.plan.column_of("lifecycle_stage") or "lifecycle_stage"
        word = str(data.get(column, value)).strip()
        stage = next(
            (s for s in self.stages if s.casefold() == str(value).strip().casefold()), None
        )
        if stage is None:
            extra[column] = word
            flags.append(
                (
                    "value_not_mapped",
                    f"{where('lifecycle_stage', self.plan)}: {word!r} is not a lifecycle stage "
                    f"({', '.join(self.stages)}) nor one the mapping translates; kept as custom "
                    f"field {column!r}",
                )
            )
            return None
        return stage, f"import: {column} {word}"

    def _keep_aside(
        self,
        path: str,
        errors: list[FieldError],
        fields: dict[str, Any],
        extra: dict[str, Any],
        flags: list[tuple[str, str]] | None,
    ) -> None:
        """The field left out, its value kept as a custom field by its column's name, and the row
        flagged with why (unless ``flags`` is None)."""
        value = fields.pop(path, None)
        column = self.plan.column_of(path) or path
        if value is not None:
            extra[column] = value if isinstance(value, str) else str(value)
        if flags is None:
            return
        messages = [e.message for e in errors if e.path == path]
        kind = "value_not_mapped" if path == "status" else "field_not_taken"
        flags.append(
            (
                kind,
                f"{where(path, self.plan)}: {'; '.join(messages)}; the lead is taken without it, "
                f"the value kept as custom field {column!r}",
            )
        )

    def _upsert(self, writer: LeadWriter, p: Prepared) -> LeadOutcome | None:
        outcome = writer.upsert(p.item)
        refused = outcome.errors()
        if (
            refused
            and p.item.status
            and all(e.path in ("status", "status_reason") for e in refused)
        ):
            column = self.plan.column_of("status") or "status"
            raw = p.row.data.get(column, p.item.status)
            p.flags.append(
                (
                    "status_refused",
                    f"{describe(refused, self.plan)}; the lead is taken without that status, the "
                    f"value kept as custom field {column!r}",
                )
            )
            fields = {k: v for k, v in p.fields.items() if k not in ("status", "status_reason")}
            extra = {**p.extra, column: raw}
            source = self.mapping.source_system
            item, _ = validate_lead(fields, self.ctx, custom=extra, crm_source=source)
            assert item is not None  # it was valid with its status
            p.item = item
            outcome = writer.upsert(item)
            refused = outcome.errors()
        if refused:
            self._reject(p.row, p.earlier, refused)
            return None
        return outcome

    def _reject(self, row: Row, earlier: list[Row], errors: list[FieldError]) -> None:
        self.sink.reject(row, errors, self.plan)
        why = describe(errors, self.plan)
        for part in earlier:
            message = f"the same lead as row {row.number}, rejected with it: {why}"
            self.sink.reject(part, [FieldError(errors[0].path, message)])

    def _move_lifecycles(self, written: list[tuple[Prepared, LeadOutcome]]) -> set[int]:
        """Move each lead's lifecycle stage forward to the one its row gives (never back)."""
        moves = [(o.lead, p.lifecycle) for p, o in written if p.lifecycle and o.lead is not None]
        if not moves:
            return set()
        ctx = self.ctx
        door = Door(ctx.session, ctx.rules(), ctx.now, Actor(ctx.actor_kind, ctx.actor_ref))
        door.lock(sorted({lead.id for lead, _ in moves}))
        moved: set[int] = set()
        for lead, (stage, reason) in moves:
            if door.value(lead.id, "lifecycle_stage") == stage:
                continue
            if door.allows(lead.id, "lifecycle_stage", stage):
                door.move(lead.id, "lifecycle_stage", stage, reason=reason, declared=True)
                moved.add(lead.id)
        door.flush()
        return moved

    def _record(self, p: Prepared, outcome: LeadOutcome, moved: set[int]) -> None:
        lead: Lead | None = outcome.lead
        changed = outcome.changed or (lead is not None and lead.id in moved)
        self.sink.count(changed, 1 + len(p.earlier))
        for flag, message in [*p.flags, *outcome.flags]:
            self.sink.flag(p.row.number, flag, message)
        if p.earlier:
            rows = ", ".join(str(r.number) for r in p.earlier)
            self.sink.flag(
                p.row.number,
                "same_lead",
                f"rows {rows} and {p.row.number} are one lead: the last row's values win, the "
                "earlier rows fill in what it leaves empty",
            )
