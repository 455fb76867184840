"""Right sources and times: a lead an activity creates takes its campaign's channel (or the
channel the activity declares) as its 経路, never the sending system's name; level events are
dated at the activity that raised the level, and after a rescore the MQL event at the ledger line
that earned the points."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import leadops.rules
from leadops.leads import find_lead
from leadops.models import Campaign, LeadEvent
from leadops.pipeline import rescore_all
from leadops.rules.service import apply_rules
from leadops.runtime import Runtime
from tests.conftest import NOW

DEFAULTS = Path(leadops.rules.__file__).with_name("defaults.yaml")


def activity(email: str, kind: str, key: str, hours_ago: float, **extra: Any) -> dict[str, Any]:
    return {
        "email": email,
        "type": kind,
        "occurred_at": (NOW - timedelta(hours=hours_ago)).isoformat(),
        "external_id": key,
        **extra,
    }


def send(client: TestClient, *items: dict[str, Any]) -> None:
    answer = client.post("/api/v1/activities", json={"activities": list(items)})
    assert answer.status_code == 200, answer.text


def events(session: Session, email: str, kind: str) -> list[LeadEvent]:
    session.commit()
    lead = find_lead(session, email)
    return list(
        session.scalars(
            select(LeadEvent)
            .where(LeadEvent.lead_id == lead.id, LeadEvent.kind == kind)
            .order_by(LeadEvent.id)
        )
    )


def test_a_lead_created_by_an_activity_takes_its_campaign_s_channel(
    client: TestClient, session: Session
) -> None:
    session.add(Campaign(name="秋の展示会2026", type="tradeshow", channel="展示会", created_at=NOW))
    session.commit()
    send(
        client,
        activity("a@kaisha.co.jp", "tradeshow_attend", "a1", 3, campaign="秋の展示会2026"),
        activity("b@kaisha.co.jp", "webinar_attend", "b1", 3, campaign="新しいウェビナー"),
        activity("c@kaisha.co.jp", "page_view", "c1", 3, channel="自然検索"),
        activity("d@kaisha.co.jp", "page_view", "d1", 3, source="audit"),
    )
    session.commit()
    sources = {e: find_lead(session, f"{e}@kaisha.co.jp").source for e in ("a", "b", "c", "d")}
    assert sources == {"a": "展示会", "b": "webinar", "c": "自然検索", "d": None}


def test_a_level_event_is_dated_at_the_activity_that_raised_it(
    client: TestClient, session: Session
) -> None:
    send(
        client,
        activity("dl@kaisha.co.jp", "content_download", "dl-1", 5),
        activity("dl@kaisha.co.jp", "email_open", "dl-2", 1, properties={"email_id": "news"}),
    )
    level = events(session, "dl@kaisha.co.jp", "level")
    assert [(e.to_value, e.at) for e in level] == [("2", NOW - timedelta(hours=5))]


def test_after_a_rescore_the_mql_is_dated_when_the_points_were_earned(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    email = "mql@kaisha.co.jp"
    send(
        client,
        activity(email, "content_download", "m-1", 30),
        activity(email, "trial_signup", "m-2", 20),
        activity(email, "content_download", "m-3", 10),
    )
    assert events(session, email, "lifecycle_stage") == []  # 45 points: no MQL at 100
    document = yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))
    document["lifecycle"]["mql_score"] = 30
    text = yaml.safe_dump(document, allow_unicode=True)
    apply_rules(session, text, author="t", comment="MQL at 30", now=NOW)
    session.commit()
    rescore_all(runtime.factory, NOW)
    mql = events(session, email, "lifecycle_stage")
    assert [(e.to_value, e.at, e.actor_ref) for e in mql] == [
        ("mql", NOW - timedelta(hours=20), "free-trial")
    ]
