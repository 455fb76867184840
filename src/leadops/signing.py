"""Webhook signatures, both ways: leadops' own and HubSpot's v3.

leadops' own scheme signs ``"<timestamp>.<raw body>"``: ``X-Leadops-Timestamp`` is the Unix time
in seconds of the signing and ``X-Leadops-Signature`` is ``sha256=`` and the hex HMAC-SHA256 of
that text with the shared secret. leadops puts it on the notifications it sends and checks it on
what its webhook sources send. HubSpot signs ``method + URI + body + timestamp`` (milliseconds),
HMAC-SHA256 in base64 with the app's client secret (``X-HubSpot-Signature-v3``,
``X-HubSpot-Request-Timestamp``).

Pure functions: the time is passed in, and every comparison of a signature is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

TIMESTAMP_HEADER = "X-Leadops-Timestamp"
SIGNATURE_HEADER = "X-Leadops-Signature"
HUBSPOT_SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
HUBSPOT_TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
#: What a signature that does not match is told (also when no source has the name: the answer
#: does not say which sources exist).
LEADOPS_MISMATCH = (
    f'{SIGNATURE_HEADER} does not match: it must be the HMAC-SHA256 of "<timestamp>.<raw body>" '
    "with the secret of the source the URL names"
)
HUBSPOT_MISMATCH = (
    f"{HUBSPOT_SIGNATURE_HEADER} does not match: it must be HubSpot's v3 signature of this "
    "request with the client secret of the app the URL's source names"
)
#: How far a signed timestamp may be from the receiver's clock, either way.
TOLERANCE = timedelta(minutes=5)

_HEX_SIGNATURE = re.compile(r"sha256=([0-9a-f]{64})")
_DIGITS = re.compile(r"[0-9]{1,16}")
#: The characters HubSpot decodes in the URI it signs (its v3 instructions list them).
_HUBSPOT_ENCODED = re.compile(r"%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)", re.IGNORECASE)


class Unverified(Exception):
    """Why a request's signature does not hold: ``reason`` is a code (``missing_signature``,
    ``bad_timestamp``, ``stale_timestamp`` …), the message says what to fix."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def leadops_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with ``secret``."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, at: datetime) -> dict[str, str]:
    """The headers that sign ``body`` as sent at ``at``."""
    timestamp = int(at.timestamp())
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: leadops_signature(secret, timestamp, body),
    }


def hubspot_uri(url: str) -> str:
    """The URI as HubSpot signs it: the full URL of the request with ``%3A``, ``%2F``, ``%3F``,
    ``%40``, ``%21``, ``%24``, ``%27``, ``%28``, ``%29``, ``%2A``, ``%2C`` and ``%3B`` decoded."""
    return _HUBSPOT_ENCODED.sub(lambda m: chr(int(m.group(1), 16)), url)


def hubspot_v3_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """Base64 of the HMAC-SHA256 of ``method + uri + body + timestamp`` (UTF-8) with ``secret``."""
    message = f"{method}{uri}".encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def _check_time(header: str, raw: str | None, now: datetime, *, per_second: int, unit: str) -> None:
    if raw is None or not raw.strip():
        raise Unverified(
            "missing_timestamp", f"missing the {header} header (the Unix time of signing, {unit})"
        )
    value = raw.strip()
    if _DIGITS.fullmatch(value) is None:
        raise Unverified(
            "bad_timestamp", f"{header} {value[:40]!r} is not a Unix time in {unit} (digits only)"
        )
    off = (int(value) - now.timestamp() * per_second) / per_second
    limit = TOLERANCE.total_seconds()
    if off < -limit:
        raise Unverified(
            "stale_timestamp",
            f"{header} is {-off:.0f} s old; a delivery must arrive within "
            f"{limit / 60:g} minutes of its signing (sign each retry anew)",
        )
    if off > limit:
        raise Unverified(
            "future_timestamp",
            f"{header} is {off:.0f} s ahead of leadops' clock; at most {limit / 60:g} minutes",
        )


def verify_leadops(
    headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: datetime
) -> str:
    """Check leadops' own signature against any of ``secrets`` (a source's current and previous
    secret); ``headers`` has lower-case names. Returns the signature; raises :class:`Unverified`
    with the reason."""
    raw_time = headers.get(TIMESTAMP_HEADER.lower())
    _check_time(TIMESTAMP_HEADER, raw_time, now, per_second=1, unit="seconds")
    assert raw_time is not None
    given = (headers.get(SIGNATURE_HEADER.lower()) or "").strip()
    if not given:
        raise Unverified(
            "missing_signature",
            f'missing the {SIGNATURE_HEADER} header: sha256=<hex HMAC-SHA256 of "<timestamp>.'
            "<raw body>\"> with the source's secret",
        )
    if _HEX_SIGNATURE.fullmatch(given) is None:
        raise Unverified(
            "bad_signature",
            f"{SIGNATURE_HEADER} must be sha256= and 64 lower-case hex digits, got {given[:80]!r}",
        )
    expected = [leadops_signature(s, raw_time.strip(), body) for s in secrets]
    if not any([_same(given, e) for e in expected]):  # every secret is tried: constant time
        raise Unverified("bad_signature", LEADOPS_MISMATCH)
    return given


def verify_hubspot(
    headers: Mapping[str, str],
    method: str,
    url: str,
    body: bytes,
    secrets: Sequence[str],
    now: datetime,
) -> str:
    """Check HubSpot's v3 signature of a request to ``url`` (as HubSpot called it). Returns the
    signature; raises :class:`Unverified` with the reason."""
    raw_time = headers.get(HUBSPOT_TIMESTAMP_HEADER.lower())
    _check_time(HUBSPOT_TIMESTAMP_HEADER, raw_time, now, per_second=1000, unit="milliseconds")
    assert raw_time is not None
    given = (headers.get(HUBSPOT_SIGNATURE_HEADER.lower()) or "").strip()
    if not given:
        raise Unverified(
            "missing_signature",
            f"missing the {HUBSPOT_SIGNATURE_HEADER} header (HubSpot's v3 request signature)",
        )
    uri = hubspot_uri(url)
    expected = [hubspot_v3_signature(s, method, uri, body, raw_time.strip()) for s in secrets]
    if not any([_same(given, e) for e in expected]):
        raise Unverified("bad_signature", HUBSPOT_MISMATCH)
    return given
