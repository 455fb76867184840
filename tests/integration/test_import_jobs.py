"""Import jobs survive their process: a job stopped after some chunks goes on from the row after
its last committed chunk, once its process is gone, and nothing is imported twice."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from leadops.clock import FixedClock
from leadops.errors import Conflict
from leadops.ingest import leadrows
from leadops.ingest.jobs import MappingChoice, pending, run_job, status_of, submit
from leadops.models import ImportFile, ImportJob, Lead, LeadEvent
from leadops.runtime import Runtime
from leadops.worker import run_pending_imports


class Killed(BaseException):
    """The process dies: nothing below catches it (as nothing runs after a SIGKILL)."""


def _file(tmp_path: Path, rows: int) -> bytes:
    lines = ["email,last_name,company,phone"]
    lines += [
        f"p{n}@firm{n % 9}.co.jp,人{n},株式会社{n % 9},03-{1000 + n}-0000" for n in range(rows)
    ]
    # Two rows for one lead, far apart: the earlier one is held until the later one comes.
    lines.insert(3, "p5000@firm9.co.jp,同じ人,株式会社九,")
    lines.append("p5000@firm9.co.jp,同じ人,株式会社九,06-1111-2222")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _job(runtime: Runtime, content: bytes) -> int:
    with runtime.factory() as session, session.begin():
        job = submit(
            session,
            kind="leads",
            filename="営業リスト.csv",
            content=content,
            mapping=MappingChoice("default"),
            now=runtime.clock.now(),
            actor="cli",
        )
        return job.id


def _die_after(monkeypatch: pytest.MonkeyPatch, chunks: int) -> None:
    real = leadrows.LeadRows.write
    calls = []

    def write(self: leadrows.LeadRows, rows: list) -> None:  # type: ignore[type-arg]
        calls.append(1)
        if len(calls) > chunks:
            raise Killed
        real(self, rows)

    monkeypatch.setattr(leadrows.LeadRows, "write", write)


def _counts(session: Session) -> tuple[int, int]:
    leads = session.scalar(select(func.count()).select_from(Lead)) or 0
    created = session.scalar(
        select(func.count()).select_from(LeadEvent).where(LeadEvent.kind == "created")
    )
    return leads, created or 0


def test_a_job_stopped_mid_file_goes_on_from_its_last_committed_chunk(
    runtime: Runtime, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(runtime.clock, FixedClock)
    runtime.settings.import_chunk_size = 50
    job_id = _job(runtime, _file(tmp_path, 400))
    _die_after(monkeypatch, 3)
    with pytest.raises(Killed):
        run_job(runtime.factory, runtime.settings, runtime.clock, job_id, who="other-host:1:a")
    monkeypatch.undo()
    job = session.get_one(ImportJob, job_id)
    assert (job.state, job.rows_done, job.claimed_by) == ("running", 150, "other-host:1:a")
    assert _counts(session) == (149, 149)  # the held row's lead comes with its last row
    # Another machine's process holds it until its lease runs out.
    assert status_of(job, runtime.clock.now()) == "running"
    with pytest.raises(Conflict, match="is running in process other-host:1:a"):
        run_job(runtime.factory, runtime.settings, runtime.clock, job_id)
    runtime.clock.set(
        runtime.clock.now() + timedelta(seconds=runtime.settings.import_lease_seconds)
    )
    session.expire_all()
    assert status_of(session.get_one(ImportJob, job_id), runtime.clock.now()) == "interrupted"
    assert run_pending_imports(runtime) == 1
    session.rollback()
    session.expire_all()
    job = session.get_one(ImportJob, job_id)
    assert (job.state, job.resumes, job.rows_total, job.rows_taken, job.rows_rejected) == (
        "done",
        1,
        402,
        402,
        0,
    )
    assert _counts(session) == (401, 401)  # every lead once, the repeated one written once
    kept = session.scalar(select(Lead).where(Lead.email == "p5000@firm9.co.jp"))
    assert kept is not None
    assert (kept.last_name, kept.phone) == ("同じ人", "06-1111-2222")
    assert session.get(ImportFile, job_id) is None  # the file is dropped once done
    assert pending(session, runtime.clock.now()) == []


def test_a_job_of_a_process_of_this_machine_that_died_is_resumed_at_once(
    runtime: Runtime, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.settings.import_chunk_size = 50
    job_id = _job(runtime, _file(tmp_path, 120))
    _die_after(monkeypatch, 1)
    dead = f"{socket.gethostname()}:{2**22 + 7}:x"  # a process id no process has
    with pytest.raises(Killed):
        run_job(runtime.factory, runtime.settings, runtime.clock, job_id, who=dead)
    monkeypatch.undo()
    session.expire_all()
    assert status_of(session.get_one(ImportJob, job_id), runtime.clock.now()) == "interrupted"
    summary = run_job(runtime.factory, runtime.settings, runtime.clock, job_id)
    assert (summary.total, summary.taken) == (122, 122)
    session.rollback()  # a fresh snapshot
    assert _counts(session) == (121, 121)


def test_a_live_process_keeps_its_job(runtime: Runtime, session: Session, tmp_path: Path) -> None:
    job_id = _job(runtime, _file(tmp_path, 10))
    alive = f"{socket.gethostname()}:{os.getpid()}:y"
    with runtime.factory() as other, other.begin():
        other.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(state="running", claimed_by=alive, lease_until=runtime.clock.now())
        )
    session.expire_all()
    assert status_of(session.get_one(ImportJob, job_id), runtime.clock.now()) == "running"
    with pytest.raises(Conflict, match=f"running in process {alive}"):
        run_job(runtime.factory, runtime.settings, runtime.clock, job_id)
    assert pending(session, runtime.clock.now()) == []


def test_a_failed_job_keeps_its_file_and_can_be_tried_again(
    runtime: Runtime, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.settings.import_chunk_size = 50
    job_id = _job(runtime, _file(tmp_path, 120))
    real = leadrows.LeadRows.write
    calls = []

    def flaky(self: leadrows.LeadRows, rows: list) -> None:  # type: ignore[type-arg]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        real(self, rows)

    monkeypatch.setattr(leadrows.LeadRows, "write", flaky)
    with pytest.raises(RuntimeError):
        run_job(runtime.factory, runtime.settings, runtime.clock, job_id)
    session.expire_all()
    job = session.get_one(ImportJob, job_id)
    assert (job.state, job.rows_done, job.claimed_by) == ("failed", 50, None)
    assert "the database went away" in (job.error or "")
    assert pending(session, runtime.clock.now()) == []  # a worker does not retry it by itself
    summary = run_job(runtime.factory, runtime.settings, runtime.clock, job_id)
    assert (summary.total, summary.taken, summary.rejected) == (122, 122, 0)
    session.rollback()
    assert _counts(session) == (121, 121)
