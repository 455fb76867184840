"""Bulk actions of the lead list over HTTP: the selection (ticked, or everything the filters
select), reassign, status, campaign and CSV, within the role table, idempotent on a retry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from leadops.models import Campaign, CampaignMember, Lead, LeadEvent
from leadops.runtime import Runtime
from tests.webapp import build_org, lead_of, signed_in


def _lead(session: Any, lead_id: int) -> Lead:
    session.commit()  # a fresh snapshot (SQLite keeps the transaction's)
    return lead_of(session, lead_id)


def _events(session: Any, kind: str) -> int:
    session.commit()
    session.expire_all()
    return session.scalar(select(func.count()).where(LeadEvent.kind == kind)) or 0


def test_a_manager_reassigns_two_leads_and_a_retry_changes_nothing(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=3)
    boss = signed_in(runtime, org.users["manager"])
    form = {
        "lead": [str(org.leads[0]), str(org.leads[1])],
        "action": "reassign",
        "to": str(org.users["member2"]),
        "reason": "休暇のため",
    }
    before = _events(session, "owner")
    done = boss.post("/leads/bulk", data=form)
    assert done.status_code == 200, done.text
    assert "2 changed, 0 already so, 0 refused." in done.text
    assert [_lead(session, i).owner_id for i in org.leads] == [
        org.users["member2"],
        org.users["member2"],
        org.users["member"],
    ]
    assert _events(session, "owner") == before + 2
    again = boss.post("/leads/bulk", data=form)
    assert "0 changed, 2 already so, 0 refused." in again.text
    assert _events(session, "owner") == before + 2


def test_a_member_may_not_reassign_and_changes_only_their_own_leads_status(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=2)
    other = signed_in(runtime, org.users["member2"])
    page = other.get("/leads").text
    assert 'value="reassign"' not in page
    refused = other.post(
        "/leads/bulk",
        data={
            "lead": [str(org.leads[0])],
            "action": "reassign",
            "to": str(org.users["member2"]),
            "reason": "x",
        },
    )
    assert refused.status_code == 403
    status = {"lead": [str(i) for i in org.leads], "action": "status", "status": "recycled"}
    assert other.post("/leads/bulk", data=status).status_code == 422  # recycled needs a reason
    status["reason"] = "時期尚早"
    answer = other.post("/leads/bulk", data=status)
    assert "0 changed, 0 already so, 2 refused." in answer.text
    assert "顧客0 / 株式会社顧客0</a>: the Member role works only on its own leads" in answer.text
    assert {_lead(session, i).status for i in org.leads} == {"lead"}
    rep = signed_in(runtime, org.users["member"])
    assert "2 changed, 0 already so, 0 refused." in rep.post("/leads/bulk", data=status).text
    assert {_lead(session, i).status for i in org.leads} == {"recycled"}


def test_a_move_the_transition_table_refuses_is_reported_by_lead(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=2)
    rep = signed_in(runtime, org.users["member"])
    ids = [str(i) for i in org.leads]
    rep.post("/leads/bulk", data={"lead": ids[:1], "action": "status", "status": "customer"})
    form = {"lead": ids, "action": "status", "status": "recycled", "reason": "時期尚早"}
    answer = rep.post("/leads/bulk?lang=ja", data=form)
    assert "1 件を変更、0 件は変更済み、1 件は対象外です。" in answer.text
    assert "顧客0 / 株式会社顧客0</a>: 顧客 から リサイクル には変更できません" in answer.text


def test_everything_the_filter_selects_goes_to_a_campaign_once(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=3)
    session.add(Campaign(name="DX展示会2026", type="tradeshow", created_at=runtime.clock.now()))
    session.commit()
    campaign_id = session.scalar(select(Campaign.id))
    mkt = signed_in(runtime, org.users["marketing"])
    form = {"everything": "1", "action": "campaign", "campaign": str(campaign_id)}
    page = mkt.get("/leads?q=顧客").text
    assert "Select everything matching the filter (3 leads)" in page
    assert "1 changed" in mkt.post("/leads/bulk?q=顧客1", data=form).text
    assert "1 changed" in mkt.post("/leads/bulk?q=顧客2", data=form).text
    assert "0 changed, 1 already so" in mkt.post("/leads/bulk?q=顧客2", data=form).text
    session.commit()
    members = session.scalars(select(CampaignMember.lead_id).order_by(CampaignMember.lead_id))
    assert list(members) == org.leads[1:]
    assert _lead(session, org.leads[1]).first_campaign_id == campaign_id
    assert _events(session, "campaign") == 2


def leads_csv_header(client: Any) -> str:
    return client.get("/leads.csv").content.decode("utf-8-sig").splitlines()[0]


def test_the_selection_exports_as_csv(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=3)
    rep = signed_in(runtime, org.users["member2"])
    answer = rep.post("/leads/bulk", data={"lead": [str(org.leads[2])], "action": "export"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the lead list's CSV: a BOM, labels
    lines = answer.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2
    assert "株式会社顧客2" in lines[1]
    assert lines[0] == leads_csv_header(rep)
    assert rep.post("/leads/bulk", data={"action": "export"}).status_code == 422
