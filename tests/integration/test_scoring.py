"""Scoring through the public ingestion path: seed 003's leads, caps, once, fit, decay, events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadops.leads import find_lead
from leadops.models import Lead, LeadEvent, ScoreLedger
from leadops.pipeline import process, rescore_all
from leadops.rules.loader import default_rules_text
from leadops.rules.service import active_rules, apply_rules
from leadops.runtime import Runtime
from leadops.scoring.queries import explain
from leadops.worker import run_once
from tests.conftest import NOW


def send(
    client: TestClient, email: str, *events: tuple[str, dict[str, Any]], start_hours_ago: int = 48
) -> None:
    at = NOW - timedelta(hours=start_hours_ago)
    batch = []
    for i, (type_, props) in enumerate(events):
        batch.append(
            {
                "email": email,
                "type": type_,
                "occurred_at": (at + timedelta(minutes=10 * i)).isoformat(),
                "properties": props,
                "external_id": f"{email}-{i}",
            }
        )
    response = client.post("/api/v1/activities", json={"activities": batch})
    assert response.status_code == 200, response.json()


def lead(runtime: Runtime, email: str) -> Lead:
    with runtime.factory() as session:
        return find_lead(session, email)


def use_rules(runtime: Runtime, text: str) -> None:
    with runtime.factory() as session, session.begin():
        apply_rules(session, text, author="test", comment="test rules", now=runtime.clock.now())
    rescore_all(runtime.factory, runtime.clock.now())


def test_seed_003_lead_a_scores_76_and_lead_b_19(client: TestClient, runtime: Runtime) -> None:
    send(
        client,
        "a@lead-a.co.jp",
        *[("content_download", {"asset": f"doc{i}.pdf"}) for i in range(3)],
        *[("email_open", {"email_id": f"welcome-{i}"}) for i in range(3)],
        *[("email_click", {"email_id": f"welcome-{i}", "url": "/start"}) for i in range(3)],
        ("trial_signup", {}),
    )
    send(
        client,
        "b@lead-b.co.jp",
        ("page_view", {"url": "https://example.jp/pricing"}),
        ("email_open", {"email_id": "welcome-1"}),
        ("email_open", {"email_id": "welcome-2"}),
    )
    a, b = lead(runtime, "a@lead-a.co.jp"), lead(runtime, "b@lead-b.co.jp")
    assert (a.score, a.behavior_score, a.temperature) == (76, 76, "warm")
    assert (b.score, b.temperature) == (19, "cold")
    with runtime.factory() as session:
        lines = explain(session, a.id, active_rules(session, NOW))
    assert sum(line["delta"] for line in lines["lines"]) == lines["score"] == 76
    assert {line["rule"] for line in lines["lines"]} == {
        "content-download",
        "email-open",
        "email-click",
        "free-trial",
    }


def test_resending_the_same_events_scores_nothing_more(
    client: TestClient, runtime: Runtime
) -> None:
    send(client, "a@x.co.jp", ("trial_signup", {}))
    send(client, "a@x.co.jp", ("trial_signup", {}))
    assert lead(runtime, "a@x.co.jp").score == 25


def test_opens_are_capped_at_10_points_per_30_days(client: TestClient, runtime: Runtime) -> None:
    send(client, "a@x.co.jp", *[("email_open", {"email_id": f"n{i}"}) for i in range(8)])
    assert lead(runtime, "a@x.co.jp").score == 10


def test_unsubscribing_takes_points_away(client: TestClient, runtime: Runtime) -> None:
    send(client, "a@x.co.jp", ("content_download", {}), ("unsubscribe", {}))
    assert lead(runtime, "a@x.co.jp").score == 5


def test_temperature_and_mql_changes_are_events_naming_the_rule(
    client: TestClient, runtime: Runtime
) -> None:
    send(
        client,
        "a@x.co.jp",
        ("trial_signup", {}),
        ("trial_signup", {}),
        ("form_submit", {"form": "inquiry"}),
        ("trial_signup", {}),
        ("trial_signup", {}),
    )
    found = lead(runtime, "a@x.co.jp")
    assert (found.score, found.lifecycle_stage, found.temperature) == (115, "mql", "hot")
    with runtime.factory() as session:
        events = session.execute(
            select(LeadEvent.kind, LeadEvent.from_value, LeadEvent.to_value, LeadEvent.actor_ref)
            .where(
                LeadEvent.lead_id == found.id,
                LeadEvent.kind.in_(["temperature", "lifecycle_stage"]),
            )
            .order_by(LeadEvent.at, LeadEvent.id)
        ).all()
    assert [tuple(e) for e in events] == [
        ("temperature", "cold", "warm", "free-trial"),
        ("temperature", "warm", "hot", "free-trial"),
        ("lifecycle_stage", "inquiry", "mql", "free-trial"),
    ]


def test_fit_rules_on_lead_and_account_fields(client: TestClient, runtime: Runtime) -> None:
    client.put(
        "/api/v1/leads",
        json={
            "email": "boss@big.co.jp",
            "title": "営業部長",
            "company": "大企業株式会社",
            "employees": 5000,
        },
    )
    found = lead(runtime, "boss@big.co.jp")
    assert (found.fit_score, found.score) == (35, 35)
    client.put("/api/v1/leads", json={"email": "boss@big.co.jp", "title": "担当"})
    assert lead(runtime, "boss@big.co.jp").fit_score == 15


def test_a_competitor_is_disqualified_and_invalid(client: TestClient, runtime: Runtime) -> None:
    client.put("/api/v1/leads", json={"email": "spy@competitor.example", "company": "競合"})
    found = lead(runtime, "spy@competitor.example")
    assert (found.status, found.status_reason, found.is_valid) == (
        "disqualified_sales",
        "competitor",
        False,
    )


def test_a_bounce_makes_a_lead_invalid_as_an_event(client: TestClient, runtime: Runtime) -> None:
    client.put("/api/v1/leads", json={"email": "a@x.co.jp", "company": "X株式会社"})
    assert lead(runtime, "a@x.co.jp").is_valid
    send(client, "a@x.co.jp", ("email_bounce", {"email_id": "n1"}))
    found = lead(runtime, "a@x.co.jp")
    assert not found.is_valid
    with runtime.factory() as session:
        event = session.scalars(
            select(LeadEvent).where(LeadEvent.lead_id == found.id, LeadEvent.kind == "validity")
        ).one()
    assert (event.from_value, event.to_value, event.reason) == ("True", "False", "email_bounced")


def test_free_mail_and_unknown_company_are_not_valid_b2b_leads(
    client: TestClient, runtime: Runtime
) -> None:
    client.put("/api/v1/leads", json={"email": "someone@gmail.com", "company": "X株式会社"})
    client.put("/api/v1/leads", json={"email": "a@x.co.jp"})
    assert not lead(runtime, "someone@gmail.com").is_valid
    assert lead(runtime, "a@x.co.jp").is_valid  # the domain names the company


RULES_EXTRA = (
    default_rules_text()
    .replace(
        "    - id: unsubscribe\n",
        """    - id: first-webinar
      when: {event: webinar_attend}
      points: 30
      repeat: once
      group: interest
    - id: short-lived
      when: {event: email_click, property: {url: {contains: /promo}}}
      points: 40
      expires_after_days: 7
    - id: unsubscribe
""",
    )
    .replace(
        "    - {name: fit, label_ja: 属性, label_en: Fit}\n",
        "    - {name: fit, label_ja: 属性, label_en: Fit}\n    - {name: interest, total: false}\n",
    )
)


def test_once_per_lead_rules_and_named_groups(client: TestClient, runtime: Runtime) -> None:
    use_rules(runtime, RULES_EXTRA)
    send(client, "a@x.co.jp", ("webinar_attend", {}), ("webinar_attend", {}))
    found = lead(runtime, "a@x.co.jp")
    assert found.group_scores.get("interest") == 30
    assert found.score == 0  # the interest group is kept apart from the total


def test_points_that_expire_and_decay_are_applied_by_the_sweep_once(
    client: TestClient, runtime: Runtime
) -> None:
    use_rules(runtime, RULES_EXTRA)
    send(
        client,
        "a@x.co.jp",
        ("email_click", {"url": "/promo"}),
        ("content_download", {}),
        start_hours_ago=1,
    )
    assert lead(runtime, "a@x.co.jp").score == 55
    later = NOW + timedelta(days=8)
    first = run_once(runtime, later)
    assert (first.scored_leads, lead(runtime, "a@x.co.jp").score) == (1, 15)
    assert run_once(runtime, later).score_lines == 0
    month = NOW + timedelta(days=31)
    run_once(runtime, month)
    assert lead(runtime, "a@x.co.jp").score == 13  # 10 % of 15, rounded
    assert run_once(runtime, month).score_lines == 0


def test_changing_the_rules_rescores_every_lead(client: TestClient, runtime: Runtime) -> None:
    send(client, "a@x.co.jp", ("trial_signup", {}))
    send(client, "b@x.co.jp", ("content_download", {}))
    use_rules(runtime, default_rules_text().replace("points: 25", "points: 50"))
    assert (lead(runtime, "a@x.co.jp").score, lead(runtime, "b@x.co.jp").score) == (50, 10)
    with runtime.factory() as session:
        versions = set(
            session.scalars(
                select(ScoreLedger.rules_version).where(ScoreLedger.rule_id == "free-trial")
            )
        )
    assert versions == {1, 2}  # the old version's lines are kept for the record


def test_a_rescore_without_its_ledger_ends_in_the_same_state(
    client: TestClient, runtime: Runtime
) -> None:
    """What a what-if runs: the same scores and state, not a ledger line written."""
    send(client, "a@x.co.jp", ("trial_signup", {}), ("content_download", {}))
    send(client, "b@x.co.jp", ("email_open", {"email_id": "w1"}))
    now = runtime.clock.now()
    with runtime.factory() as session, session.begin():
        apply_rules(
            session,
            default_rules_text().replace("points: 25", "points: 60"),
            author="test",
            comment="what-if",
            now=now,
        )
    columns = (Lead.email, Lead.score, Lead.temperature, Lead.level, Lead.score_state)
    outcomes = []
    for ledger in (False, True):
        with runtime.factory() as session:
            ids = list(session.scalars(select(Lead.id).order_by(Lead.id)))
            lines = session.query(ScoreLedger).count()
            outcome = process(
                session, active_rules(session, now), now, ids, rescore=True, ledger=ledger
            )
            session.flush()
            written = session.query(ScoreLedger).count() - lines
            outcomes.append(
                ([tuple(r) for r in session.execute(select(*columns))], outcome.lines, written)
            )
            session.rollback()
    (without, lines_counted, none_written), (with_ledger, lines_made, written) = outcomes
    assert without == with_ledger
    assert without[0][1] == 70  # the trial now worth 60, plus the download
    assert lines_counted == lines_made == written > 0
    assert none_written == 0
