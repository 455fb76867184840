"""The import page on both databases: the mapping is a preset or an uploaded document, never a
path on the server; the background import is done by the app's runner, which the tests drive."""

from __future__ import annotations

import builtins
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from leadops.errors import LeadopsError
from leadops.models import ImportJob, Lead, User
from leadops.runtime import Runtime
from tests.webapp import Pending, build_org, signed_in

CSV = "Mail,Firma,Nachname\nok@firm.co.jp,株式会社オーケー,山田\n"
MAPPING = "kind: leads\ncolumns:\n  email: Mail\n  company: Firma\n  last_name: Nachname\n"


def _files(mapping: str | bytes | None = None) -> dict[str, tuple[str, bytes, str]]:
    files = {"file": ("leads.csv", CSV.encode(), "text/csv")}
    if mapping is not None:
        data = mapping.encode() if isinstance(mapping, str) else mapping
        files["mapping_file"] = ("my-mapping.yaml", data, "application/x-yaml")
    return files


def _database_file(runtime: Runtime) -> Path:
    """The file the database lives in: SQLite's own file, or a file of PostgreSQL's data
    directory (the tests' server runs on this machine)."""
    url = make_url(runtime.settings.database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        return Path(url.database)
    with runtime.engine.connect() as connection:
        directory = connection.execute(text("SHOW data_directory")).scalar_one()
    return Path(directory) / "PG_VERSION"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A file on the server that a YAML parser would quote in its error."""
    path = tmp_path / "outside" / "secret.yaml"
    path.parent.mkdir()
    path.write_text("columns: [TOP-SECRET-LINE\n", encoding="utf-8")
    return path


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> tuple[set[str], list[str]]:
    """Paths nobody may open or look at while the test runs: every attempt is refused and
    recorded."""
    paths: set[str] = set()
    touched: list[str] = []

    def guard(function: Callable[..., Any]) -> Callable[..., Any]:
        def guarded_call(target: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(target, str | bytes | os.PathLike):
                where = os.path.normpath(os.path.abspath(os.fsdecode(target)))
                if where in paths:
                    touched.append(f"{function.__name__}({where})")
                    raise PermissionError(where)
            return function(target, *args, **kwargs)

        return guarded_call

    monkeypatch.setattr(builtins, "open", guard(builtins.open))
    monkeypatch.setattr(io, "open", guard(io.open))
    monkeypatch.setattr(os, "open", guard(os.open))
    monkeypatch.setattr(os, "stat", guard(os.stat))
    return paths, touched


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/passwd", "database", "secret"])
@pytest.mark.parametrize("dry_run", ["1", ""])
def test_the_mapping_field_opens_no_path_on_the_server(
    runtime: Runtime,
    session: Any,
    guarded: tuple[set[str], list[str]],
    secret_file: Path,
    target: str,
    dry_run: str,
) -> None:
    org = build_org(session, runtime, leads=3)
    marketing = signed_in(runtime, org.users["marketing"])
    database = _database_file(runtime)
    given = {"database": str(database), "secret": str(secret_file)}.get(target, target)
    paths, touched = guarded
    paths |= {"/etc/passwd", str(database), str(secret_file), os.path.abspath(given)}
    answer = marketing.post(
        "/import", data={"kind": "leads", "mapping": given, "dry_run": dry_run}, files=_files()
    )
    paths.clear()
    assert answer.status_code == 422
    assert "<code>mapping</code>" in answer.text
    choices = "auto, default, salesforce, hubspot, marketo, sansan, eight, satori, japanese"
    assert f"choose one of {choices} for" in answer.text
    for part in ("root:", "SQLite format 3", "TOP-SECRET"):
        assert part not in answer.text
    assert touched == []
    fresh = Runtime.create(runtime.settings, runtime.clock)  # a new connection reads the disk
    try:
        with fresh.factory() as check:
            assert check.scalar(select(func.count()).select_from(Lead)) == 3
            assert check.scalar(select(func.count()).select_from(User)) == len(org.users)
            assert check.scalar(select(func.count()).select_from(ImportJob)) == 0
            if fresh.engine.dialect.name == "sqlite":
                assert check.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    finally:
        fresh.close()


def test_the_mapping_refusal_speaks_the_users_language(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=0)
    marketing = signed_in(runtime, org.users["marketing"])
    answer = marketing.post(
        "/import?lang=ja", data={"kind": "deals", "mapping": "/etc/passwd"}, files=_files()
    )
    assert answer.status_code == 422
    assert "<code>mapping</code>" in answer.text
    assert "auto, default, salesforce, hubspot のいずれかを選ぶか" in answer.text


def test_a_preset_of_another_kind_or_a_preset_with_an_upload_is_refused(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=0)
    marketing = signed_in(runtime, org.users["marketing"])
    other_kind = marketing.post("/import", data={"kind": "deals", "mapping": "marketo"})
    assert other_kind.status_code == 422
    assert "choose one of auto, default, salesforce, hubspot for Deals" in other_kind.text
    both = marketing.post(
        "/import", data={"kind": "leads", "mapping": "salesforce"}, files=_files(MAPPING)
    )
    assert both.status_code == 422
    assert "<code>mapping</code>: choose a preset or upload a mapping file, not both" in both.text


def test_an_uploaded_mapping_reads_the_files_columns(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=0)
    marketing = signed_in(runtime, org.users["marketing"])
    default = marketing.post(
        "/import", data={"kind": "leads", "mapping": "default", "dry_run": "1"}, files=_files()
    )
    assert "0 would be taken" in default.text  # without the mapping no column is an e-mail
    assert "Not read by the mapping, kept as custom fields: Mail, Firma, Nachname" in default.text
    unknown = marketing.post("/import", data={"kind": "leads", "dry_run": "1"}, files=_files())
    assert unknown.status_code == 422
    assert (
        "<code>mapping</code>: no preset recognises the headers of leads.csv (Mail, Firma, "
        "Nachname)" in unknown.text
    )
    preview = marketing.post(
        "/import",
        data={"kind": "leads", "mapping": "default", "dry_run": "1"},
        files=_files(MAPPING),
    )
    assert preview.status_code == 200
    assert "1 rows: 1 would be taken" in preview.text
    assert session.scalars(select(ImportJob)).all() == []
    started = marketing.post("/import", data={"kind": "leads"}, files=_files(MAPPING))
    assert "1 taken" in marketing.get(started.headers["location"]).text
    session.rollback()  # a new snapshot: the import wrote from another connection
    job = session.scalars(select(ImportJob)).one()
    assert (job.mapping, job.rows_taken) == ("my-mapping.yaml", 1)
    lead = session.scalars(select(Lead)).one()
    assert (lead.email, lead.company, lead.last_name) == (
        "ok@firm.co.jp",
        "株式会社オーケー",
        "山田",
    )


@pytest.mark.parametrize(
    ("mapping", "said"),
    [
        (MAPPING.replace("email:", "emali:"), "line 3: columns.emali: not a field of leads"),
        ("kind: leads\ncolumns: [TOP-SECRET\n", "line 3: not valid YAML: expected"),
        ("kind: deals\n", "line 1: kind: kind is &#39;deals&#39; but this is an import of leads"),
        ("kind: leads\nbase: &b {email: Mail}\ncolumns: *b\n", "line 2: anchors and aliases"),
        ("columns:\n  email: [1, 2]\n", "line 2: columns.email: expected a column name or a list"),
        ("- email\n", "a mapping file is a YAML object"),
        ("kind: leads\n".encode("utf-16"), "my-mapping.yaml is not UTF-8 text"),
        (b"#" * 100_001, "my-mapping.yaml is larger than 100 kB"),
    ],
)
def test_an_uploaded_mapping_with_a_mistake_names_its_line(
    runtime: Runtime, session: Any, mapping: str | bytes, said: str
) -> None:
    org = build_org(session, runtime, leads=0)
    marketing = signed_in(runtime, org.users["marketing"])
    for dry_run in ("1", ""):
        answer = marketing.post(
            "/import", data={"kind": "leads", "dry_run": dry_run}, files=_files(mapping)
        )
        assert answer.status_code == 422
        assert f"<code>mapping_file</code>: {said}" in answer.text
        assert "TOP-SECRET" not in answer.text  # the parser's excerpt of the text is not shown
    assert session.scalars(select(ImportJob)).all() == []


def test_the_progress_page_polls_until_the_job_has_run(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=0)
    pending = Pending()
    marketing = signed_in(runtime, org.users["marketing"], runner=pending)
    started = marketing.post(
        "/import", data={"kind": "leads", "mapping": "default"}, files=_files()
    )
    assert started.status_code == 303
    progress = started.headers["location"]
    waiting = marketing.get(progress, headers={"HX-Request": "true"}).text
    assert "Starting…" in waiting
    assert f'hx-get="{progress}"' in waiting  # the page asks again
    assert pending.run() == 1
    done = marketing.get(progress, headers={"HX-Request": "true"}).text
    assert "Done" in done
    assert "1 rows read" in done
    assert "hx-get" not in done  # and stops asking once the job is over


def test_a_job_that_fails_before_it_begins_is_shown_as_failed(
    runtime: Runtime, session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cannot_start(*args: Any, **kwargs: Any) -> None:
        raise LeadopsError("the database is not reachable")

    org = build_org(session, runtime, leads=0)
    pending = Pending()
    marketing = signed_in(runtime, org.users["marketing"], runner=pending)
    monkeypatch.setattr("leadops.ingest.jobs.run_import", cannot_start)
    started = marketing.post(
        "/import", data={"kind": "leads", "mapping": "default"}, files=_files()
    )
    assert "Starting…" in marketing.get(started.headers["location"]).text
    assert pending.run() == 1
    page = marketing.get(started.headers["location"]).text
    assert "Failed" in page
    assert "the database is not reachable" in page
    session.rollback()
    job = session.scalars(select(ImportJob)).one()
    assert (job.state, job.filename) == ("failed", "leads.csv")


def test_an_excel_list_with_japanese_headers_is_recognised_on_the_page(
    runtime: Runtime, session: Any
) -> None:
    """Before, this file said "email: missing" on every row, with no hint of why."""
    org = build_org(session, runtime, leads=0)
    marketing = signed_in(runtime, org.users["marketing"])
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "imports" / "japanese_list.xlsx"
    upload = {"file": ("リスト.xlsx", fixture.read_bytes(), "application/octet-stream")}
    preview = marketing.post("/import", data={"kind": "leads", "dry_run": "1"}, files=upload)
    assert preview.status_code == 200
    assert "12 rows: 12 would be taken" in preview.text
    assert (
        "Column mapping japanese, recognised from the headers: recognised as japanese: it reads "
        "8 of the file&#39;s 8 columns." in preview.text
    )
    ambiguous = {"file": ("x.csv", b"Email,Lead Source,Lead Status\na@x.co.jp,Web,New\n", "")}
    asked = marketing.post("/import", data={"kind": "leads", "mapping": "auto"}, files=ambiguous)
    assert asked.status_code == 422
    assert "the headers of x.csv fit salesforce, marketo equally" in asked.text
    assert session.scalars(select(ImportJob)).all() == []
