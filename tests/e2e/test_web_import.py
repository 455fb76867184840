"""The import page on both databases: the background import is done by the app's runner, which
the tests drive."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from leadops.errors import LeadopsError
from leadops.models import ImportJob
from leadops.runtime import Runtime
from leadops.web.pages import imports
from tests.webapp import Pending, build_org, signed_in

CSV = "Mail,Firma,Nachname\nok@firm.co.jp,株式会社オーケー,山田\n"
MAPPING = "kind: leads\ncolumns:\n  email: Mail\n  company: Firma\n  last_name: Nachname\n"


def _files(mapping: str | bytes | None = None) -> dict[str, tuple[str, bytes, str]]:
    files = {"file": ("leads.csv", CSV.encode(), "text/csv")}
    if mapping is not None:
        data = mapping.encode() if isinstance(mapping, str) else mapping
        files["mapping_file"] = ("my-mapping.yaml", data, "application/x-yaml")
    return files


def test_the_progress_page_polls_until_the_job_has_run(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=0)
    pending = Pending()
    marketing = signed_in(runtime, org.users["marketing"], runner=pending)
    started = marketing.post("/import", data={"kind": "leads"}, files=_files())
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
    monkeypatch.setattr(imports, "run_import", cannot_start)
    started = marketing.post("/import", data={"kind": "leads"}, files=_files())
    assert "Starting…" in marketing.get(started.headers["location"]).text
    assert pending.run() == 1
    page = marketing.get(started.headers["location"]).text
    assert "Failed" in page
    assert "the database is not reachable" in page
    session.rollback()
    job = session.scalars(select(ImportJob)).one()
    assert (job.state, job.filename) == ("failed", "leads.csv")
