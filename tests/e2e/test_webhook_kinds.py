"""The kinds of webhook source: HubSpot's contact events with its own v3 signature, and a form
tool's submission that becomes a lead with an inquiry and its approach request."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from leadops.models import Activity, ImportReject, Lead, Task
from leadops.runtime import Runtime
from tests.webhook_client import Sender, hubspot_headers, leadops_headers

HUBSPOT_SECRET = "0f6c2a4e-7d1b-4c39-9e8a-5b2d7f1c3a60"
URL = "http://testserver/api/v1/webhooks/hubspot"


@pytest.fixture
def sender(runtime: Runtime) -> Sender:
    return Sender(runtime)


def _event(sender: Sender, event_id: int, kind: str, **extra: Any) -> dict[str, Any]:
    at = sender.clock.now() - timedelta(minutes=2) + timedelta(seconds=event_id % 100)
    return {
        "eventId": event_id,
        "subscriptionId": 12345,
        "portalId": 62515,
        "appId": 54321,
        "occurredAt": int(at.timestamp() * 1000),
        "subscriptionType": kind,
        "attemptNumber": 0,
        "objectId": 501,
        "changeSource": "CRM_UI",
        **extra,
    }


def _change(sender: Sender, event_id: int, name: str, value: str) -> dict[str, Any]:
    return _event(
        sender, event_id, "contact.propertyChange", propertyName=name, propertyValue=value
    )


def _contact_events(sender: Sender) -> list[dict[str, Any]]:
    return [
        _change(sender, 1002, "email", "Hanako.Sato@Example.co.jp"),
        _event(sender, 1001, "contact.creation", changeFlag="CREATED"),
        _change(sender, 1003, "firstname", "花子"),
        _change(sender, 1004, "company", "株式会社ハブ"),
        _change(sender, 1005, "lifecyclestage", "marketingqualifiedlead"),
        _change(sender, 1006, "recent_conversion_event_name", "お問い合わせフォーム"),
        _event(sender, 1007, "contact.deletion"),
        _event(sender, 1008, "company.creation", objectId=9001),
    ]


def _post_hubspot(sender: Sender, events: Any, *, secret: str = HUBSPOT_SECRET) -> Any:
    body = json.dumps(events).encode()
    headers = {**hubspot_headers(secret, URL, body, sender.clock.now()), "Content-Type": "x"}
    return sender.raw("hubspot", body, headers)


def test_hubspot_contact_events_become_a_lead_and_a_form_submit(
    runtime: Runtime, sender: Sender
) -> None:
    sender.add("hubspot", kind="hubspot", secret=HUBSPOT_SECRET)
    answer = _post_hubspot(sender, _contact_events(sender))
    assert answer.status_code == 202, answer.text
    got = answer.json()
    assert (got["events"], got["leads_created"], got["leads_updated"]) == (8, 1, 5)
    assert (got["activities"], got["ignored"], got["rejected"]) == (1, 2, [])
    with runtime.factory() as session:
        [lead] = session.scalars(select(Lead)).all()
        assert (lead.crm_source, lead.crm_id, lead.email) == (
            "hubspot",
            "501",
            "hanako.sato@example.co.jp",
        )
        assert (lead.first_name, lead.company, lead.source) == ("花子", "株式会社ハブ", "hubspot")
        assert lead.custom == {
            "lifecyclestage": "marketingqualifiedlead",
            "recent_conversion_event_name": "お問い合わせフォーム",
        }
        [activity] = session.scalars(select(Activity)).all()
        assert (activity.type, activity.properties) == (
            "form_submit",
            {"form": "お問い合わせフォーム"},
        )
        assert (activity.source_system, activity.external_id) == ("hubspot", "1006")
        assert activity.lead_id == lead.id
    sender.clock.advance(timedelta(seconds=30))  # HubSpot's retry of the same events
    again = _post_hubspot(sender, _contact_events(sender)).json()
    assert (again["duplicates"], again["ignored"], again["activities"]) == (6, 2, 0)


def test_a_hubspot_event_that_cannot_be_taken_is_refused_alone(
    runtime: Runtime, sender: Sender
) -> None:
    sender.add("hubspot", kind="hubspot", secret=HUBSPOT_SECRET)
    events = [
        _event(sender, 1001, "contact.creation"),
        _change(sender, 1002, "email", "not an address"),
        _event(sender, 1003, "contact.propertyChange"),
    ]
    answer = _post_hubspot(sender, events)
    assert answer.status_code == 202, answer.text
    rejected = {r["index"]: r["errors"] for r in answer.json()["rejected"]}
    assert [e["path"] for e in rejected[1]] == ["[1].propertyValue"]
    assert [e["path"] for e in rejected[2]] == ["[2].propertyName"]
    with runtime.factory() as session:
        rows = session.scalars(
            select(ImportReject).where(ImportReject.job_id == answer.json()["rejects_job"])
        ).all()
        assert sorted(r.row_number for r in rows) == [1, 2]
        assert session.scalar(select(Lead.crm_id)) == "501"


def test_hubspot_signatures_are_checked_with_the_app_secret(
    runtime: Runtime, sender: Sender
) -> None:
    sender.add("hubspot", kind="hubspot", secret=HUBSPOT_SECRET)
    events = [_event(sender, 1001, "contact.creation")]
    wrong = _post_hubspot(sender, events, secret="another-app-client-secret")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "bad_signature")
    body = json.dumps(events).encode()
    stale = hubspot_headers(HUBSPOT_SECRET, URL, body, sender.clock.now() - timedelta(minutes=6))
    assert sender.raw("hubspot", body, stale).json()["error"] == "stale_timestamp"
    elsewhere = hubspot_headers(HUBSPOT_SECRET, URL + "x", body, sender.clock.now())
    assert sender.raw("hubspot", body, elsewhere).status_code == 401
    leadops_signed = leadops_headers(HUBSPOT_SECRET, body, sender.clock.now())
    assert sender.raw("hubspot", body, leadops_signed).json()["error"] == "missing_timestamp"
    assert [reason for _, reason in sender.refusals()] == [
        "bad_signature",
        "stale_timestamp",
        "bad_signature",
        "missing_timestamp",
    ]
    with runtime.factory() as session:
        assert session.scalars(select(Lead)).all() == []


def test_behind_a_proxy_hubspot_signs_the_public_url(runtime: Runtime, sender: Sender) -> None:
    runtime.settings.public_url = "https://leadops.example.com/"
    sender.add("hubspot", kind="hubspot", secret=HUBSPOT_SECRET)
    body = json.dumps([_event(sender, 1001, "contact.creation")]).encode()
    public = "https://leadops.example.com/api/v1/webhooks/hubspot?portal=62515%3A1"
    signed = hubspot_headers(HUBSPOT_SECRET, public.replace("%3A", ":"), body, sender.clock.now())
    answer = sender.http.post(
        "/api/v1/webhooks/hubspot?portal=62515%3A1", content=body, headers=signed
    )
    assert answer.status_code == 202, answer.text


def _form(fields: list[tuple[str, str]]) -> bytes:
    return urlencode(fields).encode()


INQUIRY = [
    ("姓", "佐藤"),
    ("名", "花子"),
    ("会社名", "株式会社テスト"),
    ("メールアドレス", "Hanako@Test.co.jp"),
    ("電話番号", "06-1234-5678"),
    ("都道府県", "大阪府"),
    ("お問い合わせ内容", "見積もりをお願いします"),
    ("utm_source", "google"),
]


def test_a_form_submission_becomes_a_lead_with_an_inquiry_and_an_approach_request(
    runtime: Runtime, sender: Sender
) -> None:
    secret = sender.add("site-form", kind="form")
    form = "application/x-www-form-urlencoded"
    answer = sender.post("site-form", _form(INQUIRY), secret=secret, content_type=form)
    assert answer.status_code == 202, answer.text
    assert (answer.json()["leads_created"], answer.json()["activities"]) == (1, 1)
    with runtime.factory() as session:
        [lead] = session.scalars(select(Lead)).all()
        assert (lead.email, lead.last_name, lead.first_name, lead.company) == (
            "hanako@test.co.jp",
            "佐藤",
            "花子",
            "株式会社テスト",
        )
        assert (lead.phone, lead.prefecture, lead.source) == ("06-1234-5678", "大阪府", "site-form")
        [activity] = session.scalars(select(Activity)).all()
        assert activity.type == "form_submit"
        assert activity.properties == {
            "form": "inquiry",
            "message": "見積もりをお願いします",
            "fields": {"utm_source": "google"},
        }
        assert activity.occurred_at == sender.clock.now()
        [task] = session.scalars(select(Task)).all()
        assert (task.lead_id, task.kind, task.state) == (lead.id, "approach_request", "open")
    sender.clock.advance(timedelta(minutes=1))  # the form tool sends it again
    again = sender.post("site-form", _form(INQUIRY), secret=secret, content_type=form)
    assert (again.json()["activities"], again.json()["duplicates"]) == (0, 1)


def test_a_json_form_submission_with_its_own_id_and_form(runtime: Runtime, sender: Sender) -> None:
    secret = sender.add("site-form", kind="form")
    submission = {
        "submission_id": "sub-42",
        "Name": "鈴木 一郎",
        "E-mail": "ichiro@example.jp",
        "Company": "株式会社スズキ",
        "form": "seminar",
        "topics": ["MA", "SFA"],
        "submitted_at": "2026-11-23T08:30:00+09:00",
    }
    assert sender.post("site-form", submission, secret=secret).status_code == 202
    with runtime.factory() as session:
        lead = session.scalar(select(Lead))
        assert lead is not None
        assert (lead.last_name, lead.first_name, lead.company) == ("鈴木", "一郎", "株式会社スズキ")
        activity = session.scalar(select(Activity))
        assert activity is not None
        assert (activity.external_id, activity.properties["form"]) == ("sub-42", "seminar")
        assert activity.properties["fields"] == {"topics": ["MA", "SFA"]}
        assert activity.occurred_at.isoformat() == "2026-11-22T23:30:00+00:00"


def test_a_form_submission_without_an_email_names_the_field(
    runtime: Runtime, sender: Sender
) -> None:
    secret = sender.add("site-form", kind="form")
    answer = sender.post(
        "site-form",
        _form([("お名前", "田中"), ("メールアドレス", "")]),
        secret=secret,
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 422, answer.text
    assert [problem["path"] for problem in answer.json()["detail"]] == ["メールアドレス"]
