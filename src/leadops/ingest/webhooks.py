"""Live feeds: a delivery to ``POST /api/v1/webhooks/{source}``, checked, then taken through the
ingestion path of the API.

1. **Signed**: the source the URL names, its signature (leadops' own, or HubSpot's v3 for a
   ``hubspot`` source) made with its secret — or, for a grace period after a rotation, the previous
   one — at a time within 5 minutes of leadops' clock, either way.
2. **Once**: each accepted delivery's signature is remembered for 10 minutes (as long as a
   signature can stay within the window), and the same signature again is refused as a replay.
   Each event's own id (``external_id``, HubSpot's ``eventId``, a form's submission id or the
   digest of its body) is remembered for 7 days: an event sent again is taken once (and an
   activity is unique by source and external id for ever).
3. **Taken**: the body read as the source's kind says (``webhook_payloads``); the leads' fields
   upserted as ``PUT /api/v1/leads`` does, the activities stored as ``POST /api/v1/activities``
   does — scored, routed, approach requests opened — in one transaction with the receipts.

A refused delivery is recorded with the source and the reason (``webhook_refusals``) in a
transaction of its own — nothing else of it is written — and answered with a domain error:
signature problems are NotSignedIn (401), a replay Conflict (409), an unreadable body 400, a
delivery none of whose events can be taken ValidationFailed (422). Events refused inside an
accepted delivery are import rejects, as for an API batch.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from leadops.config import Settings
from leadops.db import insert_for, run_in_transaction
from leadops.errors import (
    Conflict,
    FieldError,
    LeadopsError,
    NotSignedIn,
    TooLarge,
    ValidationFailed,
)
from leadops.ingest.activities import activity_types, ingest_activities, validate_activity
from leadops.ingest.context import IngestContext
from leadops.ingest.leads import SAME_LEAD, LeadInput, LeadWriter, validate_lead
from leadops.ingest.service import record_rejects
from leadops.ingest.webhook_payloads import READERS, Event, UnreadableBody
from leadops.ingest.webhook_sources import NAME, secrets_of
from leadops.models import WebhookReceipt, WebhookRefusal, WebhookSource
from leadops.models.base import table_of
from leadops.normalize import scrub_text
from leadops.signing import (
    LEADOPS_MISMATCH,
    TOLERANCE,
    Unverified,
    verify_hubspot,
    verify_leadops,
)

#: The largest delivery taken (HubSpot sends at most 100 events at once).
MAX_BODY_BYTES = 1_000_000
#: How long a delivery's signature is remembered: it verifies for at most twice the tolerance.
SIGNATURE_MEMORY = 2 * TOLERANCE
EVENT_MEMORY = timedelta(days=7)
REFUSALS_KEPT = timedelta(days=30)
#: What an unknown source's request is checked with, so that it takes as long as a known one's.
_NO_SECRET = "no source has this secret"
_ACTIVITY_PATH = re.compile(r"^activit(?:y|ies)\[\d+\]\.?")


@dataclass(frozen=True)
class Delivery:
    """A request to a webhook URL, as it came: ``headers`` with lower-case names, the raw body,
    and ``url`` as the sender called it (HubSpot signs it)."""

    source: str
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    content_type: str = ""
    address: str | None = None


@dataclass
class Received:
    source: str
    events: int = 0
    activities: int = 0
    duplicates: int = 0
    leads_created: int = 0
    leads_updated: int = 0
    ignored: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    #: The import job that keeps the rejected events (``leadops import rejects JOB``).
    rejects_job: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class SignatureRefused(NotSignedIn):
    """A delivery whose signature does not hold; ``code`` says why (``stale_timestamp`` …)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Replayed(Conflict):
    code = "replay"


class Refusal(Exception):
    """Why a delivery is refused: the reason recorded, the error answered."""

    def __init__(self, reason: str, error: LeadopsError, *, body: bytes | None = None) -> None:
        super().__init__(error.message)
        self.reason, self.error, self.body = reason, error, body


def receive(
    factory: sessionmaker[Session], settings: Settings, now: datetime, delivery: Delivery
) -> Received:
    """Check and take one delivery; raise the domain error of a refusal once it is recorded."""
    try:
        received = run_in_transaction(factory, lambda s: _take(s, settings, now, delivery))
    except Refusal as exc:
        refused = exc
        run_in_transaction(factory, lambda s: record_refusal(s, now, delivery, refused))
        raise refused.error from None
    return received


def _source(session: Session, name: str) -> WebhookSource | None:
    """The source of this name; a name no source can have is not looked for."""
    if NAME.fullmatch(name) is None:
        return None
    return session.scalar(select(WebhookSource).where(WebhookSource.name == name))


def _take(session: Session, settings: Settings, now: datetime, delivery: Delivery) -> Received:
    if len(delivery.body) > MAX_BODY_BYTES:
        message = (
            f"a delivery is at most {MAX_BODY_BYTES:,} bytes; this one is {len(delivery.body):,} "
            "(send fewer events at once)"
        )
        raise Refusal("too_large", TooLarge(message))
    source = _source(session, delivery.source)
    signature = _verify(source, delivery, now)
    assert source is not None
    try:
        events = READERS[source.kind](delivery.body, delivery.content_type, source.name, now)
    except (UnreadableBody, ValidationFailed) as exc:
        raise Refusal("bad_payload", exc, body=delivery.body) from None
    session.execute(delete(WebhookReceipt).where(WebhookReceipt.expires_at <= now))
    if not _remember(session, source.id, [_key("signature", signature)], now + SIGNATURE_MEMORY):
        message = (
            "this delivery was taken already (the same signature again): sign each retry anew, "
            "with its own timestamp; an event sent again with its id is taken once"
        )
        raise Refusal("replay", Replayed(message))
    received = take_events(session, settings, now, source, events)
    if received.rejected and len(received.rejected) == received.events:
        # Nothing of it can be taken: refused whole, nothing kept but the refusal (and its body).
        errors = [FieldError(**e) for r in received.rejected for e in r["errors"]]
        raise Refusal("bad_payload", ValidationFailed(errors), body=delivery.body)
    if source.last_used_at is None or now - source.last_used_at >= timedelta(minutes=1):
        source.last_used_at = now  # bookkeeping, at most once a minute
    return received


def _verify(source: WebhookSource | None, delivery: Delivery, now: datetime) -> str:
    """The delivery's signature, made with one of the source's secrets at a time within the
    window; else a Refusal. An unknown source is told what a wrong secret is told."""
    hubspot = source is not None and source.kind == "hubspot"
    keys = secrets_of(source, now) if source is not None else [_NO_SECRET]
    try:
        if hubspot:
            signature = verify_hubspot(
                delivery.headers, delivery.method, delivery.url, delivery.body, keys, now
            )
        else:
            signature = verify_leadops(delivery.headers, delivery.body, keys, now)
    except Unverified as exc:
        reason = exc.reason if source is not None else "unknown_source"
        raise Refusal(reason, SignatureRefused(exc.reason, exc.message)) from None
    if source is None:  # its URL is answered as a wrong secret is
        raise Refusal("unknown_source", SignatureRefused("bad_signature", LEADOPS_MISMATCH))
    return signature


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode(errors="replace")).hexdigest()


def _remember(session: Session, source_id: int, keys: list[str], until: datetime) -> set[str]:
    """Remember ``keys`` for the source; return those it had not seen (in order of key, so that
    two writers never wait on each other's keys crosswise)."""
    if not keys:
        return set()
    table = table_of(WebhookReceipt)
    rows = [{"source_id": source_id, "key": k, "expires_at": until} for k in sorted(set(keys))]
    stmt = (
        insert_for(session)(table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["source_id", "key"])
        .returning(table.c.key)
    )
    return set(session.scalars(stmt))


def _forget(session: Session, source_id: int, keys: list[str]) -> None:
    if keys:
        session.execute(
            delete(WebhookReceipt).where(
                WebhookReceipt.source_id == source_id, WebhookReceipt.key.in_(keys)
            )
        )


def take_events(
    session: Session, settings: Settings, now: datetime, source: WebhookSource, events: list[Event]
) -> Received:
    """Events of one delivery taken as the API takes leads and activities (acting as
    ``webhook:<source>``); each event with an id taken once."""
    ctx = IngestContext.from_settings(
        session, settings, now, actor_kind="webhook", actor_ref=source.name
    )
    received = Received(source.name, events=len(events))
    rejected: dict[int, list[FieldError]] = {e.index: e.errors for e in events if e.errors}
    live = [e for e in events if not e.errors and e.ignored is None]
    received.ignored = sum(1 for e in events if not e.errors and e.ignored is not None)
    checked = _validate(ctx, live, rejected, source.name)
    checked, received.duplicates = _first_time(session, source.id, checked, now)
    _write_leads(ctx, checked, rejected, received)
    kept = [e for e, _ in checked if e.index not in rejected]
    _store_activities(ctx, kept, rejected, received, source.name)
    taken_again = [e.event_id for e, _ in checked if e.index in rejected and e.event_id]
    _forget(session, source.id, [_key("event", i) for i in taken_again])
    if rejected:
        raws = {e.index: e.raw for e in events}
        received.rejected = [
            {"index": i, "errors": [e.as_dict() for e in errs]}
            for i, errs in sorted(rejected.items())
        ]
        items = [raws.get(i) for i in range(len(events))]
        received.rejects_job = record_rejects(
            session, now, "webhook", items, received.rejected, actor=f"webhook:{source.name}"
        )
    return received


def _moved(event: Event, part: str, error: FieldError) -> FieldError:
    """An error of a lead or activity field at the path where the sender put that field."""
    path = _ACTIVITY_PATH.sub("", error.path) if part == "activity" else error.path
    name, dot, rest = path.partition(".")
    return FieldError(event.path(part, name) + dot + rest if name else "body", error.message)


def _validate(
    ctx: IngestContext, events: list[Event], rejected: dict[int, list[FieldError]], source: str
) -> list[tuple[Event, LeadInput | None]]:
    """Each event's lead and activity checked before anything is written: an event is taken
    whole or not at all."""
    types = activity_types(ctx)
    out: list[tuple[Event, LeadInput | None]] = []
    for event in events:
        errors: list[FieldError] = []
        lead = None
        if event.lead is not None:
            lead, found = validate_lead(event.lead, ctx, crm_source=event.lead.get("crm_source"))
            errors += [_moved(event, "lead", e) for e in found]
        if event.activity is not None:
            _, found = validate_activity(
                event.activity, 0, ctx, types, path="activity", default_source=source
            )
            errors += [_moved(event, "activity", e) for e in found]
        if errors:
            rejected[event.index] = _first_per_path(errors)
        else:
            out.append((event, lead))
    return out


def _first_per_path(errors: list[FieldError]) -> list[FieldError]:
    """One error per field: the lead's and the activity's checks both miss an e-mail."""
    seen: set[str] = set()
    out = []
    for error in errors:
        if error.path not in seen:
            seen.add(error.path)
            out.append(error)
    return out


def _first_time(
    session: Session,
    source_id: int,
    checked: list[tuple[Event, LeadInput | None]],
    now: datetime,
) -> tuple[list[tuple[Event, LeadInput | None]], int]:
    """The events not taken before (by their id), and how many were."""
    ids = {e.event_id for e, _ in checked if e.event_id}
    new = _remember(session, source_id, [_key("event", i) for i in ids], now + EVENT_MEMORY)
    out, seen, again = [], set(), 0
    for event, lead in checked:
        if event.event_id is None:
            out.append((event, lead))
        elif event.event_id in seen or _key("event", event.event_id) not in new:
            again += 1
        else:
            seen.add(event.event_id)
            out.append((event, lead))
    return out, again


def _write_leads(
    ctx: IngestContext,
    checked: list[tuple[Event, LeadInput | None]],
    rejected: dict[int, list[FieldError]],
    received: Received,
) -> None:
    """The leads' fields, upserted in the order the events happened, then scored and routed."""
    writer = LeadWriter(ctx)
    writer.preload(lead for _, lead in checked if lead is not None)
    for event, lead in checked:
        if lead is None:
            continue
        outcome = writer.upsert(lead)
        if outcome.refused is not None:
            rejected[event.index] = [_moved(event, "lead", e) for e in outcome.errors()]
        elif outcome.created:
            received.leads_created += 1
        elif outcome.changed or SAME_LEAD in outcome.flags:
            # An event a later one of this delivery carries in (the same contact) updated it.
            received.leads_updated += 1
    writer.finish()


def _store_activities(
    ctx: IngestContext,
    events: list[Event],
    rejected: dict[int, list[FieldError]],
    received: Received,
    source: str,
) -> None:
    with_activity = [e for e in events if e.activity is not None]
    if not with_activity:
        return
    items = [e.activity for e in with_activity]
    result = ingest_activities(ctx, items, path="activity", default_source=source)
    for reject in result.rejected:
        event = with_activity[reject.index]
        rejected[event.index] = [_moved(event, "activity", e) for e in reject.errors]
    received.activities += result.accepted
    received.duplicates += result.duplicates
    received.leads_created += result.new_leads


def record_refusal(session: Session, now: datetime, delivery: Delivery, refusal: Refusal) -> None:
    """Keep a refused delivery with its source and reason (and, when the delivery was
    authentic but unreadable, its body); refusals older than 30 days are dropped."""
    session.execute(delete(WebhookRefusal).where(WebhookRefusal.at < now - REFUSALS_KEPT))
    error = refusal.error
    detail = error.message
    if isinstance(error, ValidationFailed):
        detail = "; ".join(f"{e.path}: {e.message}" for e in error.errors) or detail
    body = None
    if refusal.body is not None:
        body = scrub_text(refusal.body.decode("utf-8", errors="replace"))
    source = _source(session, delivery.source)
    session.add(
        WebhookRefusal(
            source=scrub_text(delivery.source)[:64],
            source_id=source.id if source is not None else None,
            at=now,
            reason=refusal.reason,
            detail=scrub_text(detail)[:4000],
            address=scrub_text(delivery.address)[:100] if delivery.address else None,
            body=body,
        )
    )
