"""campaign-months (seed 004: 単月ごとの結果と、帯で経過を見ていった時の状態): each campaign's
results in month 0, 1, 2 … since its start and by calendar month, the running totals, and its type's
average, on a history built here whose counts are worked out by hand."""

from __future__ import annotations

import html
import json
from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from leadops.cli import app
from leadops.models import Campaign, CampaignMember, LeadEvent, Opportunity
from leadops.reports import ReportParams, run_report
from leadops.reports.campaign_months import add_months, month_since
from leadops.runtime import Runtime
from tests.conftest import JST, NOW
from tests.factories import make_lead
from tests.webapp import build_org, signed_in


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=JST)


def test_months_since_the_start() -> None:
    start = date(2026, 8, 15)
    assert [month_since(start, d) for d in (date(2026, 8, 1), start, date(2026, 9, 14))] == [
        0,
        0,
        0,
    ]
    assert [month_since(start, d) for d in (date(2026, 9, 15), date(2026, 10, 14))] == [1, 1]
    assert month_since(start, date(2026, 10, 15)) == 2
    assert (
        month_since(date(2026, 1, 31), date(2026, 2, 28)) == 1
    )  # a short month ends on its last day
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def _history(session: Session, runtime: Runtime) -> None:
    webinar_a = Campaign(
        name="webinar A", type="webinar", starts_on=date(2026, 8, 15), created_at=at(7, 1)
    )
    webinar_b = Campaign(
        name="webinar B", type="webinar", starts_on=date(2026, 9, 1), created_at=at(7, 1)
    )
    show = Campaign(
        name="show C", type="tradeshow", starts_on=date(2026, 10, 10), created_at=at(7, 1)
    )
    session.add_all([webinar_a, webinar_b, show])
    session.flush()
    leads = {}
    for n in range(1, 6):
        lead = make_lead(session, runtime, email=f"c{n}@camp{n}.co.jp", company=f"Camp {n}")
        lead.created_at = at(7, 1).astimezone(UTC)
        leads[n] = lead
    session.flush()

    def member(campaign: Campaign, n: int, joined: datetime) -> None:
        session.add(
            CampaignMember(
                campaign_id=campaign.id, lead_id=leads[n].id, status="registered", created_at=joined
            )
        )

    def stage(n: int, to: str, when: datetime) -> None:
        session.add(
            LeadEvent(
                lead_id=leads[n].id,
                at=when,
                kind="lifecycle_stage",
                from_value=None,
                to_value=to,
                actor_kind="system",
            )
        )

    def opportunity(n: int, created: datetime, closed: datetime | None = None) -> None:
        session.add(
            Opportunity(
                lead_id=leads[n].id,
                stage="won" if closed else "to_contact",
                created_at=created,
                stage_changed_at=closed or created,
                closed_at=closed,
                custom={},
                flags=[],
            )
        )

    # webinar A (from 15 August): month 0 is 15 Aug - 14 Sep, month 1 15 Sep - 14 Oct, month 2
    # 15 Oct - 14 Nov, month 3 from 15 Nov (today, 23 November, is in it).
    member(webinar_a, 1, at(8, 10))  # registered before the start: month 0
    stage(1, "mql", at(8, 20))  # month 0
    opportunity(1, at(9, 20))  # month 1: its appointment and an opportunity
    member(webinar_a, 2, at(8, 16))  # month 0
    stage(2, "mql", at(9, 14, 23))  # month 0 still (Tokyo time)
    stage(2, "sql", datetime(2026, 10, 15, 0, 0, tzinfo=JST))  # month 2 from its first moment
    opportunity(2, at(10, 20), closed=at(11, 15))  # appointment month 2, won month 3
    member(webinar_a, 3, datetime(2026, 9, 15, 0, 0, tzinfo=JST))  # month 1
    stage(3, "mql", at(9, 1))  # before it joined: not the campaign's
    opportunity(3, at(9, 10))  # before it joined: neither
    member(webinar_a, 4, at(10, 1))  # month 1
    # webinar B (from 1 September): one member, its MQL in month 1.
    member(webinar_b, 5, at(9, 5))
    stage(5, "mql", at(10, 2))
    session.commit()


def _by_month(result: Any, campaign: str, key: str) -> list[int]:
    return [r[key] for r in result.as_dicts() if r["campaign"] == campaign]


def test_campaign_results_month_by_month(runtime: Runtime, session: Session) -> None:
    _history(session, runtime)
    result = run_report(session, "campaign-months", ReportParams(now=NOW))
    rows = result.as_dicts()
    assert [(r["campaign"], r["month"]) for r in rows] == [
        ("show C", 0),
        ("show C", 1),
        ("webinar A", 0),
        ("webinar A", 1),
        ("webinar A", 2),
        ("webinar A", 3),
        ("webinar B", 0),
        ("webinar B", 1),
        ("webinar B", 2),
    ]
    a = "webinar A"
    assert _by_month(result, a, "month_from") == [
        date(2026, 8, 15),
        date(2026, 9, 15),
        date(2026, 10, 15),
        date(2026, 11, 15),
    ]
    assert _by_month(result, a, "leads") == [2, 2, 0, 0]
    assert _by_month(result, a, "mql") == [2, 0, 0, 0]
    assert _by_month(result, a, "sql") == [0, 0, 1, 0]
    assert _by_month(result, a, "appointments") == [0, 1, 1, 0]
    assert _by_month(result, a, "opportunities") == [0, 1, 1, 0]
    assert _by_month(result, a, "won") == [0, 0, 0, 1]
    assert _by_month(result, a, "cumulative_leads") == [2, 4, 4, 4]
    assert _by_month(result, a, "cumulative_appointments") == [0, 1, 2, 2]
    assert _by_month(result, "webinar B", "mql") == [0, 1, 0]
    assert _by_month(result, "show C", "cumulative_leads") == [0, 0]

    against = {(r[0], r[2], r[3]): r[4:] for r in result.sections["against_type_average"]["rows"]}
    # value, type average, cumulative, type average of cumulative, campaigns of the type
    assert against[(a, 0, "leads")] == [2, 1.5, 2, 1.5, 2]
    assert against[(a, 1, "leads")] == [2, 1.0, 4, 2.5, 2]
    assert against[(a, 1, "mql")] == [0, 0.5, 2, 1.5, 2]
    # Only webinar A has reached its month 3.
    assert against[(a, 3, "won")] == [1, 1.0, 1, 1.0, 1]
    assert against[("show C", 0, "leads")] == [0, 0.0, 0, 0.0, 1]

    calendar = {
        (r[0], r[2]): dict(zip(result.sections["calendar_months"]["columns"], r, strict=True))
        for r in result.sections["calendar_months"]["rows"]
    }
    assert [m for c, m in calendar if c == a] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    assert [calendar[(a, m)]["leads"] for m in ("2026-08", "2026-09", "2026-10", "2026-11")] == [
        2,
        1,
        1,
        0,
    ]
    assert [calendar[(a, m)]["mql"] for m in ("2026-08", "2026-09")] == [1, 1]
    assert calendar[(a, "2026-10")]["sql"] == 1
    assert calendar[(a, "2026-11")]["cumulative_won"] == 1
    assert calendar[(a, "2026-11")]["cumulative_appointments"] == 2

    # As of 31 October, webinar A is in its month 2 and the win has not happened yet.
    earlier = run_report(
        session, "campaign-months", ReportParams(now=datetime(2026, 11, 1, tzinfo=JST))
    )
    assert _by_month(earlier, a, "won") == [0, 0, 0]
    # The range chooses campaigns by their start.
    september = run_report(
        session,
        "campaign-months",
        ReportParams(
            start=datetime(2026, 9, 1, tzinfo=JST), end=datetime(2026, 10, 1, tzinfo=JST), now=NOW
        ),
    )
    assert {r["campaign"] for r in september.as_dicts()} == {"webinar B"}


def test_campaign_months_over_the_api_the_cli_and_the_page(
    runtime: Runtime, session: Session, client: TestClient
) -> None:
    _history(session, runtime)
    body = client.get("/api/v1/reports/campaign-months").json()
    assert [r["leads"] for r in body["rows"] if r["campaign"] == "webinar A"] == [2, 2, 0, 0]
    assert body["rows"][2]["month_from"] == "2026-08-15"
    assert set(body["sections"]) == {"against_type_average", "calendar_months"}
    found = CliRunner().invoke(
        app,
        ["report", "campaign-months", "--format", "json"],
        env={"LEADOPS_DATABASE_URL": runtime.settings.database_url},
    )
    assert found.exit_code == 0, found.output
    assert '"campaign": "webinar A"' in found.output
    org = build_org(session, runtime, leads=1)
    page = signed_in(runtime, org.users["member"]).get(
        "/reports/campaign-months", params={"campaign": "webinar B"}
    )
    assert page.status_code == 200, page.text
    chart = json.loads(
        html.unescape(page.text.split('id="chart-option">')[1].split("</script>")[0])
    )
    assert chart["title"]["text"] == "webinar B"
    assert chart["xAxis"]["data"] == ["0", "1", "2"]
    assert '<option value="webinar B" selected>' in page.text
