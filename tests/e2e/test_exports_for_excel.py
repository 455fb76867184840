"""Every CSV the app sends opens in Excel as it should: UTF-8 with a BOM by default, Shift_JIS on
request (what it cannot hold replaced, never refused), times local to the second, labels in the
reader's language rather than codes."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy.orm import Session

from leadops.models import ImportJob, ImportReject, Lead
from leadops.reports import REPORTS
from leadops.runtime import Runtime
from tests.webapp import build_org, signed_in

BOM = b"\xef\xbb\xbf"
MICROSECONDS = re.compile(r"\d{2}:\d{2}:\d{2}\.\d+|\+\d{2}:\d{2}\b")
CODES = ("touch_stage", "last_name", "last_activity_at", "untouched", "touch_1")


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _japanese(runtime: Runtime, session: Session) -> tuple[object, list[int], int]:
    org = build_org(session, runtime)
    for lead_id in org.leads:
        session.get_one(Lead, lead_id).company = "髙橋～①㈱"  # outside plain Shift_JIS: ～ ① ㈱ 髙
    session.commit()
    client = signed_in(runtime, org.users["manager"])
    return client, org.leads, org.users["marketing"]


def test_leads_csv_is_utf8_with_a_bom_in_japanese_with_local_times(
    runtime: Runtime, session: Session
) -> None:
    client, leads, _ = _japanese(runtime, session)
    answer = client.get("/leads.csv?lang=ja")  # type: ignore[attr-defined]
    assert answer.status_code == 200
    assert answer.content.startswith(BOM)
    assert answer.content.count(BOM) == 1
    text = answer.content.decode("utf-8-sig")
    rows = _rows(text)
    assert rows[0][:3] == ["ID", "タッチステージ", "会社名"]
    assert len(rows) == len(leads) + 1
    assert not MICROSECONDS.search(text)
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", text)
    assert not any(code in cell for row in rows for cell in row for code in CODES)


def test_leads_csv_in_shift_jis_replaces_what_it_cannot_hold(
    runtime: Runtime, session: Session
) -> None:
    client, leads, _ = _japanese(runtime, session)
    answer = client.get("/leads.csv?lang=ja&encoding=shift_jis")  # type: ignore[attr-defined]
    assert answer.status_code == 200
    assert "shift_jis" in answer.headers["content-type"].lower()
    assert not answer.content.startswith(BOM)
    text = answer.content.decode("cp932")  # Shift_JIS as Excel in Japan writes it
    assert "タッチステージ" in text
    assert "髙橋～①㈱" in text  # Windows' Shift_JIS holds these; a strict one would have said ?
    refused = client.get("/leads.csv?encoding=latin-1")  # type: ignore[attr-defined]
    assert refused.status_code == 422


def test_every_report_csv_has_a_bom_and_times_to_the_second(
    runtime: Runtime, session: Session
) -> None:
    client, _, _ = _japanese(runtime, session)
    for name in sorted(REPORTS):
        answer = client.get(f"/api/v1/reports/{name}?format=csv")  # type: ignore[attr-defined]
        assert answer.status_code == 200, name
        assert answer.content.startswith(BOM), name
        assert not MICROSECONDS.search(answer.content.decode("utf-8-sig")), name
        sjis = client.get(f"/api/v1/reports/{name}?format=csv&encoding=shift_jis")  # type: ignore[attr-defined]
        assert sjis.status_code == 200, name
        sjis.content.decode("cp932")


def test_rejects_csv_has_a_bom_and_shift_jis_on_request(runtime: Runtime, session: Session) -> None:
    org = build_org(session, runtime)
    now = runtime.clock.now()
    job = ImportJob(kind="leads", filename="x.csv", state="done", started_at=now)
    session.add(job)
    session.flush()
    session.add(
        ImportReject(
            job_id=job.id,
            row_number=2,
            field="email",
            error="not an e-mail",
            raw={"company": "株式会社①"},
        )
    )
    session.commit()
    client = signed_in(runtime, org.users["marketing"])
    answer = client.get(f"/import/jobs/{job.id}/rejects.csv?lang=ja")
    assert answer.content.startswith(BOM)
    sjis = client.get(f"/import/jobs/{job.id}/rejects.csv?encoding=shift_jis")
    assert "株式会社①" in sjis.content.decode("cp932")
