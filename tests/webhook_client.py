"""A webhook sender for tests: signs deliveries the way docs/webhooks.md tells a sender to (its own
HMAC code, not leadops'), and posts them without any API token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from leadops.clock import FixedClock
from leadops.ingest.webhook_sources import add_source
from leadops.models import WebhookRefusal
from leadops.runtime import Runtime
from leadops.web.app import create_app


def leadops_headers(secret: str, body: bytes, at: datetime) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return {"X-Leadops-Timestamp": timestamp, "X-Leadops-Signature": f"sha256={mac.hexdigest()}"}


def hubspot_headers(secret: str, url: str, body: bytes, at: datetime) -> dict[str, str]:
    """HubSpot's v3: base64 HMAC-SHA256 of method + URI + body + timestamp (milliseconds)."""
    timestamp = str(int(at.timestamp() * 1000))
    source = b"POST" + url.encode() + body + timestamp.encode()
    signature = base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest())
    return {
        "X-HubSpot-Signature-v3": signature.decode(),
        "X-HubSpot-Request-Timestamp": timestamp,
    }


def as_body(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


class Sender:
    """Posts to /api/v1/webhooks/{name}, signed at the runtime's (fixed) clock unless told."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.http = TestClient(create_app(runtime))
        assert isinstance(runtime.clock, FixedClock)
        self.clock: FixedClock = runtime.clock

    def add(self, name: str, *, kind: str = "generic", secret: str | None = None) -> str:
        with self.runtime.factory() as session, session.begin():
            return add_source(session, name, kind=kind, now=self.clock.now(), secret=secret).secret

    def post(
        self,
        name: str,
        payload: Any,
        *,
        secret: str,
        at: datetime | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Response:
        body = as_body(payload)
        signed = leadops_headers(secret, body, at or self.clock.now())
        return self.raw(name, body, {**signed, **(headers or {}), "Content-Type": content_type})

    def raw(self, name: str, body: bytes, headers: dict[str, str]) -> Response:
        return self.http.post(f"/api/v1/webhooks/{name}", content=body, headers=headers)

    def refusals(self) -> list[tuple[str, str]]:
        """(source, reason) of every refusal recorded, oldest first."""
        with self.runtime.factory() as session:
            rows = session.execute(
                select(WebhookRefusal.source, WebhookRefusal.reason).order_by(WebhookRefusal.id)
            )
            return [(source, reason) for source, reason in rows]
