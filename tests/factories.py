"""Keyword-only factories for tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from leadops.ingest.context import IngestContext
from leadops.ingest.leads import LeadWriter, validate_lead
from leadops.models import Lead
from leadops.runtime import Runtime


def ingest_context(session: Session, runtime: Runtime, **kwargs: Any) -> IngestContext:
    return IngestContext.from_settings(session, runtime.settings, runtime.clock.now(), **kwargs)


def make_lead(
    session: Session, runtime: Runtime, *, email: str = "taro@example.co.jp", **fields: Any
) -> Lead:
    ctx = ingest_context(session, runtime)
    item, errors = validate_lead({"email": email, **fields}, ctx)
    assert item is not None, errors
    writer = LeadWriter(ctx)
    writer.preload([item])
    lead = writer.upsert(item).lead
    writer.finish()
    session.refresh(lead)
    return lead
