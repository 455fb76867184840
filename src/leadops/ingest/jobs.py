"""Import jobs that survive their process: the file, the mapping and the reading options are kept
with the job, one process at a time holds it (a claim with a lease, renewed by every chunk it
commits), and a job whose process died is resumed from its last committed chunk.

- ``submit`` keeps a file as a queued job (the CLI, the web page).
- ``run_job`` claims a job and imports it: a queued one, one of its own, one that failed (tried
  again from its last committed chunk), or one whose holder is gone — a process of this machine
  that no longer runs, or a lease that has run out (a process of another machine). A job another
  live process holds is refused, saying who and until when.
- ``pending`` lists the jobs a worker may take up (queued or interrupted); ``status_of`` is what a
  person sees: ``interrupted`` rather than a ``running`` that nobody runs any more.

A chunk commits its rows and the job's resume point together, and only while the job is still
claimed by its process, so two processes never import the same rows.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from leadops.clock import Clock
from leadops.config import Settings
from leadops.errors import Conflict, NotFound
from leadops.ingest.importer import Claim, ImportSummary, LostClaim, Progress, run_import
from leadops.ingest.mappings import Mapping, default_mapping, mapping_from_text, preset
from leadops.ingest.recognise import Recognition
from leadops.models import ImportFile, ImportJob

QUEUED, RUNNING = "queued", "running"


def claimant() -> str:
    """Who this process is, as a job's claim names it: host, process id and a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _alive(claimed_by: str | None) -> bool | None:
    """Whether the claimant still runs: True or False for a process of this machine, None for one
    of another machine (its lease tells)."""
    if not claimed_by:
        return False
    host, _, rest = claimed_by.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def interrupted(job: ImportJob, now: datetime) -> bool:
    """A running job nobody runs any more: its process died, or its lease ran out."""
    if job.state != RUNNING:
        return False
    alive = _alive(job.claimed_by)
    if alive is None:
        return job.lease_until is None or job.lease_until <= now
    return not alive


def status_of(job: ImportJob, now: datetime) -> str:
    """What a person sees of a job's state."""
    return "interrupted" if interrupted(job, now) else job.state


@dataclass(frozen=True)
class MappingChoice:
    """How a job's rows are mapped, kept with the job: a preset (or the default) by name, or a
    mapping document's text."""

    name: str
    text: str | None = None

    def mapping(self, kind: str) -> Mapping:
        if self.text is not None:
            return mapping_from_text(self.text, kind, source=self.name)
        if self.name == "default":
            return default_mapping(kind)
        return preset(self.name, kind)


def submit(
    session: Session,
    *,
    kind: str,
    filename: str,
    content: bytes,
    mapping: MappingChoice,
    now: datetime,
    actor: str | None,
    options: dict[str, Any] | None = None,
) -> ImportJob:
    """The file kept as a queued import job; returns the job (its id assigned)."""
    job = ImportJob(
        kind=kind,
        filename=filename[-500:],
        mapping=mapping.name,
        mapping_text=mapping.text,
        options={k: v for k, v in (options or {}).items() if v is not None} or None,
        dry_run=False,
        state=QUEUED,
        actor=actor,
        started_at=now,
    )
    session.add(job)
    session.flush()
    session.add(ImportFile(job_id=job.id, name=filename[-500:], size=len(content), content=content))
    session.flush()
    return job


def pending(session: Session, now: datetime) -> list[int]:
    """The jobs a worker may take up: queued ones, and running ones nobody runs any more."""
    jobs = session.scalars(
        select(ImportJob).where(ImportJob.state.in_((QUEUED, RUNNING))).order_by(ImportJob.id)
    )
    return [job.id for job in jobs if job.state == QUEUED or interrupted(job, now)]


def claim(session: Session, job_id: int, who: str, now: datetime, lease: timedelta) -> ImportJob:
    """Take the job for ``who``; Conflict when a live process holds it, NotFound when there is
    none, Conflict when it is over."""
    job = session.get(ImportJob, job_id, with_for_update=True)
    if job is None:
        raise NotFound(f"no import job {job_id}")
    if job.state == "done":
        raise Conflict(f"import job {job_id} is done: there is nothing left to do")
    if job.state == RUNNING and job.claimed_by != who and not interrupted(job, now):
        until = job.lease_until.isoformat() if job.lease_until else "?"
        raise Conflict(
            f"import job {job_id} is running in process {job.claimed_by} (held until {until})"
        )
    won = session.execute(
        update(ImportJob)
        .where(
            ImportJob.id == job_id,
            or_(ImportJob.claimed_by.is_(None), ImportJob.claimed_by == job.claimed_by),
        )
        .values(
            state=RUNNING,
            claimed_by=who,
            lease_until=now + lease,
            error=None,
            finished_at=None,
            resumes=ImportJob.resumes + (0 if job.state == QUEUED else 1),
        )
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"import job {job_id} was taken by another process just now")
    session.refresh(job)
    return job


def run_job(
    factory: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    job_id: int,
    *,
    who: str | None = None,
    progress: Progress | None = None,
    recognition: Recognition | None = None,
) -> ImportSummary:
    """Claim the job and import its file from where it stands (its first row, or the row after
    its last committed chunk). A failure is kept on the job (its error shown, its file kept to
    try again with ``leadops import resume``); the exception goes on."""
    me = who or claimant()
    lease = timedelta(seconds=settings.import_lease_seconds)
    with factory() as session, session.begin():
        job = claim(session, job_id, me, clock.now(), lease)
        stored = session.get(ImportFile, job_id)
        if stored is None:
            raise NotFound(f"import job {job_id} has no file kept (it was imported before)")
        choice = MappingChoice(job.mapping or "default", job.mapping_text)
        kind, options, content, name = (
            job.kind,
            dict(job.options or {}),
            stored.content,
            job.filename,
        )
        resume = Claim(job_id, me, lease, job.rows_done, _counts_of(job))
    try:
        with tempfile.TemporaryDirectory(prefix="leadops-job-") as folder:
            path = Path(folder) / f"job-{job_id}{Path(name or '').suffix.lower() or '.csv'}"
            path.write_bytes(content)
            summary = run_import(
                kind,
                path,
                choice.mapping(kind),
                factory,
                settings,
                clock,
                recognition=recognition,
                encoding=options.get("encoding"),
                sheet=options.get("sheet"),
                progress=progress,
                claim=resume,
            )
    except LostClaim:
        raise
    except Exception as exc:
        _failed(factory, job_id, me, clock.now(), f"{type(exc).__name__}: {exc}")
        raise
    with factory() as session, session.begin():
        finished = session.get(ImportJob, job_id)
        if finished is not None and finished.state == "done":
            session.execute(delete(ImportFile).where(ImportFile.job_id == job_id))
    return summary


def _failed(
    factory: sessionmaker[Session], job_id: int, who: str, now: datetime, error: str
) -> None:
    with factory() as session, session.begin():
        session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.claimed_by == who)
            .values(state="failed", error=error, finished_at=now, claimed_by=None)
        )


def _counts_of(job: ImportJob) -> tuple[int, int, int, int, int]:
    return (job.rows_total, job.rows_taken, job.rows_unchanged, job.rows_rejected, job.rows_flagged)
