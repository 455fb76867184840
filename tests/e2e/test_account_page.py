"""The company page over HTTP: an account's leads (and no other account's), its opportunities
with their amounts in yen, phones to call, a 404 for an unknown account, and the lead page's
link to its company."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from leadops.models import Account, Activity, Opportunity
from leadops.runtime import Runtime
from tests.factories import make_lead
from tests.webapp import build_org, lead_of, signed_in


def _account(session: Any, runtime: Runtime, name: str, **fields: Any) -> Account:
    account = Account(
        name=name, normalized_name=name.lower(), created_at=runtime.clock.now(), **fields
    )
    session.add(account)
    session.flush()
    return account


def test_the_company_page_lists_its_leads_opportunities_and_activities(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=0)
    now = runtime.clock.now()
    acme = _account(session, runtime, "株式会社アクメ", owner_id=org.users["manager"])
    other = _account(session, runtime, "他社株式会社")
    first = make_lead(
        session, runtime, email="ichiro@acme.test", last_name="一郎", phone="03-1234-5678"
    )
    second = make_lead(session, runtime, email="jiro@acme.test", last_name="次郎")
    stranger = make_lead(session, runtime, email="saburo@other.test", last_name="三郎")
    for lead, account in ((first, acme), (second, acme), (stranger, other)):
        lead.account_id = account.id
        lead.company = account.name
    session.add(
        Opportunity(
            lead_id=first.id,
            account_id=acme.id,
            name="アクメ導入",
            stage="proposal_sent",
            amount=1234000,
            created_at=now,
            stage_changed_at=now,
        )
    )
    session.add(
        Activity(
            lead_id=second.id,
            type="webinar_attend",
            occurred_at=now - timedelta(days=1),
            received_at=now,
            source_system="test",
            external_id="acme-1",
        )
    )
    session.commit()
    rep = signed_in(runtime, org.users["member"])
    page = rep.get(f"/accounts/{acme.id}")
    assert page.status_code == 200
    text = page.text
    assert "株式会社アクメ" in text
    assert f'href="/leads/{first.id}"' in text
    assert f'href="/leads/{second.id}"' in text
    assert f'href="/leads/{stranger.id}"' not in text
    assert "三郎" not in text
    assert "¥1,234,000" in text
    assert 'href="tel:' in text
    assert 'href="mailto:ichiro@acme.test"' in text
    assert "Manager" in text  # the account's owner
    assert "Proposal sent" in text
    assert "proposal_sent" not in text
    japanese = rep.get(f"/accounts/{acme.id}?lang=ja").text
    assert "￥1,234,000" in japanese or "¥1,234,000" in japanese
    assert "商談" in japanese
    assert "提案送付済み" in japanese
    assert "ウェビナー参加" in japanese


def test_an_unknown_company_is_not_found_and_the_lead_page_links_to_its_company(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    rep = signed_in(runtime, org.users["member"])
    missing = rep.get("/accounts/987654")
    assert missing.status_code == 404
    assert "987654" in missing.text
    assert "取引先 987654 は見つかりません" in rep.get("/accounts/987654?lang=ja").text
    lead = lead_of(session, org.leads[0])
    if lead.account_id is None:
        lead.account_id = _account(session, runtime, lead.company or "株式会社顧客0").id
        session.commit()
    page = rep.get(f"/leads/{lead.id}").text
    assert f'href="/accounts/{lead.account_id}"' in page
    assert rep.get(f"/accounts/{lead.account_id}").status_code == 200
