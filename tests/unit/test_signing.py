"""Webhook signatures as their documents describe them, each checked against a vector computed
here from the recipe (not from leadops' own code)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from leadops.signing import (
    Unverified,
    hubspot_uri,
    leadops_signature,
    signed_headers,
    verify_hubspot,
    verify_leadops,
)

NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
SECRET = "whsec_test-secret"
BODY = b'{"email":"taro@example.co.jp","type":"form_submit"}'


def _recipe(secret: str, timestamp: int, body: bytes) -> str:
    """X-Leadops-Signature as docs/webhooks.md says: sha256=<hex HMAC-SHA256 of "<ts>.<body>">."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _headers(timestamp: int | str, signature: str) -> dict[str, str]:
    return {"x-leadops-timestamp": str(timestamp), "x-leadops-signature": signature}


def test_the_leadops_signature_is_the_hmac_of_timestamp_dot_body() -> None:
    ts = int(NOW.timestamp())
    assert leadops_signature(SECRET, ts, BODY) == _recipe(SECRET, ts, BODY)
    assert signed_headers(SECRET, BODY, NOW) == {
        "X-Leadops-Timestamp": str(ts),
        "X-Leadops-Signature": _recipe(SECRET, ts, BODY),
    }


def test_a_signature_within_five_minutes_either_way_is_verified() -> None:
    for seconds in (-300, 0, 300):
        ts = int(NOW.timestamp()) + seconds
        headers = _headers(ts, _recipe(SECRET, ts, BODY))
        assert verify_leadops(headers, BODY, [SECRET], NOW) == _recipe(SECRET, ts, BODY)


def test_the_previous_secret_verifies_too_when_given() -> None:
    ts = int(NOW.timestamp())
    headers = _headers(ts, _recipe("old-secret", ts, BODY))
    assert verify_leadops(headers, BODY, [SECRET, "old-secret"], NOW)
    with pytest.raises(Unverified):
        verify_leadops(headers, BODY, [SECRET], NOW)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing_timestamp"),
        ({"x-leadops-timestamp": "1795392000"}, "missing_signature"),
        (_headers("2026-11-23T00:00:00Z", "sha256=" + "0" * 64), "bad_timestamp"),
        (_headers("١٧٩٥٣٩٢٠٠٠", "sha256=" + "0" * 64), "bad_timestamp"),
        (_headers(int(NOW.timestamp()) - 301, "sha256=" + "0" * 64), "stale_timestamp"),
        (_headers(int(NOW.timestamp()) + 301, "sha256=" + "0" * 64), "future_timestamp"),
        (_headers(int(NOW.timestamp()), "sha256=XYZ"), "bad_signature"),
        (_headers(int(NOW.timestamp()), "sha256=" + "0" * 64), "bad_signature"),
    ],
)
def test_what_does_not_verify_says_why(headers: dict[str, str], reason: str) -> None:
    with pytest.raises(Unverified) as refused:
        verify_leadops(headers, BODY, [SECRET], NOW)
    assert refused.value.reason == reason
    assert refused.value.message


def test_a_signature_of_another_body_or_timestamp_does_not_verify() -> None:
    ts = int(NOW.timestamp())
    with pytest.raises(Unverified):
        verify_leadops(_headers(ts, _recipe(SECRET, ts, BODY)), BODY + b" ", [SECRET], NOW)
    with pytest.raises(Unverified):
        verify_leadops(_headers(ts + 1, _recipe(SECRET, ts, BODY)), BODY, [SECRET], NOW)


def _hubspot_recipe(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """HubSpot's v3 recipe: base64(HMAC-SHA256(secret, method + uri + body + timestamp))."""
    source = (method + uri).encode("utf-8") + body + timestamp.encode("utf-8")
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


HUBSPOT_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
HUBSPOT_BODY = (
    b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1795392000000,'
    b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
    b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
)


def test_hubspot_v3_signatures_are_verified_as_hubspot_documents_them() -> None:
    url = "https://leadops.example.com/api/v1/webhooks/hubspot"
    timestamp = str(int(NOW.timestamp() * 1000))
    signature = _hubspot_recipe(HUBSPOT_SECRET, "POST", url, HUBSPOT_BODY, timestamp)
    headers = {"x-hubspot-signature-v3": signature, "x-hubspot-request-timestamp": timestamp}
    assert verify_hubspot(headers, "POST", url, HUBSPOT_BODY, [HUBSPOT_SECRET], NOW) == signature
    with pytest.raises(Unverified) as wrong:
        verify_hubspot(headers, "POST", url, HUBSPOT_BODY, ["another-secret"], NOW)
    assert wrong.value.reason == "bad_signature"
    with pytest.raises(Unverified) as elsewhere:
        verify_hubspot(headers, "POST", url + "2", HUBSPOT_BODY, [HUBSPOT_SECRET], NOW)
    assert elsewhere.value.reason == "bad_signature"


def test_hubspot_timestamps_are_milliseconds_within_five_minutes() -> None:
    url = "https://leadops.example.com/api/v1/webhooks/hubspot"
    old = str(int((NOW - timedelta(minutes=5, seconds=1)).timestamp() * 1000))
    headers = {
        "x-hubspot-signature-v3": _hubspot_recipe(HUBSPOT_SECRET, "POST", url, HUBSPOT_BODY, old),
        "x-hubspot-request-timestamp": old,
    }
    with pytest.raises(Unverified) as stale:
        verify_hubspot(headers, "POST", url, HUBSPOT_BODY, [HUBSPOT_SECRET], NOW)
    assert stale.value.reason == "stale_timestamp"
    seconds = {**headers, "x-hubspot-request-timestamp": str(int(NOW.timestamp()))}
    with pytest.raises(Unverified) as in_seconds:
        verify_hubspot(seconds, "POST", url, HUBSPOT_BODY, [HUBSPOT_SECRET], NOW)
    assert in_seconds.value.reason == "stale_timestamp"


def test_hubspot_signs_the_uri_with_some_characters_decoded() -> None:
    url = "https://x.example/api/v1/webhooks/hub%3Fa?from=a%40b.jp&q=%2a%2C%20%25"
    assert hubspot_uri(url) == "https://x.example/api/v1/webhooks/hub?a?from=a@b.jp&q=*,%20%25"
