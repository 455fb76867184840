"""The import page: upload a CSV or XLSX with a preset or the default mapping, preview it with a dry
run, import it with progress, and download the rejected rows (row number, field, error, raw values).
"""

from __future__ import annotations

import csv
import io
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.errors import FieldError, NotFound, ValidationFailed
from leadops.ingest.importer import rejects_of, run_import
from leadops.ingest.mappings import KINDS, PRESETS, MappingError, resolve_mapping
from leadops.ingest.readers import FileFormatError
from leadops.models import ImportJob
from leadops.runtime import Runtime
from leadops.web.deps import RuntimeDep, SessionDep
from leadops.web.fields import PathId
from leadops.web.render import render
from leadops.web.security import Importer, require

router = APIRouter(include_in_schema=False)
SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")


def _jobs(session: Session) -> list[ImportJob]:
    return list(
        session.scalars(
            select(ImportJob).order_by(ImportJob.started_at.desc(), ImportJob.id.desc()).limit(20)
        )
    )


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, session: SessionDep, caller: Importer) -> HTMLResponse:
    return render(request, "import.html", kinds=KINDS, presets=PRESETS, jobs=_jobs(session))


async def _saved(upload: UploadFile | None, directory: Path) -> Path:
    if upload is None or not upload.filename:
        raise ValidationFailed([FieldError("file", "choose a CSV or XLSX file")])
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationFailed(
            [FieldError("file", f"{upload.filename}: expected {', '.join(SUFFIXES)}")]
        )
    path = directory / f"{uuid.uuid4().hex}{suffix}"
    path.write_bytes(await upload.read())
    return path


@router.post("/import", response_model=None)
async def import_upload(
    request: Request,
    runtime: RuntimeDep,
    caller: Importer,
    kind: Annotated[str, Form()] = "leads",
    mapping: Annotated[str, Form()] = "",
    dry_run: Annotated[str, Form()] = "",
    file: UploadFile | None = None,
) -> Response:
    """A dry run answers with its preview; an import starts in the background and shows its
    progress."""
    if kind not in KINDS:
        raise ValidationFailed(
            [FieldError("kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")]
        )
    try:
        resolved = resolve_mapping(mapping or None, kind)
    except MappingError as exc:
        raise ValidationFailed([FieldError("mapping", str(exc))]) from None
    directory = Path(tempfile.mkdtemp(prefix="leadops-upload-"))
    path = await _saved(file, directory)
    name = file.filename if file is not None else path.name
    if dry_run:
        from starlette.concurrency import run_in_threadpool

        try:
            summary = await run_in_threadpool(
                run_import,
                kind,
                path,
                resolved,
                runtime.factory,
                runtime.settings,
                runtime.clock,
                dry_run=True,
                actor=f"web:{caller.email}",
            )
        except FileFormatError as exc:
            raise ValidationFailed([FieldError("file", f"{name}: {exc}")]) from None
        finally:
            path.unlink(missing_ok=True)
            directory.rmdir()
        return render(request, "_import_preview.html", summary=summary, filename=name)
    ticket = f"web:{caller.email}:{uuid.uuid4().hex[:12]}"

    def work() -> None:
        try:
            run_import(
                kind, path, resolved, runtime.factory, runtime.settings, runtime.clock, actor=ticket
            )
        except Exception as exc:  # noqa: BLE001 - reported on the progress page through the job row
            _record_failure(runtime, ticket, kind, name, exc)
        finally:
            path.unlink(missing_ok=True)
            directory.rmdir()

    threading.Thread(target=work, name=f"import-{ticket}", daemon=True).start()
    return RedirectResponse(
        f"/import/progress/{ticket}",
        status_code=303,
        headers={"HX-Redirect": f"/import/progress/{ticket}"},
    )


def _record_failure(
    runtime: Runtime, ticket: str, kind: str, filename: str | None, exc: Exception
) -> None:
    """A job that failed keeps its error; one that failed before it began (a file that cannot be
    read at all) gets a job row that says why, so its progress page does not wait for ever."""
    with runtime.factory() as session, session.begin():
        job = session.scalar(select(ImportJob).where(ImportJob.actor == ticket))
        if job is None:
            now = runtime.clock.now()
            session.add(
                ImportJob(
                    kind=kind,
                    filename=filename,
                    dry_run=False,
                    state="failed",
                    actor=ticket,
                    error=str(exc),
                    started_at=now,
                    finished_at=now,
                    rows_total=0,
                    rows_taken=0,
                    rows_unchanged=0,
                    rows_rejected=0,
                    rows_flagged=0,
                )
            )


@router.get("/import/progress/{ticket}", response_class=HTMLResponse)
def import_progress(
    request: Request, ticket: str, session: SessionDep, caller: Importer
) -> HTMLResponse:
    """The job started under ``ticket`` (polled by the page until it is done)."""
    job = session.scalar(select(ImportJob).where(ImportJob.actor == ticket))
    template = (
        "_import_job.html" if request.headers.get("hx-request") == "true" else "import_job.html"
    )
    return render(request, template, job=job, ticket=ticket)


@router.get("/import/jobs/{job_id}/rejects.csv", dependencies=[require("ingest")])
def import_rejects(job_id: PathId, session: SessionDep) -> Response:
    """The rows that were not taken: row number, field, error, then the row's own columns."""
    if session.get(ImportJob, job_id) is None:
        raise NotFound(f"no import job {job_id}")
    rejects = rejects_of(session, job_id)
    columns: list[str] = []
    for reject in rejects:
        columns += [c for c in reject.raw if c not in columns]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "field", "error", *columns])
    for reject in rejects:
        raw = [reject.raw.get(c, "") for c in columns]
        writer.writerow([reject.row_number, reject.field or "", reject.error, *raw])
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-rejects.csv"'},
    )
