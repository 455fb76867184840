"""Signed-in sessions, API tokens and saved views: what a person or a program uses to reach leadops;
and the failed sign-ins that throttle guessing.

Secrets are never stored: a session cookie and an API token are random strings shown once; the
tables keep only their SHA-256 (``token_hash``), so a copy of the database lets nobody in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from leadops.models.base import Base, BigId, Json, UTCDateTime


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Sent back with every form and HTMX request; checked against this value.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the token, to tell tokens apart in a list.
    prefix: Mapped[str] = mapped_column(String(16))
    #: "read" (GET only) or "write" (everything the owner's role may do).
    scope: Mapped[str] = mapped_column(String(10), default="read")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInFailure(Base):
    """One failed sign-in, kept for the throttle's window (rows older than it are pruned). It is
    written before the password is checked, so that concurrent guesses count at once, and deleted
    with the account's other failures when the password was right."""

    __tablename__ = "signin_failures"
    __table_args__ = (
        Index("ix_signin_failures_account_at", "account", "at"),
        Index("ix_signin_failures_address_at", "address", "at"),
        Index("ix_signin_failures_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: SHA-256 of the normalized e-mail tried, whether or not an account has it.
    account: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the client's address.
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class SavedView(Base):
    """A named set of lead-list filters a user can open again."""

    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    filters: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
