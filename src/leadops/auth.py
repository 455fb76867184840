"""Accounts that sign in: passwords kept as Argon2id hashes, and the roles a user can have.

A password is never stored or logged; only its hash (``$argon2id$…``, with its own salt and cost) is.
``verify_password`` answers False for a wrong password, an account without one, or a hash it cannot
read, so a caller has one answer to give: "wrong e-mail or password".
"""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.errors import FieldError, ValidationFailed
from leadops.ingest.normalize import normalize_email
from leadops.models import Team, User

ROLES = ("admin", "manager", "member", "marketing")
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker settings than today's (rehash it at the next sign-in)."""
    return _hasher.check_needs_rehash(stored)


def add_user(session: Session, email: str, *, password: str, role: str = "member", name: str | None = None,
             team: str | None = None, now: datetime) -> tuple[User, bool]:  # fmt: skip
    """Create the account, or update the one with this e-mail (name, role, team, password): running it
    twice gives one account. Returns (user, created). Bad input names its field."""
    errors = []
    try:
        address = normalize_email(email)
    except ValueError as exc:
        errors.append(FieldError("email", str(exc)))
    if role not in ROLES:
        errors.append(FieldError("role", f"expected one of {', '.join(ROLES)}, got {role!r}"))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", f"at least {MIN_PASSWORD_LENGTH} characters, got {len(password)}"))
    team_id = None
    if team is not None:
        team_id = session.execute(select(Team.id).where(Team.name == team)).scalar_one_or_none()
        if team_id is None:
            known = sorted(session.scalars(select(Team.name)))
            errors.append(FieldError("team", f"no team named {team!r}; teams are {', '.join(known) or '(none)'}"))
    if errors:
        raise ValidationFailed(errors)
    user = session.execute(select(User).where(User.email == address)).scalar_one_or_none()
    created = user is None
    if user is None:
        user = User(email=address, name=name or address.split("@")[0], role=role, team_id=team_id, active=True,
                    routing_weight=1.0, locale="ja", created_at=now)  # fmt: skip
        session.add(user)
    else:
        user.role = role
        user.name = name or user.name
        user.team_id = team_id if team is not None else user.team_id
    user.password_hash = hash_password(password)
    session.flush()
    return user, created
