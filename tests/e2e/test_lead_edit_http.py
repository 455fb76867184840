"""Correcting a lead's details over HTTP: the lead page's form (errors in place, in the reader's
language) and ``PATCH /api/v1/leads/{ref}``, both the same service."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadops.models import LeadEvent
from leadops.runtime import Runtime
from leadops.web.app import create_app
from tests.conftest import api_token
from tests.webapp import build_org, lead_of, signed_in


def _field_events(session: Any, lead_id: int) -> list[str | None]:
    session.expire_all()
    found = select(LeadEvent.reason).where(LeadEvent.lead_id == lead_id, LeadEvent.kind == "field")
    return list(session.scalars(found))


def test_the_form_saves_a_change_and_the_timeline_shows_it(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=1)
    lead = org.leads[0]
    rep = signed_in(runtime, org.users["member"])
    page = rep.get(f"/leads/{lead}").text
    assert f'action="/leads/{lead}/edit"' in page
    form = {"title": "情報システム部長", "phone": "03-1234-5678"}
    done = rep.post(f"/leads/{lead}/edit", data=form)
    assert done.status_code == 200
    assert "Details saved: Job title, Phone." in done.text
    assert "Changed Job title" in done.text
    assert "∅ → 情報システム部長" in done.text
    assert lead_of(session, lead).phone_key == "+81312345678"
    assert sorted(_field_events(session, lead)) == ["phone", "title"]  # type: ignore[type-var]


def test_a_bad_phone_is_shown_next_to_its_field_in_japanese(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=1)
    lead = org.leads[0]
    rep = signed_in(runtime, org.users["member"])
    refused = rep.post(
        f"/leads/{lead}/edit?lang=ja", data={"phone": "12345", "company": "新社名株式会社"}
    )
    assert refused.status_code == 422
    assert 'id="error-phone"' in refused.text
    assert "12345 は電話番号ではありません" in refused.text
    assert 'value="新社名株式会社"' in refused.text  # what was typed stays
    assert lead_of(session, lead).company == "株式会社顧客0"
    assert _field_events(session, lead) == []


def test_an_e_mail_clash_names_the_other_lead(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=2)
    rep = signed_in(runtime, org.users["member"])
    refused = rep.post(f"/leads/{org.leads[0]}/edit", data={"email": "lead1@customer1.co.jp"})
    assert refused.status_code == 422
    assert f"is already the e-mail of lead {org.leads[1]} (顧客1, 株式会社顧客1)" in refused.text


def test_another_rep_may_not_edit_and_sees_no_form(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=1)
    lead = org.leads[0]
    other = signed_in(runtime, org.users["member2"])
    assert "/edit" not in other.get(f"/leads/{lead}").text
    refused = other.post(f"/leads/{lead}/edit", data={"title": "社長"})
    assert refused.status_code == 403
    assert "the member role works only on its own leads" in refused.text
    boss = signed_in(runtime, org.users["manager"])
    assert boss.post(f"/leads/{lead}/edit", data={"title": "社長"}).status_code == 200


def test_the_api_edits_through_the_same_service(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=2)
    lead = org.leads[0]
    headers = {
        "Authorization": f"Bearer {api_token(runtime, role='member', email='api@firm.test')}"
    }
    with TestClient(create_app(runtime), headers=headers) as client:
        refused = client.patch(f"/api/v1/leads/{lead}", json={"title": "部長"})
        assert refused.status_code == 403  # not this member's lead
    mkt = {"Authorization": f"Bearer {api_token(runtime, role='marketing')}"}
    with TestClient(create_app(runtime), headers=mkt) as client:
        body = {"last_name_kana": "こきゃく", "custom": {"利用中のMAシステム": "Marketo"}}
        done = client.patch("/api/v1/leads/lead0@customer0.co.jp", json=body)
        assert done.status_code == 200, done.text
        assert done.json() == {
            "lead_id": lead,
            "changes": [
                {"field": "last_name_kana", "from": None, "to": "コキャク"},
                {"field": "custom.利用中のMAシステム", "from": None, "to": "Marketo"},
            ],
        }
        assert client.patch(f"/api/v1/leads/{lead}", json=body).json()["changes"] == []
        bad = client.patch(f"/api/v1/leads/{lead}", json={"phone": "x", "prefecture": "Mars"})
        assert bad.status_code == 422
        assert {e["path"] for e in bad.json()["detail"]} == {"phone", "prefecture"}
    assert _field_events(session, lead) == ["last_name_kana", "custom.利用中のMAシステム"]
