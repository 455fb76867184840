"""Live feeds through signed webhooks: POST /api/v1/webhooks/{source}, signed with the source's own
secret, taken once, refused (and recorded with the source) when the signature does not hold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadops.ingest.webhook_sources import remove_source, rotate_source
from leadops.models import (
    Activity,
    ImportReject,
    Lead,
    LeadEvent,
    WebhookRefusal,
    WebhookSource,
)
from leadops.runtime import Runtime
from tests.webhook_client import Sender, as_body, leadops_headers

EVENT = {
    "email": "Taro.Yamada@Kaisha.co.jp",
    "type": "form_submit",
    "occurred_at": "2026-11-22T10:15:00+09:00",
    "properties": {"form": "inquiry"},
    "external_id": "evt-0001",
    "lead": {"company": "株式会社サンプル", "full_name": "山田 太郎", "prefecture": "大阪"},
}


@pytest.fixture
def sender(runtime: Runtime) -> Sender:
    return Sender(runtime)


def _count(runtime: Runtime, model: Any) -> int:
    with runtime.factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_signed_event_is_taken_once_even_when_sent_twice(
    runtime: Runtime, sender: Sender
) -> None:
    secret = sender.add("site")
    first = sender.post("site", EVENT, secret=secret)
    assert first.status_code == 202, first.text
    assert first.json() == {
        "source": "site",
        "events": 1,
        "activities": 1,
        "duplicates": 0,
        "leads_created": 1,
        "leads_updated": 0,
        "ignored": 0,
        "rejected": [],
        "rejects_job": None,
    }
    sender.clock.advance(timedelta(seconds=40))  # the sender's retry, signed anew
    again = sender.post("site", EVENT, secret=secret)
    assert again.status_code == 202, again.text
    assert (again.json()["activities"], again.json()["duplicates"]) == (0, 1)
    with runtime.factory() as session:
        [activity] = session.scalars(select(Activity)).all()
        assert (activity.source_system, activity.external_id) == ("site", "evt-0001")
        lead = session.get_one(Lead, activity.lead_id)
        assert (lead.email, lead.company, lead.last_name, lead.first_name) == (
            "taro.yamada@kaisha.co.jp",
            "株式会社サンプル",
            "山田",
            "太郎",
        )
        assert (lead.prefecture, lead.region, lead.source) == ("大阪府", "近畿", "site")
        actors = set(
            session.scalars(select(LeadEvent.actor_ref).where(LeadEvent.lead_id == lead.id))
        )
        assert actors == {"site"}
        source = session.scalar(select(WebhookSource))
        assert source is not None
        assert source.last_used_at == sender.clock.now() - timedelta(seconds=40)


def test_an_event_sent_again_with_its_id_changes_nothing_even_with_other_fields(
    runtime: Runtime, sender: Sender
) -> None:
    secret = sender.add("site")
    assert sender.post("site", EVENT, secret=secret).status_code == 202
    sender.clock.advance(timedelta(minutes=1))
    later = {**EVENT, "lead": {"company": "別の会社"}, "occurred_at": "2026-11-22T11:00:00+09:00"}
    again = sender.post("site", later, secret=secret)
    assert again.json()["duplicates"] == 1
    with runtime.factory() as session:
        assert session.scalar(select(Lead.company)) == "株式会社サンプル"


def test_the_same_delivery_replayed_is_refused_and_recorded(
    runtime: Runtime, sender: Sender
) -> None:
    secret = sender.add("site")
    body = as_body(EVENT)
    headers = {**leadops_headers(secret, body, sender.clock.now()), "Content-Type": "text/plain"}
    assert sender.raw("site", body, headers).status_code == 202
    sender.clock.advance(timedelta(minutes=4))  # still within the signature's five minutes
    replay = sender.raw("site", body, headers)
    assert replay.status_code == 409
    assert replay.json()["error"] == "replay"
    assert "sign each retry anew" in replay.json()["detail"]
    assert sender.refusals() == [("site", "replay")]
    sender.clock.advance(timedelta(minutes=2))  # past the window: stale, whatever its history
    assert sender.raw("site", body, headers).status_code == 401
    assert _count(runtime, Activity) == 1


def _stale(sender: Sender) -> dict[str, str]:
    return leadops_headers("whsec_" + "a" * 40, b"", sender.clock.now() - timedelta(seconds=301))


@pytest.mark.parametrize(
    ("change", "code", "reason"),
    [
        ("wrong secret", "bad_signature", "bad_signature"),
        ("no signature", "missing_signature", "missing_signature"),
        ("no timestamp", "missing_timestamp", "missing_timestamp"),
        ("stale", "stale_timestamp", "stale_timestamp"),
        ("future", "future_timestamp", "future_timestamp"),
        ("malformed", "bad_signature", "bad_signature"),
        ("other body", "bad_signature", "bad_signature"),
        ("unknown source", "bad_signature", "unknown_source"),
    ],
)
def test_a_delivery_whose_signature_does_not_hold_is_401_and_recorded(
    runtime: Runtime, sender: Sender, change: str, code: str, reason: str
) -> None:
    secret = sender.add("site")
    body = as_body(EVENT)
    now = sender.clock.now()
    headers = leadops_headers(secret, body, now)
    name = "site"
    if change == "wrong secret":
        headers = leadops_headers("whsec_" + "x" * 40, body, now)
    elif change == "no signature":
        del headers["X-Leadops-Signature"]
    elif change == "no timestamp":
        del headers["X-Leadops-Timestamp"]
    elif change in ("stale", "future"):
        at = now + timedelta(seconds=-301 if change == "stale" else 301)
        headers = leadops_headers(secret, body, at)
    elif change == "malformed":
        headers["X-Leadops-Signature"] = headers["X-Leadops-Signature"].removeprefix("sha256=")
    elif change == "other body":
        body = body.replace(b"evt-0001", b"evt-0002")
    else:
        name = "nowhere"
    answer = sender.raw(name, body, headers)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == code
    assert answer.json()["detail"]
    assert sender.refusals() == [(name, reason)]
    assert _count(runtime, Activity) == 0
    assert _count(runtime, Lead) == 0


def test_a_refusal_keeps_the_address_and_never_the_secret(runtime: Runtime, sender: Sender) -> None:
    secret = sender.add("site")
    body = as_body(EVENT)
    sender.raw("site", body, leadops_headers(secret, body, sender.clock.now() - timedelta(hours=1)))
    with runtime.factory() as session:
        [refusal] = session.scalars(select(WebhookRefusal)).all()
    assert refusal.address == "testclient"
    assert refusal.body is None  # not authentic: its body is not kept
    assert secret not in refusal.detail
    assert "3600 s old" in refusal.detail


def test_an_authentic_body_that_is_not_json_is_400_and_kept(
    runtime: Runtime, sender: Sender
) -> None:
    secret = sender.add("site")
    answer = sender.post("site", b'{"email": "a@b.jp",\n "type": }', secret=secret)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_json"
    assert (answer.json()["detail"]["line"], answer.json()["detail"]["column"]) == (2, 10)
    with runtime.factory() as session:
        [refusal] = session.scalars(select(WebhookRefusal)).all()
    assert (refusal.reason, refusal.body) == ("bad_payload", '{"email": "a@b.jp",\n "type": }')
    # Not remembered: the same delivery, once it can be read, is not a replay.
    assert sender.post("site", [EVENT], secret=secret).status_code == 422


def test_an_event_that_cannot_be_taken_is_422_naming_its_fields_and_recorded(
    runtime: Runtime, sender: Sender
) -> None:
    secret = sender.add("site")
    bad = {**EVENT, "type": "fax_received", "lead": {"email": "not-an-address"}}
    answer = sender.post("site", bad, secret=secret)
    assert answer.status_code == 422, answer.text
    paths = {problem["path"] for problem in answer.json()["detail"]}
    assert paths == {"type", "lead.email"}
    with runtime.factory() as session:
        [refusal] = session.scalars(select(WebhookRefusal)).all()
        assert refusal.reason == "bad_payload"
        assert "lead.email" in refusal.detail
        assert "fax_received" in (refusal.body or "")  # the delivery, kept with its refusal
    assert _count(runtime, ImportReject) == 0  # nothing written but the refusal
    assert _count(runtime, Lead) == 0  # an event is taken whole or not at all
    sender.clock.advance(timedelta(seconds=1))
    assert sender.post("site", EVENT, secret=secret).status_code == 202  # the id is free again


def test_a_delivery_over_a_megabyte_is_413_and_recorded(runtime: Runtime, sender: Sender) -> None:
    secret = sender.add("site")
    big = {**EVENT, "properties": {"form": "inquiry", "note": "x" * 1_000_001}}
    answer = sender.post("site", big, secret=secret)
    assert answer.status_code == 413
    assert sender.refusals() == [("site", "too_large")]


def test_a_rotation_keeps_the_old_secret_for_its_grace_period_only(
    runtime: Runtime, sender: Sender
) -> None:
    old = sender.add("site")
    with runtime.factory() as session, session.begin():
        new = rotate_source(
            session, "site", now=sender.clock.now(), grace=timedelta(hours=1)
        ).secret
    assert new != old
    assert sender.post("site", EVENT, secret=new).status_code == 202
    sender.clock.advance(timedelta(minutes=59))
    second = {**EVENT, "external_id": "evt-0002"}
    assert sender.post("site", second, secret=old).status_code == 202
    sender.clock.advance(timedelta(minutes=1))
    third = {**EVENT, "external_id": "evt-0003"}
    assert sender.post("site", third, secret=old).status_code == 401
    assert sender.post("site", third, secret=new).status_code == 202
    assert sender.refusals() == [("site", "bad_signature")]


def test_a_rotation_without_grace_ends_the_old_secret_at_once(
    runtime: Runtime, sender: Sender
) -> None:
    old = sender.add("site")
    with runtime.factory() as session, session.begin():
        rotate_source(session, "site", now=sender.clock.now(), grace=timedelta(0))
    assert sender.post("site", EVENT, secret=old).status_code == 401


def test_a_removed_source_is_unknown(runtime: Runtime, sender: Sender) -> None:
    secret = sender.add("site")
    with runtime.factory() as session, session.begin():
        remove_source(session, "site")
    assert sender.post("site", EVENT, secret=secret).status_code == 401
    assert sender.refusals() == [("site", "unknown_source")]


def test_admins_list_sources_and_refusals_without_secrets(
    runtime: Runtime, sender: Sender, client: TestClient
) -> None:
    secret = sender.add("site")
    sender.post("site", EVENT, secret="whsec_" + "x" * 40)
    listed = client.get("/api/v1/webhooks")
    assert listed.status_code == 200
    [source] = listed.json()
    assert (source["name"], source["path"], source["refused_24h"]) == (
        "site",
        "/api/v1/webhooks/site",
        1,
    )
    refusals = client.get("/api/v1/webhooks/refusals", params={"source": "site"}).json()
    assert [r["reason"] for r in refusals] == ["bad_signature"]
    assert secret not in listed.text + str(refusals)
    anonymous = TestClient(client.app).get("/api/v1/webhooks")
    assert anonymous.status_code == 401


def test_the_webhook_is_documented_with_its_headers_and_answers(client: TestClient) -> None:
    operation = client.get("/api/openapi.json").json()["paths"]["/api/v1/webhooks/{source}"]["post"]
    assert {"202", "400", "401", "409", "413", "422"} <= set(operation["responses"])
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert {"X-Leadops-Timestamp", "X-Leadops-Signature", "X-HubSpot-Signature-v3"} <= headers
    assert "security" not in operation  # signed by the sender, not an API token
