"""Webhook sources (the systems that send leadops live events), what they sent while it matters,
and the deliveries leadops refused.

A source's secret is kept as it was given: verifying an HMAC needs the secret itself, not a hash
of it (unlike a session cookie or an API token). It is shown once, when it is made, and never
again: not listed, not logged, not in an error. The database holds it like any shared secret
(docs/webhooks.md says how to protect and rotate it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadops.models.base import Base, BigId, UTCDateTime


class WebhookSource(Base):
    __tablename__ = "webhook_sources"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The name in the URL: ``POST /api/v1/webhooks/{name}``.
    name: Mapped[str] = mapped_column(String(64), unique=True)
    #: How its deliveries are signed and read: ``generic``, ``hubspot`` or ``form``.
    kind: Mapped[str] = mapped_column(String(10))
    secret: Mapped[str] = mapped_column(String(200))
    #: The secret before the last rotation, still accepted until ``previous_valid_until``.
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When a delivery was last accepted.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookReceipt(Base):
    """What a source sent, remembered as long as it matters: the signature of each accepted
    delivery (a replay within the signing window is refused) and the id of each event taken (an
    event sent again is taken once). ``key`` is the SHA-256 of ``signature:…`` or ``event:…``."""

    __tablename__ = "webhook_receipts"
    __table_args__ = (Index("ix_webhook_receipts_expires_at", "expires_at"),)

    source_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_sources.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookRefusal(Base):
    """A delivery leadops refused, with the source named in its URL and why: what an admin reads
    to find a misconfigured sender (or someone guessing)."""

    __tablename__ = "webhook_refusals"
    __table_args__ = (
        Index("ix_webhook_refusals_source_at", "source", "at"),
        Index("ix_webhook_refusals_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The source as the URL named it (a source may not exist, or have been removed since).
    source: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_sources.id", ondelete="SET NULL")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: unknown_source, missing_signature, bad_signature, missing_timestamp, bad_timestamp,
    #: stale_timestamp, future_timestamp, replay, too_large, bad_payload.
    reason: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text)
    #: The client's address.
    address: Mapped[str | None] = mapped_column(String(100))
    #: The body of an authentic delivery that could not be read, so that nothing the source sent
    #: is lost (never kept for an unverified one).
    body: Mapped[str | None] = mapped_column(Text)
