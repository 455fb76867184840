"""The import page: upload a CSV or XLSX with a preset, the default or an uploaded mapping, preview
it with a dry run, import it with progress, and download the rejected rows (row number, field,
error, raw values).

The page never opens a path it is given: the mapping is a preset's name or the bytes of an uploaded
YAML document, and the data file is saved under a name of the server's own.
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile
import uuid
from functools import partial
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from leadops.cells import csv_row
from leadops.errors import FieldError, NotFound, ValidationFailed
from leadops.ingest.importer import rejects_of, run_import
from leadops.ingest.jobs import MappingChoice, run_job, status_of, submit
from leadops.ingest.mappings import (
    KINDS,
    Mapping,
    MappingError,
    default_mapping,
    mapping_from_text,
    preset,
    presets_for,
)
from leadops.ingest.readers import FileFormatError, read_columns
from leadops.ingest.recognise import Recognition, Unrecognised, recognise, shown
from leadops.models import ImportJob
from leadops.runtime import Runtime
from leadops.web.deps import RunnerDep, RuntimeDep, SessionDep
from leadops.web.exports import CsvEncoding, csv_response
from leadops.web.fields import PathId
from leadops.web.i18n import Translator
from leadops.web.render import render, translator
from leadops.web.security import Importer, require

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)
SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")
AUTO = "auto"
DEFAULT = "default"
#: An uploaded mapping is a few lines of YAML; anything larger is refused before it is parsed.
MAX_MAPPING_BYTES = 100_000
MAX_NAME = 255


def _jobs(session: Session) -> list[ImportJob]:
    return list(
        session.scalars(
            select(ImportJob).order_by(ImportJob.started_at.desc(), ImportJob.id.desc()).limit(20)
        )
    )


@router.get("/import", response_class=HTMLResponse)
def import_page(
    request: Request, session: SessionDep, runtime: RuntimeDep, caller: Importer
) -> HTMLResponse:
    mappings = (AUTO, DEFAULT, *presets_for("leads"))
    jobs = _jobs(session)
    now = runtime.clock.now()
    statuses = {job.id: status_of(job, now) for job in jobs}
    return render(
        request, "import.html", kinds=KINDS, mappings=mappings, jobs=jobs, statuses=statuses
    )


def _refused(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([FieldError(field, message)])


def _name_of(upload: UploadFile | None) -> str | None:
    """The name the browser gave an uploaded file (a label only: nothing is opened by it)."""
    if upload is None or not upload.filename:
        return None
    return upload.filename[-MAX_NAME:]


async def _mapping(
    t: Translator, kind: str, choice: str, upload: UploadFile | None
) -> tuple[Mapping, MappingChoice] | None:
    """The preset chosen, the default, or the uploaded mapping document: never a server path;
    with how the job keeps it. None: the preset the file's headers fit (``auto``, or no
    choice)."""
    choices = (AUTO, DEFAULT, *presets_for(kind))
    if choice not in ("", *choices):
        message = t.gettext(
            "choose one of %(choices)s for %(kind)s, or upload a mapping file",
            choices=", ".join(choices),
            kind=t.gettext(kind),
        )
        raise _refused("mapping", message)
    chosen = choice not in ("", AUTO, DEFAULT)
    name = _name_of(upload)
    if upload is None or name is None:
        if choice in ("", AUTO):
            return None
        named = preset(choice, kind) if chosen else default_mapping(kind)
        return named, MappingChoice(named.name)
    if chosen:
        raise _refused("mapping", t.gettext("choose a preset or upload a mapping file, not both"))
    data = await upload.read(MAX_MAPPING_BYTES + 1)
    uploaded = await run_in_threadpool(_uploaded_mapping, t, kind, data, name)
    return uploaded, MappingChoice(name, data.decode("utf-8-sig"))


def _uploaded_mapping(t: Translator, kind: str, data: bytes, name: str) -> Mapping:
    """A mapping document parsed from the bytes uploaded; its mistakes named by line."""
    if len(data) > MAX_MAPPING_BYTES:
        message = t.gettext(
            "%(name)s is larger than %(limit)s kB: a mapping file is a few lines of YAML",
            name=name,
            limit=t.number(MAX_MAPPING_BYTES // 1000),
        )
        raise _refused("mapping_file", message)
    try:
        return mapping_from_text(data.decode("utf-8-sig"), kind, source=name)
    except UnicodeDecodeError:
        raise _refused("mapping_file", t.gettext("%(name)s is not UTF-8 text", name=name)) from None
    except MappingError as exc:
        line = t.gettext("line %(n)s", n=exc.line) if exc.line else None
        message = ": ".join(part for part in (line, exc.key, exc.message) if part)
        raise _refused("mapping_file", message) from None


def _checked(t: Translator, upload: UploadFile | None) -> tuple[UploadFile, str, str]:
    """The data file, its name and its suffix, when it is one the importer reads."""
    name = _name_of(upload)
    if upload is None or name is None:
        raise _refused("file", t.gettext("choose a CSV or XLSX file"))
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        message = t.gettext(
            "%(name)s: expected %(suffixes)s", name=name, suffixes=", ".join(SUFFIXES)
        )
        raise _refused("file", message)
    return upload, name, suffix


async def _saved(upload: UploadFile, suffix: str) -> Path:
    """The upload in a new directory of its own, under a name the server chose."""
    path = Path(tempfile.mkdtemp(prefix="leadops-upload-")) / f"{uuid.uuid4().hex}{suffix}"
    path.write_bytes(await upload.read())
    return path


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.parent.rmdir()


def _recognised(t: Translator, kind: str, path: Path, name: str) -> Recognition:
    """The preset the file's headers fit; the question for the user when none or two do."""
    try:
        return recognise(read_columns(path), kind, source=name)
    except Unrecognised as exc:
        if exc.candidates:
            message = t.gettext(
                "the headers of %(name)s fit %(presets)s equally: choose one of them as the "
                "column mapping",
                name=name,
                presets=", ".join(exc.candidates),
            )
        else:
            message = t.gettext(
                "no preset recognises the headers of %(name)s (%(headers)s): choose a preset or "
                "upload a mapping file that names them",
                name=name,
                headers=shown(exc.columns),
            )
        raise _refused("mapping", message) from None


@router.post("/import", response_model=None)
async def import_upload(
    request: Request,
    runtime: RuntimeDep,
    runner: RunnerDep,
    caller: Importer,
    kind: Annotated[str, Form()] = "leads",
    mapping: Annotated[str, Form()] = "",
    dry_run: Annotated[str, Form()] = "",
    file: UploadFile | None = None,
    mapping_file: UploadFile | None = None,
) -> Response:
    """A dry run answers with its preview; an import is handed to the app's runner (a thread of
    its own on a real server) and answers with its progress page."""
    t = translator(request)
    if kind not in KINDS:
        raise _refused("kind", t.gettext("expected one of %(choices)s", choices=", ".join(KINDS)))
    given = await _mapping(t, kind, mapping, mapping_file)
    upload, name, suffix = _checked(t, file)
    path = await _saved(upload, suffix)
    recognition = None
    try:
        if given is None:
            recognition = await run_in_threadpool(_recognised, t, kind, path, name)
            resolved, choice = recognition.mapping, MappingChoice(recognition.mapping.name)
        else:
            resolved, choice = given
        if not dry_run:
            ticket = f"web:{caller.email}:{uuid.uuid4().hex[:12]}"
            job_id = await run_in_threadpool(_submit, runtime, ticket, kind, path, name, choice)
            job = partial(_import_job, runtime, ticket, job_id, recognition)
            runner.start(f"import-{ticket}", job)
            return RedirectResponse(
                f"/import/progress/{ticket}",
                status_code=303,
                headers={"HX-Redirect": f"/import/progress/{ticket}"},
            )
        summary = await run_in_threadpool(
            partial(run_import, recognition=recognition, dry_run=True, actor=f"web:{caller.email}"),
            kind,
            path,
            resolved,
            runtime.factory,
            runtime.settings,
            runtime.clock,
        )
    except FileFormatError as exc:
        raise _refused("file", f"{name}: {exc}") from None
    finally:
        _remove(path)
    return render(request, "_import_preview.html", summary=summary, filename=name)


def _submit(
    runtime: Runtime, ticket: str, kind: str, path: Path, name: str, choice: MappingChoice
) -> int:
    """The upload kept as a queued job, so that it is imported even if this server dies first."""
    with runtime.factory() as session, session.begin():
        job = submit(
            session,
            kind=kind,
            filename=name,
            content=path.read_bytes(),
            mapping=choice,
            now=runtime.clock.now(),
            actor=ticket,
        )
        return job.id


def _import_job(
    runtime: Runtime, ticket: str, job_id: int, recognition: Recognition | None = None
) -> None:
    """The import a request started; its job row tells the progress page how it goes (and a
    worker resumes it if this server stops first)."""
    try:
        run_job(runtime.factory, runtime.settings, runtime.clock, job_id, recognition=recognition)
    except Exception:  # noqa: BLE001 - run_job recorded it on the job row, which the page shows
        log.info("import job %s (%s) failed", job_id, ticket, exc_info=True)


@router.get("/import/progress/{ticket}", response_class=HTMLResponse)
def import_progress(
    request: Request, ticket: str, session: SessionDep, runtime: RuntimeDep, caller: Importer
) -> HTMLResponse:
    """The job started under ``ticket`` (polled by the page until it is done)."""
    job = session.scalar(select(ImportJob).where(ImportJob.actor == ticket))
    status = status_of(job, runtime.clock.now()) if job is not None else None
    template = (
        "_import_job.html" if request.headers.get("hx-request") == "true" else "import_job.html"
    )
    return render(request, template, job=job, ticket=ticket, status=status)


@router.get("/import/jobs/{job_id}/rejects.csv", dependencies=[require("ingest")])
def import_rejects(
    request: Request, job_id: PathId, session: SessionDep, encoding: CsvEncoding = "utf-8"
) -> Response:
    """The rows that were not taken: row number, field, error, then the row's own columns."""
    if session.get(ImportJob, job_id) is None:
        raise NotFound(f"no import job {job_id}")
    rejects = rejects_of(session, job_id)
    columns: list[str] = []
    for reject in rejects:
        columns += [c for c in reject.raw if c not in columns]
    out = io.StringIO()
    writer = csv.writer(out)
    t = translator(request)
    writer.writerow(csv_row([t.gettext("Row"), t.gettext("Field"), t.gettext("Error"), *columns]))
    for reject in rejects:
        raw = [reject.raw.get(c, "") for c in columns]
        writer.writerow(csv_row([reject.row_number, reject.field or "", reject.error, *raw]))
    return csv_response(out.getvalue(), f"import-{job_id}-rejects.csv", encoding)
