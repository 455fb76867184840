"""The prediction on the web: the lead page's panel with its factors in the reader's language, and
the lead list's probability column, sortable."""

from __future__ import annotations

import re
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.models import LeadPrediction
from leadops.predict.service import Options, score_leads, train_model
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from tests.conftest import NOW
from tests.predict_world import build_world
from tests.webapp import build_org, signed_in

OPTIONS = Options(outcome="appointment", horizon_days=60)


def test_the_lead_page_and_list_show_the_prediction(runtime: Runtime, session: Session) -> None:
    org = build_org(session, runtime, leads=1)
    build_world(session)
    now = NOW.astimezone(UTC)
    rules = active_rules(session, now)
    train_model(session, rules, now, now, OPTIONS)
    score_leads(session, rules, now)
    session.commit()
    best = session.scalars(
        select(LeadPrediction).order_by(LeadPrediction.probability.desc()).limit(1)
    ).one()
    admin = signed_in(runtime, org.users["admin"])
    page = admin.get(f"/leads/{best.lead_id}?lang=ja").text
    assert 'id="prediction"' in page
    assert "予測確率" in page
    assert "上げている要因" in page
    assert best.factors[0]["ja"] in page
    english = admin.get(f"/leads/{best.lead_id}?lang=en").text
    assert "Raises it" in english
    assert best.factors[0]["en"].replace("&", "&amp;") in english

    listed = admin.get("/leads?all=1&sort=-probability&lang=en").text
    assert "Probability ↓" in listed
    first = re.search(r'href="/leads/(\d+)"', listed.split("<tbody>")[1])
    assert first is not None
    assert int(first.group(1)) == best.lead_id
    ascending = admin.get("/leads?all=1&sort=probability&lang=en").text
    assert "Probability ↑" in ascending
