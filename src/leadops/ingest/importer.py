"""File imports: rows read, mapped, validated and written in chunks, each chunk its own transaction.

Every row ends up taken, unchanged, or rejected (kept in ``import_rejects`` with its number, its raw
content and the reason). A process killed mid-import loses nothing that was committed, and running
the same file again changes nothing that is already there (every write is an upsert).
A dry run does all the work in one transaction and rolls it back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from leadops.clock import Clock
from leadops.config import Settings
from leadops.db import run_in_transaction
from leadops.errors import FieldError
from leadops.ingest.activities import ingest_activities
from leadops.ingest.context import IngestContext
from leadops.ingest.deals import DealWriter, validate_deal
from leadops.ingest.leads import LeadWriter, validate_lead
from leadops.ingest.mappings import Mapping
from leadops.ingest.members import MemberWriter, validate_member
from leadops.ingest.readers import Row, read_rows
from leadops.models import ImportFlag, ImportJob, ImportReject
from leadops.normalize import scrubbed

Progress = Callable[[int, int], None]  # (rows read so far, about how many in all)


@dataclass
class RejectedRow:
    row: int
    field: str | None
    error: str
    raw: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass
class ImportSummary:
    kind: str
    job_id: int | None
    encoding: str | None
    dry_run: bool
    total: int = 0
    taken: int = 0
    unchanged: int = 0
    rejected: int = 0
    flagged: int = 0
    rejects: list[RejectedRow] = dataclasses.field(default_factory=list)
    flags: list[tuple[int, str, str]] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "job_id": self.job_id,
            "encoding": self.encoding,
            "dry_run": self.dry_run,
            "rows": self.total,
            "taken": self.taken,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "flagged": self.flagged,
            "rejects": [
                {"row": r.row, "field": r.field, "error": r.error} for r in self.rejects[:100]
            ],
        }


def _json_safe(raw: dict[str, Any]) -> dict[str, Any]:
    """The row as JSON can hold it: dates as text, NULs and lone surrogates as U+FFFD."""
    safe = scrubbed(json.loads(json.dumps(raw, default=str)))
    assert isinstance(safe, dict)
    return safe


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def estimate_rows(path: Path) -> int:
    """About how many rows the file has, for a progress bar (lines, or the sheet's last row)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return max(path.stat().st_size // 60, 1)
    count = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
    return max(count - 1, 1)


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _ChunkWriter:
    """Writes one chunk of rows of one kind; collects what was taken, rejected and flagged."""

    def __init__(
        self, kind: str, mapping: Mapping, ctx: IngestContext, summary: ImportSummary
    ) -> None:
        self.kind, self.mapping, self.ctx, self.summary = kind, mapping, ctx, summary
        self.rejects: list[RejectedRow] = []
        self.flags: list[tuple[int, str, str, str]] = []

    def reject(self, row: Row, errors: list[FieldError]) -> None:
        for error in errors[:1]:
            message = "; ".join(f"{e.path}: {e.message}" if e.path else e.message for e in errors)
            self.rejects.append(
                RejectedRow(row.number, error.path or None, message, _json_safe(row.raw))
            )

    def write(self, rows: list[Row]) -> None:
        good = []
        for row in rows:
            self.summary.total += 1
            if row.error:
                self.reject(row, [FieldError(row.column or "", row.error)])
            else:
                good.append(row)
        getattr(self, "_write_" + self.kind.replace("-", "_"))(good)

    def _write_leads(self, rows: list[Row]) -> None:
        writer = LeadWriter(self.ctx, create_users=self.mapping.create_users)
        parsed = []
        for row in rows:
            fields, extra = self.mapping.apply(row.data)
            item, errors = validate_lead(
                fields, self.ctx, custom=extra, crm_source=self.mapping.source_system
            )
            if item is None:
                self.reject(row, errors)
            else:
                parsed.append((row, item))
        writer.preload(item for _, item in parsed)
        for row, item in parsed:
            outcome = writer.upsert(item)
            if outcome.refused is not None:
                self.reject(row, outcome.errors())
                continue
            self._count(outcome.changed)
            for flag, message in outcome.flags:
                self.flags.append((row.number, flag, message, "lead"))
        writer.finish()

    def _write_events(self, rows: list[Row]) -> None:
        items: list[dict[str, Any]] = []
        numbers: list[Row] = []
        for row in rows:
            fields, extra = self.mapping.apply(row.data)
            props = fields.pop("properties", None)
            if isinstance(props, str):
                try:
                    props = json.loads(props)
                except json.JSONDecodeError as exc:
                    self.reject(
                        row,
                        [
                            FieldError(
                                "properties", f"not valid JSON: {exc.msg} at column {exc.colno}"
                            )
                        ],
                    )
                    continue
            properties = {**extra, **(props if isinstance(props, dict) else {})}
            if props is not None and not isinstance(props, dict):
                properties = props  # let validation name it
            item = {k: v for k, v in fields.items() if v is not None}
            if "external_id" in item:
                item["external_id"] = str(item["external_id"])
            if "lead_external_id" in item:
                item["lead_source"] = self.mapping.source_system or "import"
            item["properties"] = properties
            items.append(item)
            numbers.append(row)
        result = ingest_activities(
            self.ctx, items, path="row", default_source=self.mapping.source_system or "import"
        )
        for reject in result.rejected:
            errors = [
                FieldError(e.path.split(".", 1)[1] if "." in e.path else "", e.message)
                for e in reject.errors
            ]
            self.reject(numbers[reject.index], errors)
        self.summary.taken += result.accepted
        self.summary.unchanged += result.duplicates

    def _write_deals(self, rows: list[Row]) -> None:
        writer = self.ctx.cache.setdefault(
            "deal_writer", DealWriter(self.ctx, create_users=self.mapping.create_users)
        )
        for row in rows:
            fields, extra = self.mapping.apply(row.data)
            item, errors = validate_deal(
                fields, extra, self.ctx, source_system=self.mapping.source_system
            )
            if item is None:
                self.reject(row, errors)
                continue
            outcome = writer.upsert(item)
            self._count(True)
            for flag, message in outcome.flags:
                self.flags.append(
                    (row.number, flag, message, f"opportunity:{outcome.opportunity.id}")
                )

    def _write_campaign_members(self, rows: list[Row]) -> None:
        writer = MemberWriter(self.ctx)
        for row in rows:
            fields, _extra = self.mapping.apply(row.data)
            item, errors = validate_member(
                fields, self.ctx, source_system=self.mapping.source_system
            )
            if item is None:
                self.reject(row, errors)
                continue
            created, error = writer.upsert(item)
            if error is not None:
                self.reject(row, [error])
            else:
                self._count(created)
        writer.leads.finish()

    def _count(self, changed: bool) -> None:
        if changed:
            self.summary.taken += 1
        else:
            self.summary.unchanged += 1

    def save(self, session: Session, job_id: int | None) -> None:
        self.summary.rejected += len(self.rejects)
        self.summary.rejects.extend(self.rejects)
        self.summary.flagged += len(self.flags)
        self.summary.flags.extend((n, f, m) for n, f, m, _ in self.flags)
        if job_id is None:
            return
        for r in self.rejects:
            session.add(
                ImportReject(
                    job_id=job_id, row_number=r.row, raw=r.raw, field=r.field, error=r.error
                )
            )
        for number, flag, message, entity in self.flags:
            session.add(
                ImportFlag(
                    job_id=job_id, row_number=number, flag=flag, message=message, entity=entity
                )
            )


def run_import(
    kind: str,
    path: Path,
    mapping: Mapping,
    factory: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    *,
    dry_run: bool = False,
    encoding: str | None = None,
    sheet: str | None = None,
    actor: str | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import one file. Raises FileFormatError when the file as a whole cannot be read."""
    used_encoding, rows = read_rows(path, encoding=encoding, sheet=sheet)
    size = estimate_rows(path)
    now = clock.now()
    summary = ImportSummary(kind=kind, job_id=None, encoding=used_encoding, dry_run=dry_run)
    date_order = mapping.date_order or settings.date_order
    if dry_run:
        session = factory()
        try:
            ctx = IngestContext.from_settings(
                session,
                settings,
                now,
                actor_kind="import",
                actor_ref="dry-run",
                date_order=date_order,
            )
            for chunk in _chunks(rows, settings.import_chunk_size):
                writer = _ChunkWriter(kind, mapping, ctx, summary)
                writer.write(chunk)
                session.flush()
                writer.save(session, None)
                if progress:
                    progress(summary.total, size)
        finally:
            session.rollback()
            session.close()
        return summary

    with factory() as session, session.begin():
        job = ImportJob(
            kind=kind,
            filename=path.name,
            file_sha256=_sha256(path),
            mapping=mapping.name,
            encoding=used_encoding,
            dry_run=False,
            state="running",
            actor=actor,
            started_at=now,
            rows_total=0,
            rows_taken=0,
            rows_unchanged=0,
            rows_rejected=0,
            rows_flagged=0,
        )
        session.add(job)
        session.flush()
        summary.job_id = job.id
    cache: dict[str, Any] = {}
    try:
        for chunk in _chunks(rows, settings.import_chunk_size):
            before = _counts(summary)

            def write_chunk(
                session: Session, chunk: list[Row] = chunk, before: tuple[Any, ...] = before
            ) -> None:
                # A retry (a concurrent writer won a race) starts again from the counts before this
                # chunk.
                _restore(summary, before)
                ctx = IngestContext.from_settings(
                    session,
                    settings,
                    now,
                    actor_kind="import",
                    actor_ref=str(summary.job_id),
                    date_order=date_order,
                )
                ctx.cache.update({k: v for k, v in cache.items() if k in ("activity_types",)})
                writer = _ChunkWriter(kind, mapping, ctx, summary)
                writer.write(chunk)
                session.flush()
                writer.save(session, summary.job_id)
                _update_job(session, summary, None)
                cache.update({k: v for k, v in ctx.cache.items() if k == "activity_types"})

            run_in_transaction(factory, write_chunk)
            if progress:
                progress(summary.total, size)
    except Exception as exc:
        with factory() as session, session.begin():
            _update_job(
                session, summary, clock.now(), state="failed", error=f"{type(exc).__name__}: {exc}"
            )
        raise
    with factory() as session, session.begin():
        _update_job(session, summary, clock.now(), state="done")
    return summary


def _counts(summary: ImportSummary) -> tuple[Any, ...]:
    return (
        summary.total,
        summary.taken,
        summary.unchanged,
        summary.rejected,
        summary.flagged,
        len(summary.rejects),
        len(summary.flags),
    )


def _restore(summary: ImportSummary, counts: tuple[Any, ...]) -> None:
    summary.total, summary.taken, summary.unchanged, summary.rejected, summary.flagged = counts[:5]
    del summary.rejects[counts[5] :]
    del summary.flags[counts[6] :]


def _update_job(
    session: Session,
    summary: ImportSummary,
    finished: datetime | None,
    *,
    state: str | None = None,
    error: str | None = None,
) -> None:
    job = session.get(ImportJob, summary.job_id)
    assert job is not None
    job.rows_total, job.rows_taken, job.rows_unchanged = (
        summary.total,
        summary.taken,
        summary.unchanged,
    )
    job.rows_rejected, job.rows_flagged = summary.rejected, summary.flagged
    if state:
        job.state = state
        job.finished_at = finished
    if error:
        job.error = error


def rejects_of(session: Session, job_id: int) -> list[ImportReject]:
    stmt = (
        select(ImportReject).where(ImportReject.job_id == job_id).order_by(ImportReject.row_number)
    )
    return list(session.scalars(stmt))
