"""Touch and connect targets on a quota, beside appointments: set per member and per team through
the API, the CLI and the Settings page; kept when another target is set; refused, naming the
field, when they are not a count from 0 to a billion."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadops.cadence.quotas import Targets, set_quota
from leadops.cadence.service import log_touch
from leadops.cli import app
from leadops.models import User
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from tests.e2e.test_quotas import HQ_SALES, _as, _org, runner
from tests.webapp import build_org, signed_in


def test_touch_and_connect_targets_are_set_per_member_and_per_team(
    client: TestClient, runtime: Runtime, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _org(db_url, monkeypatch)
    aoki = _as(runtime, "aoki@example.co.jp")
    team = aoki.put(
        "/api/v1/quotas",
        json={"month": "2026-11", "team": HQ_SALES, "touches": 800, "connects": 120},
    )
    assert team.status_code == 200, team.text
    assert (team.json()["touches"], team.json()["connects"]) == (800, 120)
    member = aoki.put(
        "/api/v1/quotas",
        json={"month": "2026-11", "member": "ishii@example.co.jp", "touches": 400},
    )
    assert (member.json()["touches"], member.json()["connects"]) == (400, None)
    # Setting another target keeps these; setting one again replaces only it.
    again = aoki.put(
        "/api/v1/quotas",
        json={"month": "2026-11", "member": "ishii@example.co.jp", "connects": 60},
    )
    assert (again.json()["touches"], again.json()["connects"]) == (400, 60)
    listed = {q["name"]: q for q in client.get("/api/v1/quotas?month=2026-11").json()}
    assert (listed[HQ_SALES]["touches"], listed[HQ_SALES]["appointments"]) == (800, None)
    assert listed["ishii@example.co.jp"]["connects"] == 60


@pytest.mark.parametrize(
    ("targets", "path"),
    [
        ({"touches": -1}, "touches"),
        ({"connects": 1_000_000_001}, "connects"),
        ({"touches": "many"}, "touches"),
        ({"connects": 2.5}, "connects"),
    ],
)
def test_bad_touch_and_connect_targets_name_their_field(
    client: TestClient,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    targets: dict[str, Any],
    path: str,
) -> None:
    _org(db_url, monkeypatch)
    answer = client.put("/api/v1/quotas", json={"month": "2026-11", "team": HQ_SALES, **targets})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["path"].split(".")[-1] == path


def test_touch_and_connect_targets_from_the_cli(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _org(db_url, monkeypatch)
    done = runner.invoke(
        app,
        ["quota", "set", "--month", "2026-12", "--member", "ishii@example.co.jp"]
        + ["--touches", "300", "--connects", "45"],
    )
    assert done.exit_code == 0, done.output
    assert "touches 300, connects 45, appointments —" in done.output
    too_many = runner.invoke(
        app, ["quota", "set", "--month", "2026-12", "--team", HQ_SALES, "--touches", "2000000000"]
    )
    assert too_many.exit_code == 2
    assert "touches: expected a count from 0 to 1,000,000,000" in too_many.output
    negative = runner.invoke(
        app, ["quota", "set", "--month", "2026-12", "--team", HQ_SALES, "--connects", "-3"]
    )
    assert negative.exit_code == 2
    assert "--connects" in negative.output
    listed = runner.invoke(app, ["quota", "list", "--month", "2026-12"])
    assert "touches 300, connects 45" in listed.output


def test_the_settings_page_sets_touch_and_connect_targets(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=0)
    manager = signed_in(runtime, org.users["manager"])
    assert 'name="touches"' in manager.get("/settings").text
    saved = manager.post(
        "/settings/quotas",
        data={"month": "2026-11", "subject": f"member:{org.users['member']}", "touches": "1,200"}
        | {"connects": "150"},
    )
    assert saved.status_code == 200, saved.text
    row = saved.text.split("2026-11</td>", 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">1200</td><td class="num">150</td><td class="num">—</td>' in row
    bad = manager.post(
        "/settings/quotas",
        data={"month": "2026-11", "subject": f"team:{org.team_id}", "connects": "-5"},
    )
    assert bad.status_code == 422
    assert "<code>connects</code>" in bad.text


def test_kpis_show_attainment_of_touch_and_connect_targets(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=1)
    now = runtime.clock.now()
    rules = active_rules(session, now)
    rep = session.get_one(User, org.users["member"])
    for outcome in ("no_answer", "no_answer", "connected", "replied"):
        log_touch(
            session, rules, org.leads[0], user=rep, channel="call", outcome=outcome, at=now, now=now
        )
    month = date(now.year, now.month, 1)
    for team, member in ((None, "rep@firm.test"), ("東京IS", None)):
        set_quota(
            session,
            actor=None,
            month=month,
            team=team,
            member=member,
            targets=Targets(touches=40, connects=5),
            now=now,
        )
    session.commit()
    report = signed_in(runtime, org.users["admin"]).get("/api/v1/reports/kpis").json()
    rows = {
        (r["subject"], r["measure"]): [r["target"], r["actual"], r["attainment"]]
        for r in report["sections"]["attainment"]["rows"]
    }
    assert rows[("member", "touches")] == [40, 4, 0.1]
    assert rows[("member", "connects")] == [5, 2, 0.4]
    assert rows[("team", "touches")] == [40, 4, 0.1]
    assert ("member", "appointments") not in rows  # no target, no row
