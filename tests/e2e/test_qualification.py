"""The IS qualification makes a lead an SQL through the product: the API, the CLI and the lead page
keep the answers and move the lifecycle stage through the door; the funnel and KPIs count it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from leadops.cli import app
from leadops.models import LeadEvent, Qualification
from leadops.reports import ReportParams, run_report
from leadops.runtime import Runtime
from leadops.web.app import create_app
from tests.conftest import api_token
from tests.webapp import EMAILS, build_org, lead_of, signed_in

runner = CliRunner()


def lifecycle_events(session: Any, lead_id: int) -> list[LeadEvent]:
    session.rollback()
    return list(
        session.scalars(
            select(LeadEvent)
            .where(LeadEvent.lead_id == lead_id, LeadEvent.kind == "lifecycle_stage")
            .order_by(LeadEvent.id)
        )
    )


def test_the_api_keeps_the_answers_and_makes_the_lead_an_sql(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=2)
    lead, closed = org.leads
    stage_before = lead_of(session, lead).lifecycle_stage
    headers = {"Authorization": f"Bearer {api_token(runtime)}"}
    with TestClient(create_app(runtime), headers=headers) as client:
        body = {"budget": "300万円/年", "timing": "今期中", "by": EMAILS["member"]}
        first = client.post(f"/api/v1/leads/{lead}/qualification", json=body)
        assert first.status_code == 201, first.text
        assert (first.json()["from"], first.json()["to"]) == (stage_before, "sql")
        again = client.post(f"/api/v1/leads/{lead}/qualification", json=body)
        assert again.status_code == 200
        assert again.json()["created"] is False
        assert again.json()["qualification_id"] == first.json()["qualification_id"]

        empty = client.post(f"/api/v1/leads/{lead}/qualification", json={"budget": "  "})
        assert empty.status_code == 422
        assert empty.json()["detail"][0]["path"] == "answers"
        long = client.post(f"/api/v1/leads/{lead}/qualification", json={"need": "x" * 501})
        assert long.status_code == 422
        assert long.json()["detail"][0]["path"] == "need"

        recycled = client.post(
            f"/api/v1/leads/{closed}/status",
            json={"status": "recycled", "reason": "timing", "by": EMAILS["member"]},
        )
        assert recycled.status_code == 200, recycled.text
        refused = client.post(f"/api/v1/leads/{closed}/qualification", json={"note": "予算あり"})
        assert refused.status_code == 409
        assert refused.json()["error"] == "invalid_transition"

    events = lifecycle_events(session, lead)
    assert [(e.from_value, e.to_value) for e in events][-1] == (stage_before, "sql")
    assert events[-1].reason == "qualified: budget 300万円/年; timing 今期中"
    assert (events[-1].actor_kind, events[-1].actor_ref) == ("user", str(org.users["member"]))
    kept = session.scalars(select(Qualification).where(Qualification.lead_id == lead)).all()
    assert [(q.budget, q.timing, q.user_id) for q in kept] == [
        ("300万円/年", "今期中", org.users["member"])
    ]
    assert not session.scalars(select(Qualification).where(Qualification.lead_id == closed)).all()

    now = runtime.clock.now()
    params = ReportParams(start=now - timedelta(days=30), end=now + timedelta(days=1), now=now)
    funnel = {r["stage"]: r for r in run_report(session, "funnel", params).as_dicts()}
    assert funnel["sql"]["leads"] == 1
    kpis = run_report(session, "kpis", params).as_dicts()
    assert sum(r["sql"] for r in kpis if r["period"] != "total") == 1


def test_a_later_stage_is_kept_and_the_answers_are_still_recorded(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    lead = org.leads[0]
    rep = signed_in(runtime, org.users["member"])
    booked = rep.post(f"/leads/{lead}/appointment", data={})
    assert "Appointment booked." in booked.text
    page = rep.post(f"/leads/{lead}/qualification", data={"authority": "部長が決裁"})
    assert page.status_code == 200
    assert "Qualified: Opportunity → Opportunity" in page.text
    assert lead_of(session, lead).lifecycle_stage == "opportunity"
    assert [e.to_value for e in lifecycle_events(session, lead)][-1] == "opportunity"


def test_the_lead_page_has_the_form_and_shows_the_answers(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=1)
    lead = org.leads[0]
    rep = signed_in(runtime, org.users["member"])
    assert f'action="/leads/{lead}/qualification"' in rep.get(f"/leads/{lead}").text
    done = rep.post(
        f"/leads/{lead}/qualification", data={"budget": "500万円以上", "need": "架電の効率化"}
    )
    assert "→ SQL" in done.text  # the stage in words
    assert "budget: 500万円以上; need: 架電の効率化" in done.text
    refused = rep.post(f"/leads/{lead}/qualification", data={})
    assert refused.status_code == 422
    assert "answers" in refused.text
    marketing = signed_in(runtime, org.users["marketing"])
    assert marketing.post(f"/leads/{lead}/qualification", data={"note": "x"}).status_code == 403
    assert lead_of(session, lead).lifecycle_stage == "sql"


def test_the_cli_qualifies_as_the_lead_owner(
    runtime: Runtime, session: Any, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = build_org(session, runtime, leads=1)
    lead = org.leads[0]
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    done = runner.invoke(app, ["qualify", str(lead), "--budget", "100万円", "--timing", "来期"])
    assert done.exit_code == 0, done.output
    assert "→ sql" in done.output
    again = runner.invoke(app, ["qualify", str(lead), "--budget", "100万円", "--timing", "来期"])
    assert "recorded before" in again.output
    nothing = runner.invoke(app, ["qualify", str(lead)])
    assert nothing.exit_code != 0
    assert "answers" in nothing.output
    event = lifecycle_events(session, lead)[-1]
    assert (event.to_value, event.actor_ref) == ("sql", str(org.users["member"]))
