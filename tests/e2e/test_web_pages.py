"""The pages over HTTP on both databases: the queue's actions, the lead page, saved views and CSV,
the rules check, an import's dry run and its rejected rows."""

from __future__ import annotations

import csv
import html
import io
from typing import Any

from sqlalchemy import select

from leadops.models import ImportJob, Opportunity, SavedView
from leadops.runtime import Runtime
from tests.webapp import build_org, lead_of, signed_in


def test_the_queue_lists_overdue_first_and_logs_touches_to_an_appointment(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=3)
    rep = signed_in(runtime, org.users["member"])
    page = rep.get("/queue").text
    order = [page.index(f'id="q-{lead}"') for lead in reversed(org.leads)]
    assert order == sorted(order)  # the most overdue first
    lead = org.leads[0]
    for stage in ("touch_1", "touch_2", "touch_3"):
        row = rep.post(
            f"/leads/{lead}/touch",
            data={"channel": "call", "outcome": "no_answer", "view": "queue"},
        )
        assert f'data-stage="{stage}"' in row.text
    row = rep.post(
        f"/leads/{lead}/touch", data={"channel": "call", "outcome": "connected", "view": "queue"}
    )
    assert 'data-stage="connected"' in row.text
    assert "Book appointment" in row.text
    booked = rep.post(f"/leads/{lead}/appointment", data={"view": "queue"})
    assert "Appointment booked." in booked.text
    again = rep.post(f"/leads/{lead}/appointment", data={"view": "queue"})
    assert "already has an open appointment" in again.text
    assert len(session.scalars(select(Opportunity).where(Opportunity.lead_id == lead)).all()) == 1
    assert lead_of(session, lead).lifecycle_stage == "opportunity"
    # Marketing may read the lead but not work it.
    marketing = signed_in(runtime, org.users["marketing"])
    assert (
        marketing.post(
            f"/leads/{lead}/touch", data={"channel": "call", "outcome": "sent"}
        ).status_code
        == 403
    )


def test_the_lead_page_refuses_a_status_without_its_reason_and_names_the_field(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    rep = signed_in(runtime, org.users["member"])
    lead = org.leads[0]
    refused = rep.post(f"/leads/{lead}/status", data={"status": "recycled", "reason": ""})
    assert refused.status_code == 422
    assert "<code>reason</code>" in refused.text
    done = rep.post(f"/leads/{lead}/status", data={"status": "recycled", "reason": "timing"})
    assert done.status_code == 200
    assert "Status: Lead → Recycled" in done.text
    assert lead_of(session, lead).status_reason == "timing"
    page = rep.get(f"/leads/{lead}").text
    assert "timing" in page  # the status event in the timeline, with its reason


def test_filters_saved_views_and_the_csv_export(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=3)
    rep = signed_in(runtime, org.users["member"])
    page = rep.get("/leads?q=顧客1&sort=company").text
    assert "株式会社顧客1" in page
    assert "株式会社顧客2" not in page
    bad = rep.get("/leads?min_score=lots&sort=shoe&created_from=yesterday")
    assert bad.status_code == 422
    for field in ("min_score", "sort", "created_from"):
        assert f"<code>{field}</code>" in bad.text
    saved = rep.post("/leads/views", data={"name": "mine", "query": "q=顧客1&sort=company&junk=1"})
    assert saved.status_code == 303
    rep.post("/leads/views", data={"name": "mine", "query": "q=顧客2"})  # the same name replaces it
    views = session.scalars(select(SavedView)).all()
    assert [(v.name, v.filters) for v in views] == [("mine", {"q": "顧客2"})]
    export = rep.get("/leads.csv?sort=company")
    assert export.headers["content-type"].startswith("text/csv")
    assert export.content.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [r["Company"] for r in rows] == ["株式会社顧客0", "株式会社顧客1", "株式会社顧客2"]


def test_the_rules_check_names_each_errors_line_and_apply_refuses_it(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    marketing = signed_in(runtime, org.users["marketing"])
    document = marketing.get("/rules").text.split(
        'name="document" rows="28" spellcheck="false" class="code" translate="no">'
    )[1]
    text = html.unescape(document.split("</textarea>")[0])
    lines = text.splitlines()
    line = next(i for i, t in enumerate(lines, start=1) if "points:" in t)
    lines[line - 1] = lines[line - 1].split("points:")[0] + "points: lots"
    checked = marketing.post("/rules/check", data={"document": "\n".join(lines)}).text
    assert f"line {line}</a>" in checked
    refused = marketing.post("/rules/apply", data={"document": "\n".join(lines)})
    assert refused.status_code == 422
    assert f"line {line}" in refused.text
    applied = marketing.post(
        "/rules/apply",
        data={"document": text.replace("points: 10", "points: 11", 1), "comment": "a little more"},
    )
    assert applied.headers["location"] == "/rules?applied=2"
    rep = signed_in(runtime, org.users["member"])
    assert rep.post("/rules/apply", data={"document": text}).status_code == 403


def test_an_import_dry_run_previews_and_the_import_keeps_its_rejected_rows(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=0)
    marketing = signed_in(runtime, org.users["marketing"])
    body = (
        "email,company,last_name\nok@firm.co.jp,株式会社オーケー,山田\n"
        "not-an-email,株式会社エヌジー,佐藤\n"
    )
    files = {"file": ("leads.csv", body.encode("shift_jis"), "text/csv")}
    preview = marketing.post("/import", data={"kind": "leads", "dry_run": "1"}, files=files)
    assert preview.status_code == 200
    assert "nothing was written" in preview.text
    assert "<code>email</code>" in preview.text
    assert session.scalars(select(ImportJob)).all() == []
    started = marketing.post("/import", data={"kind": "leads"}, files=files)
    assert started.status_code == 303  # the import was done before the answer (RunAtOnce)
    page = marketing.get(started.headers["location"]).text
    assert "Done" in page
    assert "1 taken" in page
    assert "hx-trigger" not in page  # a finished job is not polled
    session.rollback()  # a new snapshot: the import wrote from another connection
    job = session.scalars(select(ImportJob)).one()
    rejects = marketing.get(f"/import/jobs/{job.id}/rejects.csv").text.lstrip("\ufeff")
    row = next(csv.DictReader(io.StringIO(rejects)))
    assert (row["Row"], row["Field"], row["email"]) == ("3", "email", "not-an-email")
    wrong = marketing.post(
        "/import", data={"kind": "leads"}, files={"file": ("x.pdf", b"%PDF", "application/pdf")}
    )
    assert wrong.status_code == 422
    assert "x.pdf" in wrong.text


def test_a_file_that_cannot_be_read_says_why_in_the_preview_and_on_the_progress_page(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=0)
    marketing = signed_in(runtime, org.users["marketing"])
    broken = {"file": ("broken.xlsx", b"this is not a workbook", "application/octet-stream")}
    preview = marketing.post("/import", data={"kind": "leads", "dry_run": "1"}, files=broken)
    assert preview.status_code == 422
    assert "<code>file</code>" in preview.text
    assert "broken.xlsx" in preview.text
    recognising = marketing.post("/import", data={"kind": "leads"}, files=broken)
    assert recognising.status_code == 422  # its headers are read before the import starts
    assert "not a readable XLSX workbook" in recognising.text
    started = marketing.post("/import", data={"kind": "leads", "mapping": "default"}, files=broken)
    assert started.status_code == 303  # the import was done before the answer (RunAtOnce)
    page = marketing.get(started.headers["location"]).text
    assert "Failed" in page
    assert 'class="error"' in page
    assert "not a readable XLSX workbook" in page


def test_bad_page_and_report_parameters_are_named(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=1)
    rep = signed_in(runtime, org.users["member"])
    for url, field in (
        ("/leads?page=0", "page"),
        ("/leads?page=two", "page"),
        ("/reports/score-jumps?threshold=lots", "threshold"),
    ):
        answer = rep.get(url)
        assert answer.status_code == 422, url
        assert f"<code>{field}</code>" in answer.text
