"""The webhook URLs: ``POST /api/v1/webhooks/{source}`` for the systems that send live events —
authenticated by the signature of each delivery with its source's secret, not by a session or an
API token — and what an admin reads about the sources and the deliveries refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from leadops.config import Settings
from leadops.ingest.webhook_sources import describe_sources, refusals_of
from leadops.ingest.webhooks import MAX_BODY_BYTES, Delivery, receive
from leadops.signing import (
    HUBSPOT_SIGNATURE_HEADER,
    HUBSPOT_TIMESTAMP_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
)
from leadops.web import responses as out
from leadops.web.deps import RuntimeDep, SessionDep
from leadops.web.fields import Text
from leadops.web.security import require

router = APIRouter(prefix="/api/v1", tags=["webhooks"])


class WebhookAccepted(BaseModel):
    source: str
    events: int = Field(description="Events in the delivery (one, or HubSpot's array).")
    activities: int = Field(description="Activities stored.")
    duplicates: int = Field(description="Events or activities taken before (by their id).")
    leads_created: int
    leads_updated: int
    ignored: int = Field(description="Events that change nothing (a HubSpot deletion).")
    rejected: list[out.Rejected] = Field(description="Events refused, each with its errors.")
    rejects_job: int | None = Field(
        description="The import job that keeps the refused events (GET /api/v1/imports/{id})."
    )


class WebhookSourceOut(BaseModel):
    name: str
    kind: str
    path: str
    created_at: datetime
    rotated_at: datetime | None
    previous_secret_until: datetime | None = Field(
        description="Until when the secret before the last rotation is still accepted."
    )
    last_used_at: datetime | None
    refused_24h: int


class WebhookRefusalOut(BaseModel):
    id: int
    source: str
    known_source: bool
    at: datetime
    reason: str = Field(examples=["bad_signature"])
    detail: str
    address: str | None
    body_kept: bool = Field(description="The body of an authentic but unreadable delivery.")


def _error(description: str) -> dict[str, Any]:
    return {"model": out.ErrorOut, "description": description}


RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": WebhookAccepted, "description": "Taken (events refused inside it listed)."},
    400: _error("The body is not JSON, or not form-encoded text (where it stops being so)."),
    401: _error(
        "The signature is missing, malformed, made with another secret, or dated more than 5 "
        "minutes away from leadops' clock (the code says which); also for a source that does "
        "not exist. Recorded with the source."
    ),
    409: _error("A replay: this very delivery (its signature) was taken already."),
    413: _error(f"The delivery is larger than {MAX_BODY_BYTES:,} bytes."),
    422: _error("None of the delivery's events could be taken: each bad field with its path."),
}


def _header(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "schema": {"type": "string"}, "description": description}


OPENAPI = {
    "parameters": [
        _header(TIMESTAMP_HEADER, "Unix time in seconds of the signing (generic and form)."),
        _header(
            SIGNATURE_HEADER,
            'sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>"> with the source\'s secret.',
        ),
        _header(HUBSPOT_SIGNATURE_HEADER, "HubSpot's v3 signature (hubspot sources)."),
        _header(HUBSPOT_TIMESTAMP_HEADER, "HubSpot's signing time in milliseconds."),
    ],
    "requestBody": {
        "required": True,
        "description": "generic: one item of POST /api/v1/activities, the lead's fields under "
        "`lead`; hubspot: HubSpot's array of events; form: a flat submission (docs/webhooks.md).",
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]
                },
                "example": {
                    "email": "taro.yamada@example.co.jp",
                    "type": "form_submit",
                    "occurred_at": "2026-11-20T10:15:00+09:00",
                    "properties": {"form": "inquiry"},
                    "external_id": "evt-000123",
                    "lead": {"company": "株式会社サンプル", "full_name": "山田 太郎"},
                },
            },
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "additionalProperties": {"type": "string"}}
            },
        },
    },
}


def signed_url(request: Request, settings: Settings) -> str:
    """The URL the sender called: behind a proxy, leadops' public address and the path."""
    if not settings.public_url:
        return str(request.url)
    query = request.url.query
    return settings.public_url.rstrip("/") + request.url.path + (f"?{query}" if query else "")


SourceName = Annotated[
    str,
    Path(max_length=64, description="The source's name.", examples=["site-form"]),
]


@router.post(
    "/webhooks/{source}",
    status_code=202,
    response_model=WebhookAccepted,
    responses=RESPONSES,
    openapi_extra=OPENAPI,
)
async def receive_webhook(source: SourceName, request: Request, runtime: RuntimeDep) -> Any:
    """A live event (or HubSpot's batch) from a webhook source, signed with its secret; taken
    as the API takes leads and activities. docs/webhooks.md describes each kind."""
    body = await request.body()
    delivery = Delivery(
        source=source,
        method=request.method,
        url=signed_url(request, runtime.settings),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
        content_type=request.headers.get("content-type", ""),
        address=request.client.host if request.client else None,
    )
    now = runtime.clock.now()
    received = await run_in_threadpool(receive, runtime.factory, runtime.settings, now, delivery)
    return received.as_dict()


@router.get(
    "/webhooks",
    dependencies=[require("admin")],
    response_model=list[WebhookSourceOut],
    responses=out.SIGNED_IN,
)
def list_webhook_sources(session: SessionDep, runtime: RuntimeDep) -> list[dict[str, Any]]:
    """The webhook sources (never their secrets), with deliveries refused in the last 24 h."""
    return describe_sources(session, runtime.clock.now())


@router.get(
    "/webhooks/refusals",
    dependencies=[require("admin")],
    response_model=list[WebhookRefusalOut],
    responses=out.errors(401, 403, 422),
)
def list_webhook_refusals(
    session: SessionDep,
    source: Annotated[
        Text | None, Query(max_length=64, description="Only this source's refusals.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """The latest deliveries refused, newest first: source, reason, detail, address."""
    return refusals_of(session, source=source, limit=limit)
