"""Ingestion as the API offers it: one lead, a batch of leads, a batch of activities.

Each function is one unit of work on the session it is given; rejected items are kept in
``import_rejects`` like rejected file rows. Callers run them with ``db.run_in_transaction`` so a
race with a concurrent writer is retried (every write here is an upsert).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from leadops.config import Settings
from leadops.errors import ValidationFailed
from leadops.ingest.activities import ingest_activity_groups
from leadops.ingest.context import IngestContext
from leadops.ingest.leads import LeadInput, LeadWriter, validate_lead
from leadops.leads import lead_as_dict
from leadops.models import ImportJob, ImportReject, column_length
from leadops.normalize import scrub_text, scrubbed


def upsert_lead(
    session: Session, settings: Settings, now: Any, data: dict[str, Any]
) -> dict[str, Any]:
    ctx = IngestContext.from_settings(session, settings, now, actor_kind="api")
    item, errors = validate_lead(data, ctx, crm_source=data.get("crm_source"))
    if item is None:
        raise ValidationFailed(errors)
    writer = LeadWriter(ctx)
    writer.preload([item])
    outcome = writer.upsert(item)
    if outcome.refused is not None:
        raise outcome.refused
    writer.finish()
    assert outcome.lead is not None
    session.refresh(outcome.lead)
    return {
        "created": outcome.created,
        "changed": outcome.changed,
        "lead": lead_as_dict(outcome.lead),
        "flags": [{"flag": f, "message": m} for f, m in outcome.flags],
    }


def upsert_leads(
    session: Session, settings: Settings, now: Any, items: list[Any]
) -> dict[str, Any]:
    ctx = IngestContext.from_settings(session, settings, now, actor_kind="api")
    parsed: list[tuple[int, LeadInput]] = []
    rejected: list[dict[str, Any]] = []
    for index, raw in enumerate(items):
        crm_source = raw.get("crm_source") if isinstance(raw, dict) else None
        item, errors = validate_lead(raw, ctx, crm_source=crm_source, prefix=f"leads[{index}].")
        if item is None:
            rejected.append({"index": index, "errors": [e.as_dict() for e in errors]})
        else:
            parsed.append((index, item))
    writer = LeadWriter(ctx)
    writer.preload(item for _, item in parsed)
    created = changed = 0
    for index, item in parsed:
        outcome = writer.upsert(item)
        if outcome.refused is not None:
            errors = outcome.errors(prefix=f"leads[{index}].")
            rejected.append({"index": index, "errors": [e.as_dict() for e in errors]})
            continue
        created += outcome.created
        changed += outcome.changed and not outcome.created
    writer.finish()
    rejected.sort(key=lambda r: r["index"])
    record_rejects(session, now, "api-leads", items, rejected)
    return {
        "created": created,
        "updated": changed,
        "unchanged": len(items) - len(rejected) - created - changed,
        "rejected": rejected,
        "good": len(items) - len(rejected),
    }


def store_activities(
    session: Session, settings: Settings, now: Any, items: list[Any]
) -> dict[str, Any]:
    """Store one batch of activities; rejected items are kept under an import job."""
    return store_activity_groups(session, settings, now, [items])[0]


def store_activity_groups(
    session: Session, settings: Settings, now: Any, parts: list[list[Any]]
) -> list[dict[str, Any]]:
    """Several requests' batches stored in one unit of work (``ingest.grouped``): each part's
    result as storing it alone would give it, its rejects kept under a job of its own."""
    ctx = IngestContext.from_settings(session, settings, now, actor_kind="api")
    out = []
    for items, result in zip(parts, ingest_activity_groups(ctx, parts), strict=True):
        rejected = [r.as_dict() for r in result.rejected]
        record_rejects(session, now, "api-activities", items, rejected)
        out.append({**result.as_dict(), "good": result.accepted + result.duplicates})
    return out


def record_rejects(
    session: Session,
    now: Any,
    kind: str,
    items: list[Any],
    rejected: list[dict[str, Any]],
    *,
    actor: str = "api",
) -> int | None:
    """Rejected API items are kept like rejected file rows: nothing sent is silently lost.
    Returns the id of the import job that holds them."""
    if not rejected:
        return None
    job = ImportJob(
        kind=kind,
        state="done",
        dry_run=False,
        actor=actor,
        started_at=now,
        finished_at=now,
        rows_total=len(items),
        rows_taken=len(items) - len(rejected),
        rows_unchanged=0,
        rows_rejected=len(rejected),
        rows_flagged=0,
    )
    session.add(job)
    session.flush()
    field_length = column_length(ImportReject.field)
    for reject in rejected:
        raw = items[reject["index"]]
        errors = reject["errors"]
        # What was refused for holding a NUL or a lone surrogate is kept with U+FFFD in its place.
        session.add(
            ImportReject(
                job_id=job.id,
                row_number=reject["index"],
                raw=scrubbed(raw if isinstance(raw, dict) else {"item": raw}),
                field=scrub_text(errors[0]["path"])[:field_length],
                error=scrub_text("; ".join(f"{e['path']}: {e['message']}" for e in errors)),
            )
        )
    return job.id
