"""Segments (issue 16): the lead list filters, and the sources and kpis reports break down, by
industry, department, title class, employee band, prefecture, region and custom fields; every
segment name and closed value is checked (422 naming the field)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from leadops.cli import app
from leadops.models import Lead, Touch
from leadops.rules.schema import Segments
from leadops.rules.segments import Segmentation
from leadops.runtime import Runtime
from tests.conftest import JST
from tests.factories import make_lead
from tests.webapp import build_org, signed_in

LEADS: list[dict[str, Any]] = [
    {
        "email": "a@alpha.co.jp",
        "company": "Alpha",
        "title": "代表取締役社長",
        "department": "経営企画部",
        "prefecture": "三重県",
        "industry": "製造業",
        "employees": 8,
        "source": "展示会",
        "custom": {"利用中のMAシステム": "Marketo"},
    },
    {
        "email": "b@beta.co.jp",
        "company": "Beta",
        "title": "営業部長",
        "department": "営業部",
        "prefecture": "大阪府",
        "industry": "製造業",
        "employees": 120,
        "source": "展示会",
        "custom": {"利用中のMAシステム": "HubSpot"},
    },
    {
        "email": "c@gamma.co.jp",
        "company": "Gamma",
        "title": "Sales Director",
        "department": "営業部",
        "prefecture": "東京都",
        "industry": "情報通信業",
        "employees": 299,
        "source": "ウェビナー",
        "custom": {"利用中のMAシステム": "Marketo"},
    },
    {
        "email": "d@delta.co.jp",
        "company": "Delta",
        "title": "マーケティング課 課長",
        "department": "マーケティング部",
        "prefecture": "北海道",
        "industry": "情報通信業",
        "employees": 1500,
        "source": "ウェビナー",
    },
    {
        "email": "e@epsilon.co.jp",
        "company": "Epsilon",
        "title": "Inside Sales Staff",
        "prefecture": "沖縄県",
        "employees": 45,
        "source": "ウェビナー",
    },
    {
        "email": "f@zeta.co.jp",
        "company": "Zeta",
        "title": "一般社員",
        "source": "展示会",
    },
]


def test_title_classes_and_bands_of_the_defaults() -> None:
    segmentation = Segmentation(Segments(), None)  # type: ignore[arg-type]
    expect = {
        "代表取締役社長": "役員",
        "CTO": "役員",
        "VP of Sales": "役員",
        "担当部長": "部長",
        "Director of Marketing": "部長",
        "課長代理": "課長",
        "General Manager": "課長",
        "主任": "係長/主任",
        "営業担当": "担当",
        "Staff": "担当",
        "Doctor": "その他",  # "cto" inside a word is no CTO
        "一般": "その他",
        None: "その他",
    }
    assert {title: segmentation.title_class(title) for title in expect} == expect
    assert segmentation.band_labels() == ["1–9", "10–49", "50–299", "300–999", "1000+"]
    assert [segmentation.band_of(n) for n in (None, 0, 1, 9, 10, 299, 300, 1000)] == [
        "(blank)",
        "(blank)",
        "1–9",
        "1–9",
        "10–49",
        "50–299",
        "300–999",
        "1000+",
    ]


@pytest.fixture
def leads(runtime: Runtime) -> None:
    with runtime.factory() as session:
        for n, fields in enumerate(LEADS):
            lead = make_lead(session, runtime, **fields)
            lead.created_at = datetime(2026, 10 + n % 2, 5, 10, tzinfo=JST).astimezone(UTC)
        session.commit()


def _emails(client: TestClient, **params: Any) -> list[str]:
    response = client.get("/api/v1/leads", params=params)
    assert response.status_code == 200, response.text
    return sorted(item["email"] for item in response.json()["items"])


@pytest.mark.usefixtures("leads")
def test_the_lead_list_filters_by_segment(client: TestClient) -> None:
    assert _emails(client, title_class="役員") == ["a@alpha.co.jp"]
    assert _emails(client, title_class="部長") == ["b@beta.co.jp", "c@gamma.co.jp"]
    assert _emails(client, title_class="その他") == ["f@zeta.co.jp"]
    assert _emails(client, industry="製造業") == ["a@alpha.co.jp", "b@beta.co.jp"]
    assert _emails(client, department="営業部") == ["b@beta.co.jp", "c@gamma.co.jp"]
    assert _emails(client, employee_band="50–299") == ["b@beta.co.jp", "c@gamma.co.jp"]
    assert _emails(client, employee_band="(blank)") == ["f@zeta.co.jp"]
    # 三重県 is in 近畿 among Japan's eight regions; 沖縄県 in 九州.
    assert _emails(client, region="近畿") == ["a@alpha.co.jp", "b@beta.co.jp"]
    assert _emails(client, region="九州") == ["e@epsilon.co.jp"]
    assert _emails(client, prefecture="東京都") == ["c@gamma.co.jp"]
    assert _emails(client, custom="利用中のMAシステム=Marketo") == [
        "a@alpha.co.jp",
        "c@gamma.co.jp",
    ]
    assert _emails(client, custom="利用中のMAシステム=Marketo", region="関東") == ["c@gamma.co.jp"]
    assert _emails(client, industry="農業") == []


@pytest.mark.usefixtures("leads")
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"title_class": "社長"}, "title_class"),
        ({"employee_band": "1-9"}, "employee_band"),
        ({"region": "関西"}, "region"),
        ({"prefecture": "大阪"}, "prefecture"),
        ({"custom": "no equals sign"}, "custom"),
        ({"custom": 'a"b=1'}, 'custom.a"b'),
    ],
)
def test_unknown_segment_values_are_refused(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    response = client.get("/api/v1/leads", params=params)
    assert response.status_code == 422, response.text
    assert field in {d["path"] for d in response.json()["detail"]}


def _rows(client: TestClient, name: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/reports/{name}", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return list(body["rows"]) + [
        {"section": s, **r} for s, t in body["sections"].items() for r in t["rows"]
    ]


@pytest.mark.usefixtures("leads")
def test_sources_and_kpis_break_down_by_segment(client: TestClient) -> None:
    rows = _rows(client, "sources", segment="title_class")
    assert [(r["source"], r["title_class"], r["leads"]) for r in rows if "section" not in r] == [
        ("ウェビナー", "部長", 1),
        ("ウェビナー", "課長", 1),
        ("ウェビナー", "担当", 1),
        ("展示会", "役員", 1),
        ("展示会", "部長", 1),
        ("展示会", "その他", 1),
    ]
    by_segment = {r["title_class"]: r["leads"] for r in rows if r.get("section") == "by_segment"}
    assert by_segment == {"役員": 1, "部長": 2, "課長": 1, "担当": 1, "その他": 1}
    regions = _rows(client, "sources", segment="region")
    totals = [(r["region"], r["leads"]) for r in regions if r.get("section") == "by_segment"]
    assert totals == [("北海道", 1), ("関東", 1), ("近畿", 2), ("九州", 1), ("(blank)", 1)]
    kpis = _rows(
        client, "kpis", segment="employee_band", **{"from": "2026-10-01", "to": "2026-11-30"}
    )
    assert [(r["period"], r["employee_band"], r["new_leads"]) for r in kpis] == [
        ("2026-10", "1–9", 1),
        ("2026-10", "10–49", 1),
        ("2026-10", "50–299", 1),
        ("2026-11", "50–299", 1),
        ("2026-11", "1000+", 1),
        ("2026-11", "(blank)", 1),
        ("total", "1–9", 1),
        ("total", "10–49", 1),
        ("total", "50–299", 2),
        ("total", "1000+", 1),
        ("total", "(blank)", 1),
    ]
    custom = _rows(client, "kpis", segment="custom.利用中のMAシステム", period="year")
    assert {(r["period"], r["custom.利用中のMAシステム"]): r["new_leads"] for r in custom} == {
        ("2026年度", "HubSpot"): 1,
        ("2026年度", "Marketo"): 2,
        ("2026年度", "(blank)"): 3,
        ("total", "HubSpot"): 1,
        ("total", "Marketo"): 2,
        ("total", "(blank)"): 3,
    }
    bad = client.get("/api/v1/reports/kpis", params={"segment": "colour"})
    assert bad.status_code == 422
    assert {d["path"] for d in bad.json()["detail"]} == {"segment"}


@pytest.mark.usefixtures("leads")
def test_the_cli_breaks_down_by_segment(runtime: Runtime) -> None:
    env = {"LEADOPS_DATABASE_URL": runtime.settings.database_url}
    found = CliRunner().invoke(
        app, ["report", "sources", "--segment", "industry", "--format", "json"], env=env
    )
    assert found.exit_code == 0, found.output
    assert '"industry": "製造業"' in found.output
    refused = CliRunner().invoke(app, ["report", "sources", "--segment", "colour"], env=env)
    assert refused.exit_code != 0
    assert "segment" in refused.output


def test_the_pages_filter_and_break_down_by_segment(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=1)
    for fields in LEADS[:2]:
        make_lead(session, runtime, **fields)
    session.commit()
    rep = signed_in(runtime, org.users["member"])
    listed = rep.get(
        "/leads", params={"region": "近畿", "title_class": "部長", "all": "1"}
    )  # every owner's leads, not the member's own
    assert listed.status_code == 200
    assert "b@beta.co.jp" in listed.text
    assert "a@alpha.co.jp" not in listed.text
    assert '<option value="近畿" selected>' in listed.text
    refused = rep.get("/leads", params={"region": "関西"})
    assert refused.status_code == 422
    assert "<code>region</code>" in refused.text
    report = rep.get("/reports/sources", params={"segment": "industry"})
    assert report.status_code == 200
    assert "製造業" in report.text
    assert '<option value="industry" selected>' in report.text


@pytest.mark.usefixtures("leads")
@pytest.mark.parametrize("by", ["period", "cohort"])
def test_kpis_count_touches_under_their_leads_segment(
    client: TestClient, runtime: Runtime, by: str
) -> None:
    with runtime.factory() as session:
        ids = dict(session.execute(select(Lead.email, Lead.id)).all())
        for email, outcome in (
            ("a@alpha.co.jp", "no_answer"),
            ("a@alpha.co.jp", "connected"),
            ("b@beta.co.jp", "no_answer"),
            ("c@gamma.co.jp", "replied"),
        ):
            session.add(
                Touch(
                    lead_id=ids[email],
                    at=datetime(2026, 11, 20, 10, tzinfo=JST),
                    channel="call",
                    outcome=outcome,
                )
            )
        session.commit()
    rows = _rows(client, "kpis", segment="region", by=by, period="year")
    totals = {r["region"]: (r["touches"], r["connects"]) for r in rows if r["period"] == "total"}
    assert totals["近畿"] == (3, 1)
    assert totals["関東"] == (1, 1)
    assert totals["北海道"] == (0, 0)
