"""Failed sign-ins, counted per account and per client address, so that passwords cannot be
guessed at speed.

An attempt is recorded as a failure *before* its password is checked (``claim_attempt``), in a
short transaction of its own that first takes a lock on its keys (SQLite's write lock; PostgreSQL
advisory locks), so that concurrent guesses — from any number of server processes — are counted
at once and never slip past the limit together. A right password then clears the account's
failures (``clear_account``). Over the limit, the attempt is refused without being recorded, so
the wait ends when the oldest counted failure leaves the window.

Keys are SHA-256 digests: the e-mail tried (normalized, whether or not an account has it) and the
client's address, so the table holds no e-mail anyone typed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select, text
from sqlalchemy.orm import Session

from leadops.models import SignInFailure
from leadops.normalize import normalize_email


@dataclass(frozen=True)
class Throttle:
    """How many failed sign-ins one account (e-mail) and one client address may have within
    ``window`` before further attempts are refused."""

    per_account: int
    per_address: int
    window: timedelta


@dataclass(frozen=True)
class Keys:
    account: str
    address: str


def keys_of(email: str, address: str) -> Keys:
    """The throttle's keys for an e-mail as typed and a client address."""
    try:
        account = normalize_email(email)
    except ValueError:
        account = email.strip().lower()
    return Keys(_digest("account", account), _digest("address", address))


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode(errors="replace")).hexdigest()


def claim_attempt(
    session: Session, keys: Keys, *, now: datetime, throttle: Throttle
) -> timedelta | None:
    """How long to wait when the account or the address has had too many failures within the
    window; else None, with this attempt recorded as a failure (cleared if its password is right)
    and failures that have left the window pruned."""
    _lock(session, keys)
    since = now - throttle.window
    counted = [
        _oldest_counted(
            session, SignInFailure.account == keys.account, throttle.per_account, since
        ),
        _oldest_counted(
            session, SignInFailure.address == keys.address, throttle.per_address, since
        ),
    ]
    full = [at for at in counted if at is not None]
    if full:
        return max(full) + throttle.window - now
    session.execute(delete(SignInFailure).where(SignInFailure.at <= since))
    session.add(SignInFailure(account=keys.account, address=keys.address, at=now))
    session.flush()
    return None


def clear_account(session: Session, keys: Keys) -> None:
    """A right password: the account's failures are forgotten (the address's are not)."""
    session.execute(delete(SignInFailure).where(SignInFailure.account == keys.account))


def _oldest_counted(
    session: Session, key: ColumnElement[bool], limit: int, since: datetime
) -> datetime | None:
    """When the key has ``limit`` failures within the window: the oldest of the latest ``limit``
    (the attempt is allowed again once it leaves the window). Else None."""
    latest = session.scalars(
        select(SignInFailure.at)
        .where(key, SignInFailure.at > since)
        .order_by(SignInFailure.at.desc())
        .limit(limit)
    ).all()
    return latest[-1] if len(latest) >= limit else None


def _lock(session: Session, keys: Keys) -> None:
    """Attempts on the same account or address take turns (PostgreSQL: advisory locks held to the
    end of the transaction, taken in a fixed order; SQLite: the caller's BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted({keys.account, keys.address}):
        number = int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": number})
