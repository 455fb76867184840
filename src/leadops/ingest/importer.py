"""File imports: rows read, mapped, validated and written in chunks, each chunk its own transaction.

Every row ends up taken, unchanged, or rejected (kept in ``import_rejects`` with its number, its raw
content and the reason); a row taken with a value it could not use is flagged. A first pass over
the file (``survey``) decides the order of each date column and finds the rows that are one lead.
A process killed mid-import loses nothing that was committed, and running the same file again
changes nothing that is already there (every write is an upsert). A dry run does all the work in
one transaction and rolls it back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from leadops.clock import Clock
from leadops.config import Settings
from leadops.db import Statistics, collector_paused, run_in_transaction
from leadops.errors import FieldError
from leadops.ingest.activities import ingest_activities
from leadops.ingest.context import IngestContext
from leadops.ingest.deals import DealWriter, validate_deal
from leadops.ingest.leadrows import LeadRows
from leadops.ingest.mappings import Mapping
from leadops.ingest.members import MemberWriter, validate_member
from leadops.ingest.outcomes import RejectedRow, Sink
from leadops.ingest.readers import Row, read_columns, read_rows
from leadops.ingest.recognise import Recognition, unread
from leadops.ingest.survey import FileReading, survey_file
from leadops.models import ImportFlag, ImportJob, ImportReject

Progress = Callable[[int, int], None]  # (rows read so far, about how many in all)

__all__ = ["ImportSummary", "RejectedRow", "rejects_of", "run_import"]


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
    #: The mapping used, and how it was chosen when the file's headers chose it.
    mapping: str | None = None
    recognised: str | None = None
    #: What the file as a whole said: the order of each date column.
    notes: list[str] = dataclasses.field(default_factory=list)
    #: The columns the mapping does not read: kept as custom fields (or properties).
    unread: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "job_id": self.job_id,
            "encoding": self.encoding,
            "dry_run": self.dry_run,
            "mapping": self.mapping,
            "recognised": self.recognised,
            "notes": self.notes,
            "unread_columns": self.unread,
            "rows": self.total,
            "taken": self.taken,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "flagged": self.flagged,
            "rejects": [
                {"row": r.row, "field": r.field, "error": r.error} for r in self.rejects[:100]
            ],
            "flags": [{"row": n, "flag": f, "message": m} for n, f, m in self.flags[:100]],
        }


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
        self,
        kind: str,
        reading: FileReading,
        ctx: IngestContext,
        summary: ImportSummary,
        held: dict[int, Row],
    ) -> None:
        self.kind, self.reading, self.ctx, self.summary = kind, reading, ctx, summary
        self.mapping, self.plan, self.held = reading.mapping, reading.plan, held
        self.sink = Sink()

    def reject(self, row: Row, errors: list[FieldError]) -> None:
        self.sink.reject(row, errors, self.plan)

    def write(self, rows: list[Row]) -> None:
        good = []
        for row in rows:
            self.summary.total += 1
            if row.error:
                self.reject(row, [FieldError(row.column or "", row.error)])
            else:
                good.append(row)
        if self.kind == "leads":
            LeadRows(self.ctx, self.reading, self.held, self.sink).write(good)
        else:
            getattr(self, "_write_" + self.kind.replace("-", "_"))(good)

    def _mapped(self, row: Row) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The row's fields and other columns, its dates read by their column's order; None (and
        the row rejected) when a date cannot be read so."""
        data, problems = self.reading.dates.rewrite(row.data)
        if problems:
            errors = [
                FieldError(self.reading.field_of(column), why) for column, why in problems.items()
            ]
            self.reject(row, errors)
            return None
        return self.mapping.apply(data, self.plan)

    def _write_events(self, rows: list[Row]) -> None:
        items: list[dict[str, Any]] = []
        numbers: list[Row] = []
        for row in rows:
            mapped = self._mapped(row)
            if mapped is None:
                continue
            fields, extra = mapped
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
        self.sink.taken += result.accepted
        self.sink.unchanged += result.duplicates

    def _write_deals(self, rows: list[Row]) -> None:
        writer = self.ctx.cache.setdefault(
            "deal_writer", DealWriter(self.ctx, create_users=self.mapping.create_users)
        )
        for row in rows:
            mapped = self._mapped(row)
            if mapped is None:
                continue
            fields, extra = mapped
            item, errors = validate_deal(
                fields, extra, self.ctx, source_system=self.mapping.source_system
            )
            if item is None:
                self.reject(row, errors)
                continue
            outcome = writer.upsert(item)
            self.sink.count(True)
            for flag, message in outcome.flags:
                self.sink.flag(row.number, flag, message, f"opportunity:{outcome.opportunity.id}")

    def _write_campaign_members(self, rows: list[Row]) -> None:
        writer = MemberWriter(self.ctx)
        for row in rows:
            mapped = self._mapped(row)
            if mapped is None:
                continue
            fields, _extra = mapped
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
                self.sink.count(created)
        writer.leads.finish()

    def save(self, session: Session, job_id: int | None) -> None:
        sink, summary = self.sink, self.summary
        summary.taken += sink.taken
        summary.unchanged += sink.unchanged
        summary.rejected += len(sink.rejects)
        summary.rejects.extend(sink.rejects)
        summary.flagged += len(sink.flags)
        summary.flags.extend((n, f, m) for n, f, m, _ in sink.flags)
        if job_id is None:
            return
        for r in sink.rejects:
            session.add(
                ImportReject(
                    job_id=job_id, row_number=r.row, raw=r.raw, field=r.field, error=r.error
                )
            )
        for number, flag, message, entity in sink.flags:
            session.add(
                ImportFlag(
                    job_id=job_id, row_number=number, flag=flag, message=message, entity=entity
                )
            )


def read_file(
    kind: str,
    path: Path,
    mapping: Mapping,
    settings: Settings,
    *,
    columns: list[str],
    encoding: str | None = None,
    sheet: str | None = None,
) -> FileReading:
    """The first pass: the mapping resolved against the file's columns, each date column's order,
    the rows that are one lead."""
    plan = mapping.plan(columns)
    _, rows = read_rows(path, encoding=encoding, sheet=sheet)
    with collector_paused():  # every row's keys are kept: many small objects, in no cycle
        return survey_file(rows, kind, mapping, plan, mapping.date_order or settings.date_order)


def run_import(
    kind: str,
    path: Path,
    mapping: Mapping,
    factory: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    *,
    recognition: Recognition | None = None,
    dry_run: bool = False,
    encoding: str | None = None,
    sheet: str | None = None,
    actor: str | None = None,
    progress: Progress | None = None,
    claim: Claim | None = None,
) -> ImportSummary:
    """Import one file with ``mapping`` (``recognition`` says how the file's headers chose it).
    Raises FileFormatError when the file as a whole cannot be read. With ``claim`` the rows go to
    that job (see ``ingest.jobs``), from the row after its last committed chunk."""
    used_encoding, _ = read_rows(path, encoding=encoding, sheet=sheet)
    columns = read_columns(path, encoding=used_encoding, sheet=sheet)
    reading = read_file(
        kind, path, mapping, settings, columns=columns, encoding=used_encoding, sheet=sheet
    )
    summary = ImportSummary(
        kind=kind,
        job_id=None,
        encoding=used_encoding,
        dry_run=dry_run,
        mapping=mapping.name,
        recognised=recognition.note() if recognition else None,
        notes=list(reading.notes),
        unread=unread(mapping, columns),
    )
    run = _Run(kind, path, reading, factory, settings, clock, clock.now(), summary, progress)
    _, rows = read_rows(path, encoding=used_encoding, sheet=sheet)
    if dry_run:
        return run.dry(rows)
    if claim is not None:
        return run.resume(rows, claim)
    return run.real(rows, actor)


#: The tables a file of leads grows, whose planner statistics are kept current as it does.
LEAD_TABLES = ("leads", "accounts")


@dataclass(frozen=True)
class Claim:
    """A job this process holds: its id, who holds it, for how long each chunk renews it, and
    where it stands (rows done, and the counts so far: read, taken, unchanged, rejected,
    flagged)."""

    job_id: int
    who: str
    lease: timedelta
    rows_done: int
    counts: tuple[int, int, int, int, int]


class LostClaim(RuntimeError):
    """Another process took the job over (this one was taken for gone): stop, writing nothing."""


@dataclass
class _Run:
    kind: str
    path: Path
    reading: FileReading
    factory: sessionmaker[Session]
    settings: Settings
    clock: Clock
    now: datetime
    summary: ImportSummary
    progress: Progress | None
    #: Earlier rows of leads the file has again, until their last row (across chunks).
    held: dict[int, Row] = dataclasses.field(default_factory=dict)
    #: What outlives a chunk's context (the activity types).
    cache: dict[str, Any] = dataclasses.field(default_factory=dict)

    def context(self, session: Session, actor_ref: str) -> IngestContext:
        ctx = IngestContext.from_settings(
            session,
            self.settings,
            self.now,
            actor_kind="import",
            actor_ref=actor_ref,
            date_order=self.reading.mapping.date_order or self.settings.date_order,
        )
        ctx.cache.update({k: v for k, v in self.cache.items() if k in ("activity_types",)})
        return ctx

    def chunk(self, session: Session, ctx: IngestContext, rows: list[Row]) -> None:
        writer = _ChunkWriter(self.kind, self.reading, ctx, self.summary, self.held)
        writer.write(rows)
        session.flush()
        writer.save(session, self.summary.job_id)
        self.cache.update({k: v for k, v in ctx.cache.items() if k == "activity_types"})

    def dry(self, rows: Iterator[Row]) -> ImportSummary:
        session = self.factory()
        try:
            ctx = self.context(session, "dry-run")
            for chunk in _chunks(rows, self.settings.import_chunk_size):
                self.chunk(session, ctx, chunk)
                self.report()
        finally:
            session.rollback()
            session.close()
        return self.summary

    def report(self) -> None:
        if self.progress:
            if "size" not in self.cache:
                self.cache["size"] = estimate_rows(self.path)
            self.progress(self.summary.total, self.cache["size"])

    def real(self, rows: Iterator[Row], actor: str | None) -> ImportSummary:
        self.summary.job_id = self.start(actor)
        return self.each_chunk(rows, None)

    def resume(self, rows: Iterator[Row], claim: Claim) -> ImportSummary:
        """Go on with a claimed job: its counts so far, past the rows its committed chunks read
        (the earlier rows of leads whose last row is still to come are held again)."""
        summary = self.summary
        summary.job_id = claim.job_id
        _restore(summary, (*claim.counts, 0, 0))
        if claim.rows_done == 0:
            self.notes(claim.job_id)
        return self.each_chunk(self.skip(rows, claim.rows_done), claim)

    def skip(self, rows: Iterator[Row], done: int) -> Iterator[Row]:
        """The rows after the first ``done``; of those skipped, the earlier rows of leads whose
        last row comes after them are held again, as the chunks that read them held them."""
        skipped: dict[int, Row] | None = {}
        last = 0
        for count, row in enumerate(rows, start=1):
            if count <= done and skipped is not None:
                last = row.number
                if row.number in self.reading.later:
                    skipped[row.number] = row
                continue
            if skipped is not None:
                later = self.reading.later
                self.held.update({n: r for n, r in skipped.items() if later[n] > last})
                skipped = None
            yield row

    def each_chunk(self, rows: Iterator[Row], claim: Claim | None) -> ImportSummary:
        summary = self.summary
        before = _counts(summary)
        # The identity lookups of each chunk ask for the leads of its keys by index.
        statistics = Statistics(self.factory, LEAD_TABLES) if self.kind == "leads" else None
        try:
            for chunk in _chunks(rows, self.settings.import_chunk_size):
                before = _counts(summary)

                def write_chunk(
                    session: Session, chunk: list[Row] = chunk, before: tuple[Any, ...] = before
                ) -> None:
                    # A retry (a concurrent writer won a race) starts again from the counts before
                    # this chunk.
                    _restore(summary, before)
                    self.chunk(session, self.context(session, str(summary.job_id)), chunk)
                    _update_job(session, summary, None)
                    if claim is not None:
                        _renew(session, claim, summary, self.clock.now())

                run_in_transaction(self.factory, write_chunk)
                if statistics is not None:
                    statistics.add(len(chunk))
                self.report()
        except LostClaim:
            raise
        except Exception as exc:
            _restore(summary, before)  # the counts of the chunks committed, as rows_done says
            with self.factory() as session, session.begin():
                error = f"{type(exc).__name__}: {exc}"
                _update_job(session, summary, self.clock.now(), state="failed", error=error)
            raise
        with self.factory() as session, session.begin():
            _update_job(session, summary, self.clock.now(), state="done")
        return summary

    def start(self, actor: str | None) -> int:
        """The job's row, with the file's notes (the recognised preset, the date columns)."""
        summary = self.summary
        with self.factory() as session, session.begin():
            job = ImportJob(
                kind=self.kind,
                filename=self.path.name,
                file_sha256=_sha256(self.path),
                mapping=summary.mapping,
                encoding=summary.encoding,
                dry_run=False,
                state="running",
                actor=actor,
                started_at=self.now,
            )
            session.add(job)
            session.flush()
            job_id = job.id
        self.notes(job_id)
        return job_id

    def notes(self, job_id: int) -> None:
        """The file's notes on the job (again, for a job started before: written once)."""
        summary = self.summary
        with self.factory() as session, session.begin():
            job = session.get_one(ImportJob, job_id)
            job.file_sha256, job.encoding = _sha256(self.path), summary.encoding
            session.execute(
                delete(ImportFlag).where(ImportFlag.job_id == job_id, ImportFlag.flag == "file")
            )
            for note in [*([summary.recognised] if summary.recognised else []), *summary.notes]:
                session.add(
                    ImportFlag(job_id=job_id, row_number=1, flag="file", message=note, entity=None)
                )


def _renew(session: Session, claim: Claim, summary: ImportSummary, now: datetime) -> None:
    """The job's resume point and lease, in the chunk's own transaction, while this process still
    holds the job (else the chunk rolls back)."""
    renewed = session.execute(
        update(ImportJob)
        .where(ImportJob.id == claim.job_id, ImportJob.claimed_by == claim.who)
        .values(rows_done=summary.total, lease_until=now + claim.lease)
    )
    if renewed.rowcount != 1:  # type: ignore[attr-defined]
        raise LostClaim(f"import job {claim.job_id} was taken over by another process")


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
