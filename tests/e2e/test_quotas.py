"""Monthly quotas: set by managers for the teams they manage (403 for another team) and by admins
for all, through the API, the CLI and the Settings page; kpis shows attainment; the revenue
report breaks won amount and appointments down by source, level, campaign and team."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from leadops.auth import create_token
from leadops.cli import app
from leadops.models import Team, User
from leadops.runtime import Runtime
from leadops.web.app import create_app
from tests.conftest import NOW
from tests.factories import make_user
from tests.webapp import build_org, signed_in

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "org.yaml"
HQ_SALES = "本社営業本部法人営業部"  # manager aoki; 大阪支社営業部 under it has its own (nishida)
OSAKA = "大阪支社営業部"
IS_TEAM = "本社営業本部インサイドセールス部"
runner = CliRunner()


def _as(runtime: Runtime, email: str) -> TestClient:
    """The API with a token of this (existing) user."""
    with runtime.factory() as session, session.begin():
        user = session.scalars(select(User).where(User.email == email)).one()
        token, _ = create_token(session, user, name="tests", scope="write", now=NOW)
    return TestClient(create_app(runtime), headers={"Authorization": f"Bearer {token}"})


def _org(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    assert runner.invoke(app, ["org", "apply", str(EXAMPLE)]).exit_code == 0


def test_managers_set_the_quotas_of_their_teams_only(
    client: TestClient, runtime: Runtime, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _org(db_url, monkeypatch)
    aoki = _as(runtime, "aoki@example.co.jp")
    mine = aoki.put(
        "/api/v1/quotas", json={"month": "2026-11", "team": HQ_SALES, "won_amount": 4_000_000}
    )
    assert mine.status_code == 200, mine.text
    assert (mine.json()["subject"], mine.json()["won_amount"]) == ("team", 4_000_000)
    member = aoki.put(
        "/api/v1/quotas",
        json={"month": "2026-11", "member": "ishii@example.co.jp", "opportunities": 3},
    )
    assert member.status_code == 200, member.text
    for other in ({"team": OSAKA}, {"team": IS_TEAM}, {"member": "matsui@example.co.jp"}):
        refused = aoki.put("/api/v1/quotas", json={"month": "2026-11", "appointments": 5, **other})
        assert refused.status_code == 403, other
        assert refused.json()["error"] == "forbidden"
    rep = _as(runtime, "ishii@example.co.jp")
    own = rep.put(
        "/api/v1/quotas",
        json={"month": "2026-11", "member": "ishii@example.co.jp", "opportunities": 99},
    )
    assert own.status_code == 403  # members do not set quotas, not even their own
    # An admin sets any; setting again keeps the targets not given.
    done = client.put(
        "/api/v1/quotas",
        json={"month": "2026-11", "member": "ishii@example.co.jp", "won_amount": 2_000_000},
    )
    assert (done.json()["opportunities"], done.json()["won_amount"]) == (3, 2_000_000)
    listed = client.get("/api/v1/quotas", params={"month": "2026-11"}).json()
    assert [(q["subject"], q["name"]) for q in listed] == [
        ("team", HQ_SALES),
        ("member", "ishii@example.co.jp"),
    ]
    assert client.get("/api/v1/quotas", params={"month": "2026-12"}).json() == []


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"month": "2026-13", "team": HQ_SALES, "appointments": 1}, "month"),
        ({"month": "2026-11", "team": "営業部X", "appointments": 1}, "team"),
        ({"month": "2026-11", "member": "ghost@example.co.jp", "appointments": 1}, "member"),
        ({"month": "2026-11", "appointments": 1}, "team"),
        ({"month": "2026-11", "team": HQ_SALES}, "targets"),
        ({"month": "2026-11", "team": HQ_SALES, "won_amount": -1}, "won_amount"),
    ],
)
def test_bad_quotas_name_their_field(
    client: TestClient,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    body: dict[str, Any],
    path: str,
) -> None:
    _org(db_url, monkeypatch)
    answer = client.put("/api/v1/quotas", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["path"].split(".")[-1] == path


def _book(client: TestClient, email: str, amount: int, owner: str) -> int:
    client.put("/api/v1/leads", json={"email": email, "company": f"{email} 社", "source": "展示会"})
    booked = client.post(
        f"/api/v1/leads/{email}/appointments",
        json={"by": "hasegawa@example.co.jp", "amount": amount, "owner": owner},
    )
    assert booked.status_code == 201, booked.text
    opportunity_id: int = booked.json()["opportunity_id"]
    return opportunity_id


def test_kpis_show_attainment_and_revenue_breaks_it_down(
    client: TestClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _org(db_url, monkeypatch)
    quotas = [
        {"team": HQ_SALES, "won_amount": 4_000_000, "opportunities": 4},
        {"member": "ishii@example.co.jp", "won_amount": 2_000_000, "opportunities": 2},
        {"member": "hasegawa@example.co.jp", "appointments": 4},
        {"team": IS_TEAM, "appointments": 8},
    ]
    for quota in quotas:
        assert client.put("/api/v1/quotas", json={"month": "2026-11", **quota}).status_code == 200
    won = _book(client, "a@buyer.co.jp", 1_000_000, "ishii@example.co.jp")
    _book(client, "b@buyer.co.jp", 500_000, "matsui@example.co.jp")  # Osaka, under HQ sales

    def attainment() -> dict[tuple[str, str], list[Any]]:
        section = client.get("/api/v1/reports/kpis").json()["sections"]["attainment"]
        return {
            (r["name"], r["measure"]): [r["target"], r["actual"], r["attainment"]]
            for r in section["rows"]
        }

    before = attainment()
    assert before[("ishii@example.co.jp", "won_amount")] == [2_000_000, 0, 0]
    assert before[("ishii@example.co.jp", "opportunities")] == [2, 1, 0.5]
    assert before[(HQ_SALES, "opportunities")] == [4, 2, 0.5]  # Osaka's deal counts for HQ
    assert before[("hasegawa@example.co.jp", "appointments")] == [4, 2, 0.5]
    assert before[(IS_TEAM, "appointments")] == [8, 2, 0.25]

    assert client.patch(f"/api/v1/opportunities/{won}", json={"outcome": "won"}).status_code == 200
    after = attainment()
    assert after[("ishii@example.co.jp", "won_amount")] == [2_000_000, 1_000_000, 0.5]
    assert after[(HQ_SALES, "won_amount")] == [4_000_000, 1_000_000, 0.25]

    rows = client.get("/api/v1/reports/revenue").json()["rows"]
    by = {(r["dimension"], r["value"]): r for r in rows}
    assert (by[("source", "展示会")]["appointments"], by[("source", "展示会")]["won"]) == (2, 1)
    assert by[("source", "展示会")]["won_amount"] == 1_000_000
    assert by[("team", IS_TEAM)]["appointments"] == 2  # booked by inside sales
    assert by[("team", HQ_SALES)]["won_amount"] == 1_000_000  # won by field sales
    assert by[("campaign", "(none)")]["appointments"] == 2
    assert ("level", "(none)") in by


def test_quotas_from_the_cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _org(db_url, monkeypatch)
    done = runner.invoke(
        app,
        ["quota", "set", "--month", "2026-12", "--team", HQ_SALES, "--won-amount", "5000000"]
        + ["--by", "aoki@example.co.jp"],
    )
    assert done.exit_code == 0, done.output
    assert "won_amount 5,000,000" in done.output
    refused = runner.invoke(
        app,
        ["quota", "set", "--month", "2026-12", "--team", OSAKA, "--appointments", "3"]
        + ["--by", "aoki@example.co.jp"],
    )
    assert refused.exit_code == 2
    assert "may not set the quota" in refused.output
    bad = runner.invoke(app, ["quota", "set", "--month", "12/2026", "--team", HQ_SALES])
    assert bad.exit_code == 2
    assert "month" in bad.output
    listed = runner.invoke(app, ["quota", "list", "--month", "2026-12"])
    assert f"2026-12 team {HQ_SALES}" in listed.output


def test_the_settings_page_sets_quotas_for_the_managers_teams(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=0)
    other = Team(name="別チーム", kind="sales", created_at=NOW)
    session.add(other)
    session.flush()
    boss = make_user(session, email="other-boss@firm.test", role="manager", team_id=other.id)
    other.manager_id = boss.id
    session.commit()
    manager = signed_in(runtime, org.users["manager"])
    page = manager.get("/settings").text
    assert f'value="team:{org.team_id}"' in page
    assert f'value="member:{org.users["member"]}"' in page
    assert f'value="team:{other.id}"' not in page
    saved = manager.post(
        "/settings/quotas",
        data={"month": "2026-11", "subject": f"team:{org.team_id}", "appointments": "20"},
    )
    assert saved.status_code == 200, saved.text
    assert "Quota saved: 2026-11 東京IS" in saved.text
    refused = manager.post(
        "/settings/quotas",
        data={"month": "2026-11", "subject": f"team:{other.id}", "appointments": "5"},
    )
    assert refused.status_code == 403
    bad = manager.post(
        "/settings/quotas",
        data={"month": "2026-11", "subject": f"team:{org.team_id}", "appointments": "many"},
    )
    assert bad.status_code == 422
    assert "<code>appointments</code>" in bad.text
    rep = signed_in(runtime, org.users["member"])
    assert 'id="quotas"' not in rep.get("/settings").text
    assert rep.post("/settings/quotas", data={}).status_code == 403
