"""Field sales update their opportunities through the API and the CLI: stage, amount, expected
close, owner, won / lost; every change in the history; won makes the lead a customer; the pipeline
and kpis reports show it at once; bad input names its field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from leadops.cli import app
from leadops.models import Opportunity, Team
from leadops.runtime import Runtime
from tests.factories import make_user
from tests.webapp import build_org, lead_of, signed_in

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "org.yaml"
FIELD = "ishii@example.co.jp"  # 本社営業本部法人営業部 (sales)
OSAKA = "matsui@example.co.jp"  # 大阪支社営業部 (sales)
IS_REP = "hasegawa@example.co.jp"  # inside sales
runner = CliRunner()


def _lead(client: TestClient, email: str) -> None:
    answer = client.put("/api/v1/leads", json={"email": email, "company": "メーカー"})
    assert answer.status_code in (200, 201)


def _pipeline(client: TestClient) -> dict[str, dict[str, Any]]:
    rows = client.get("/api/v1/reports/pipeline").json()["rows"]
    return {r["stage"]: r for r in rows}


def _kpis_total(client: TestClient) -> dict[str, Any]:
    rows: list[dict[str, Any]] = client.get("/api/v1/reports/kpis").json()["rows"]
    return rows[-1]


def test_an_opportunity_through_the_api(
    client: TestClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    assert runner.invoke(app, ["org", "apply", str(EXAMPLE)]).exit_code == 0
    email = "tanaka@maker.co.jp"
    _lead(client, email)

    booked = client.post(
        f"/api/v1/leads/{email}/appointments",
        json={"by": IS_REP, "amount": 1_200_000, "owner": FIELD},
    )
    assert booked.status_code == 201, booked.text
    opp_id = booked.json()["opportunity_id"]
    [opp] = client.get(f"/api/v1/leads/{email}/opportunities").json()
    assert (opp["stage"], opp["amount"], opp["owner"], opp["sdr"]) == (
        "to_contact",
        1_200_000,
        FIELD,
        IS_REP,
    )
    assert [e["kind"] for e in opp["history"]] == ["stage", "amount", "owner"]
    assert _pipeline(client)["to_contact"]["amount"] == 1_200_000

    url = f"/api/v1/opportunities/{opp_id}"
    moved = client.patch(
        url,
        json={
            "stage": "proposal_sent",
            "amount": 1_500_000,
            "expected_close_on": "2026-12-25",
            "owner": OSAKA,
            "by": FIELD,
        },
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["changed"] == ["stage", "amount", "expected_close_on", "owner"]
    assert body["opportunity"]["expected_close_on"] == "2026-12-25"
    history = body["opportunity"]["history"][-4:]
    assert [(e["kind"], e["from"], e["to"]) for e in history] == [
        ("stage", "to_contact", "proposal_sent"),
        ("amount", "1200000.00", "1500000.00"),
        ("expected_close_on", None, "2026-12-25"),
        ("owner", FIELD, OSAKA),
    ]
    assert all(e["actor"].startswith("user:") for e in history)
    for seller in (FIELD, OSAKA):  # each owner is told the opportunity is theirs
        box = client.get("/api/v1/notifications", params={"user": seller}).json()
        assigned = [n for n in box if n["template"] == "opportunity_assigned"]
        assert [n["payload"]["opportunity_id"] for n in assigned] == [opp_id]
    pipeline = _pipeline(client)
    assert pipeline["proposal_sent"]["opportunities"] == 1
    assert pipeline["to_contact"]["opportunities"] == 0
    again = client.patch(url, json={"stage": "proposal_sent", "amount": 1_500_000})
    assert again.json()["changed"] == []  # the same values again record nothing

    assert _kpis_total(client)["won"] == 0
    won = client.patch(url, json={"outcome": "won", "reason": "価格で合意"})
    assert won.status_code == 200
    assert won.json()["lifecycle_stage"] == "customer"
    lead = client.get(f"/api/v1/leads/{email}").json()
    assert lead["lead"]["lifecycle_stage"] == "customer"
    event = next(e for e in lead["events"] if e["kind"] == "lifecycle_stage")
    assert (event["from"], event["to"]) == ("opportunity", "customer")
    assert _pipeline(client)["won"]["amount"] == 1_500_000
    kpis = _kpis_total(client)
    assert (kpis["won"], kpis["average_deal_size"]) == (1, 1_500_000)

    # Closed: moving it elsewhere needs reopen; reopened, the lead stays a customer.
    refused = client.patch(url, json={"stage": "follow_up"})
    assert refused.status_code == 409
    assert refused.json()["detail"][0]["path"] == "stage"
    reopened = client.patch(url, json={"stage": "follow_up", "reopen": True})
    assert reopened.status_code == 200
    assert reopened.json()["lifecycle_stage"] == "customer"
    assert reopened.json()["opportunity"]["closed_at"] is None


@pytest.mark.parametrize(
    ("patch", "status", "path"),
    [
        ({"stage": "negotiation"}, 422, "stage"),
        ({"amount": -1}, 422, "amount"),
        ({"owner": "nobody@example.co.jp"}, 422, "owner"),
        ({"owner": IS_REP}, 422, "owner"),  # inside sales, not field sales
        ({"outcome": "lost"}, 422, "reason"),
        ({"outcome": "lost", "stage": "won", "reason": "x"}, 422, "stage"),
        ({"expected_close_on": "2026-02-30"}, 422, "expected_close_on"),
    ],
)
def test_bad_updates_name_their_field(
    client: TestClient,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    patch: dict[str, Any],
    status: int,
    path: str,
) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    assert runner.invoke(app, ["org", "apply", str(EXAMPLE)]).exit_code == 0
    _lead(client, "bad@maker.co.jp")
    opp_id = client.post("/api/v1/leads/bad@maker.co.jp/appointments", json={"by": IS_REP}).json()[
        "opportunity_id"
    ]
    answer = client.patch(f"/api/v1/opportunities/{opp_id}", json=patch)
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"][0]["path"].split(".")[-1] == path
    [opp] = client.get("/api/v1/leads/bad@maker.co.jp/opportunities").json()
    assert opp["stage"] == "to_contact"  # nothing was kept
    assert len(opp["history"]) == 1


def test_booking_refuses_a_bad_amount_or_owner(
    client: TestClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    assert runner.invoke(app, ["org", "apply", str(EXAMPLE)]).exit_code == 0
    _lead(client, "book@maker.co.jp")
    url = "/api/v1/leads/book@maker.co.jp/appointments"
    negative = client.post(url, json={"by": IS_REP, "amount": -5})
    assert (negative.status_code, negative.json()["detail"][0]["path"]) == (422, "amount")
    stranger = client.post(url, json={"by": IS_REP, "owner": "ghost@example.co.jp"})
    assert (stranger.status_code, stranger.json()["detail"][0]["path"]) == (422, "owner")
    assert client.get("/api/v1/leads/book@maker.co.jp/opportunities").json() == []
    assert client.patch("/api/v1/opportunities/999999", json={}).status_code == 404


def test_an_opportunity_from_the_cli(
    client: TestClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    assert runner.invoke(app, ["org", "apply", str(EXAMPLE)]).exit_code == 0
    email = "suzuki@shoji.co.jp"
    _lead(client, email)
    booked = runner.invoke(
        app, ["appointment", email, "--by", IS_REP, "--amount", "800000", "--owner", FIELD]
    )
    assert booked.exit_code == 0, booked.output
    [opp] = client.get(f"/api/v1/leads/{email}/opportunities").json()
    assert (opp["amount"], opp["owner"]) == (800_000, FIELD)
    oid = str(opp["id"])

    updated = runner.invoke(
        app,
        ["opportunity", "update", oid, "--stage", "contacted", "--close", "2027-01-15"]
        + ["--by", FIELD],
    )
    assert updated.exit_code == 0, updated.output
    assert "stage, expected_close_on changed" in updated.output
    no_reason = runner.invoke(app, ["opportunity", "update", oid, "--lost"])
    assert no_reason.exit_code == 2
    assert "reason" in no_reason.output
    bad_date = runner.invoke(app, ["opportunity", "update", oid, "--close", "soon"])
    assert bad_date.exit_code == 2
    assert "close" in bad_date.output
    lost = runner.invoke(app, ["opportunity", "update", oid, "--lost", "--reason", "予算なし"])
    assert lost.exit_code == 0, lost.output
    listed = runner.invoke(app, ["opportunity", "list", email])
    assert "stage: contacted → lost (予算なし)" in listed.output
    assert _pipeline(client)["lost"]["opportunities"] == 1
    lead = client.get(f"/api/v1/leads/{email}").json()["lead"]
    assert lead["lifecycle_stage"] == "opportunity"  # lost: not a customer
    # The rules' lost → recycled conversion: back to marketing nurture with the deal's reason.
    assert (lead["status"], lead["status_reason"]) == ("recycled", "lost: 予算なし")
    assert lead["team"] == "マーケティング部"


def test_the_lead_page_books_and_updates_an_opportunity(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=1)
    sales = Team(name="法人営業", kind="sales", created_at=runtime.clock.now())
    session.add(sales)
    session.flush()
    seller = make_user(session, email="field@firm.test", team_id=sales.id, name="Field")
    session.commit()
    rep = signed_in(runtime, org.users["member"])
    lead = org.leads[0]
    page = rep.get(f"/leads/{lead}").text
    assert f'<option value="{seller.id}">Field (法人営業)</option>' in page
    booked = rep.post(
        f"/leads/{lead}/appointment", data={"amount": "1,000,000", "owner": str(seller.id)}
    )
    assert "Appointment booked." in booked.text
    opp = session.scalars(select(Opportunity).where(Opportunity.lead_id == lead)).one()
    assert (opp.amount, opp.owner_id) == (1_000_000, seller.id)
    assert f'id="opportunity-{opp.id}"' in booked.text

    url = f"/leads/{lead}/opportunities/{opp.id}"
    bad = rep.post(url, data={"stage": "lost"})
    assert bad.status_code == 422
    assert "<code>reason</code>" in bad.text
    done = rep.post(url, data={"stage": "won", "amount": "1200000", "owner": str(seller.id)})
    assert done.status_code == 200, done.text
    assert "Opportunity updated: Stage, Amount." in done.text
    session.rollback()  # a new read: what the page wrote
    assert lead_of(session, lead).lifecycle_stage == "customer"
    assert session.get_one(Opportunity, opp.id).amount == 1_200_000
    assert "1,200,000" in done.text
    marketing = signed_in(runtime, org.users["marketing"])
    assert marketing.post(url, data={"stage": "contacted"}).status_code == 403
