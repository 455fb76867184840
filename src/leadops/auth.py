"""Accounts that sign in: passwords kept as Argon2id hashes, and the roles a user can have.

A password is never stored or logged; only its hash (``$argon2id$…``, with its own salt and cost)
is. ``verify_password`` answers False for a wrong password, an account without one, or a hash it
cannot read, so a caller has one answer to give: "wrong e-mail or password".
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Engine, bindparam, delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from leadops.db import impatient_transaction, run_in_transaction
from leadops.errors import FieldError, Forbidden, NotFound, ValidationFailed
from leadops.models import ApiToken, Team, User, WebSession
from leadops.models.org import manager_of
from leadops.normalize import normalize_email
from leadops.throttle import Keys, Throttle, claim_attempt, clear_account, keys_of

ROLES = ("admin", "manager", "member", "marketing")
MIN_PASSWORD_LENGTH = 10
#: A token's ``last_used_at`` is written at most this often, and waits this long for a lock.
TOKEN_USE_EVERY = timedelta(minutes=1)
TOKEN_USE_LOCK_WAIT_MS = 100

logger = logging.getLogger(__name__)

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
    """True when the hash was made with weaker settings than today's (rehash it at the next
    sign-in)."""
    return _hasher.check_needs_rehash(stored)


def add_user(
    session: Session,
    email: str,
    *,
    password: str,
    role: str = "member",
    name: str | None = None,
    team: str | None = None,
    now: datetime,
) -> tuple[User, bool]:
    """Create the account, or update the one with this e-mail (name, role, team, password): running
    it twice gives one account. Returns (user, created). Bad input names its field."""
    errors = []
    try:
        address = normalize_email(email)
    except ValueError as exc:
        errors.append(FieldError("email", str(exc)))
    if role not in ROLES:
        errors.append(FieldError("role", f"expected one of {', '.join(ROLES)}, got {role!r}"))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(
            FieldError(
                "password", f"at least {MIN_PASSWORD_LENGTH} characters, got {len(password)}"
            )
        )
    team_id = None
    if team is not None:
        team_id = session.execute(select(Team.id).where(Team.name == team)).scalar_one_or_none()
        if team_id is None:
            known = sorted(session.scalars(select(Team.name)))
            errors.append(
                FieldError(
                    "team", f"no team named {team!r}; teams are {', '.join(known) or '(none)'}"
                )
            )
    if errors:
        raise ValidationFailed(errors)
    user = session.execute(select(User).where(User.email == address)).scalar_one_or_none()
    created = user is None
    if user is None:
        user = User(
            email=address,
            name=name or address.split("@")[0],
            role=role,
            team_id=team_id,
            active=True,
            routing_weight=1.0,
            locale="ja",
            created_at=now,
        )
        session.add(user)
    else:
        user.role = role
        user.name = name or user.name
        user.team_id = team_id if team is not None else user.team_id
        end_access(session, user.id, now=now)  # a new password signs the old one out everywhere
    user.password_hash = hash_password(password)
    session.flush()
    return user, created


def end_access(session: Session, user_id: int, *, now: datetime) -> None:
    """Sign the user out everywhere: delete their web sessions and revoke their API tokens. Done
    whenever their password is set anew or their account is deactivated, so that nothing signed in
    with the old password, or before the deactivation, works again (not even after reactivation)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


# --- signed-in sessions and API tokens
# ---------------------------------------------------------------

TOKEN_SCOPES = ("read", "write")
#: A hash to verify against when the e-mail is unknown, so that a wrong e-mail takes as long as a
#: wrong password.
_UNKNOWN_USER_HASH = _hasher.hash("not a password of anyone")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class SignIn:
    """What a sign-in came to: the new session's cookie value, or a refusal — with the seconds to
    wait (``retry_after``) when too many sign-ins failed."""

    secret: str | None = None
    retry_after: int | None = None


def sign_in(
    factory: sessionmaker[Session],
    email: str,
    password: str,
    *,
    address: str,
    now: datetime,
    throttle: Throttle,
    session_hours: float,
) -> SignIn:
    """A sign-in as the form sends it, in short transactions: claim the attempt (refused while
    the account or the address is throttled), check the password, start the session. Every attempt
    costs one Argon2 verification — against a dummy hash for an unknown e-mail or a throttled
    attempt — so its time tells neither whether the e-mail has an account nor whether the throttle
    holds. While throttled, even the right password is refused, unchecked."""
    keys = keys_of(email, address)
    wait = run_in_transaction(factory, lambda s: claim_attempt(s, keys, now=now, throttle=throttle))
    if wait is not None:
        verify_password(_UNKNOWN_USER_HASH, password)
        return SignIn(retry_after=max(1, math.ceil(wait.total_seconds())))
    with factory() as session:
        user = authenticate(session, email, password)
    if user is None:
        return SignIn()
    secret = run_in_transaction(
        factory, lambda s: _open_session(s, user, password, keys, now=now, hours=session_hours)
    )
    return SignIn(secret=secret)


def _open_session(
    session: Session, checked: User, password: str, keys: Keys, *, now: datetime, hours: float
) -> str | None:
    """After a right password: forget the account's failures and start a session, unless the
    account changed while the password was being checked."""
    user = session.get(User, checked.id)
    if user is None or not user.active or user.password_hash != checked.password_hash:
        return None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    clear_account(session, keys)
    secret, _row = start_session(session, user, now=now, hours=hours)
    return secret


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (one answer for every failure).
    Reads only; :func:`sign_in` renews a hash made with weaker settings."""
    try:
        address = normalize_email(email)
    except ValueError:
        address = ""
    user = (
        session.execute(select(User).where(User.email == address)).scalar_one_or_none()
        if address
        else None
    )
    if user is None or not user.active or not user.password_hash:
        verify_password(_UNKNOWN_USER_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    return user


def start_session(
    session: Session, user: User, *, now: datetime, hours: float
) -> tuple[str, WebSession]:
    """A new sign-in: returns the cookie value (shown once; only its hash is kept) and the
    session row."""
    secret = new_secret()
    row = WebSession(
        token_hash=digest(secret),
        user_id=user.id,
        csrf_token=new_secret(),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(row)
    session.execute(
        delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now)
    )
    session.flush()
    return secret, row


def session_of(session: Session, secret: str, now: datetime) -> tuple[User, WebSession] | None:
    row = session.execute(
        select(WebSession).where(WebSession.token_hash == digest(secret))
    ).scalar_one_or_none()
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return user, row


def end_session(session: Session, secret: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == digest(secret)))


def create_token(
    session: Session, user: User, *, name: str, scope: str, now: datetime
) -> tuple[str, ApiToken]:
    """A new API token for ``user``: returns the token (shown once) and its row."""
    errors = []
    if not name.strip():
        errors.append(FieldError("name", "give the token a name (what uses it)"))
    if scope not in TOKEN_SCOPES:
        errors.append(
            FieldError("scope", f"expected one of {', '.join(TOKEN_SCOPES)}, got {scope!r}")
        )
    if errors:
        raise ValidationFailed(errors)
    secret = "lo_" + new_secret()
    row = ApiToken(
        user_id=user.id,
        name=name.strip(),
        token_hash=digest(secret),
        prefix=secret[:10],
        scope=scope,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return secret, row


@dataclass(frozen=True)
class TokenHolder:
    """What an API token is good for: the token (its scope, when it was last noted as used) and
    the active user it speaks for."""

    token_id: int
    scope: str
    last_used_at: datetime | None
    user_id: int
    email: str | None
    name: str
    role: str
    team_id: int | None
    locale: str


#: One statement, built once, for the lookup every API call makes: the live token of an active
#: user by the hash of its secret.
_HOLDER = (
    select(
        ApiToken.id,
        ApiToken.scope,
        ApiToken.last_used_at,
        User.id,
        User.email,
        User.name,
        User.role,
        User.team_id,
        User.locale,
    )
    .join(User, User.id == ApiToken.user_id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        User.active.is_(True),
    )
)


def token_of(connection: Connection, secret: str) -> TokenHolder | None:
    """The holder of the API token ``secret``, or None (unknown, revoked, or its user inactive)."""
    row = connection.execute(_HOLDER, {"token_hash": digest(secret)}).first()
    return TokenHolder(*row) if row is not None else None


def note_token_use(engine: Engine, token: TokenHolder, now: datetime) -> None:
    """Best effort: set the token's ``last_used_at`` when the one recorded is over a minute old, in
    a short transaction of its own after the request's authentication. A write that cannot be made
    at once (SQLite's lock held by another writer, a locked row) is skipped, never failing the
    request: the next use a minute on records it."""
    if token.last_used_at is not None and now - token.last_used_at <= TOKEN_USE_EVERY:
        return
    try:
        with impatient_transaction(engine, TOKEN_USE_LOCK_WAIT_MS) as connection:
            _record_token_use(connection, token.token_id, now)
    except (SQLAlchemyError, sqlite3.Error) as exc:
        logger.debug("last use of API token %s not recorded: %s", token.token_id, exc)


def _record_token_use(connection: Connection, token_id: int, now: datetime) -> None:
    stale = or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOKEN_USE_EVERY)
    connection.execute(
        update(ApiToken).where(ApiToken.id == token_id, stale).values(last_used_at=now)
    )


def revoke_token(session: Session, token_id: int, *, user: User, now: datetime) -> ApiToken:
    """Revoke one of ``user``'s tokens (an admin may revoke anyone's). Revoking it again changes
    nothing."""
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != user.id and user.role != "admin"):
        raise NotFound(f"no API token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now
    return row


# --- acting for others -------------------------------------------------------------------------


def may_act_for(session: Session, actor: User, target: User) -> bool:
    """Whom a user may name as the one who did something (``by``): an admin anyone, a manager the
    members of the teams they manage (a team without a manager of its own belongs to the nearest
    manager above it), everyone else only themselves."""
    if actor.id == target.id or actor.role == "admin":
        return True
    if actor.role != "manager" or target.team_id is None:
        return False
    teams = {t.id: t for t in session.scalars(select(Team))}
    return manager_of(target.team_id, teams) == actor.id


def act_for(session: Session, actor: User, target: User) -> User:
    """``target`` when ``actor`` may act for them, else Forbidden naming both."""
    if not may_act_for(session, actor, target):
        who = target.email or target.name
        if actor.role == "manager":
            rule = "a manager acts only for themselves and the members of the teams they manage"
        else:
            rule = f"the {actor.role} role acts only for itself"
        raise Forbidden(f"{actor.email} may not act for {who}: {rule}")
    return target


# --- whose leads -------------------------------------------------------------------------------

#: The roles that correct any lead's details (they bring the leads in: imports, the API's upsert).
LEAD_DATA_ROLES = frozenset({"admin", "marketing"})


class LeadScope:
    """Whose leads a user works on, as :func:`may_act_for` says whom they act for: an admin every
    lead, a manager the leads of the members of the teams they manage (and the unowned leads of
    those teams), everyone else their own. The teams and the owners' teams are read once, so a
    bulk action asks for thousands of leads at the cost of two queries."""

    def __init__(self, session: Session, user: User) -> None:
        self.user = user
        self._teams: dict[int, Team] | None = None
        self._owner_teams: dict[int, int | None] | None = None
        self._session = session

    def _manages(self, team_id: int | None) -> bool:
        if team_id is None:
            return False
        if self._teams is None:
            self._teams = {t.id: t for t in self._session.scalars(select(Team))}
        return manager_of(team_id, self._teams) == self.user.id

    def allows(self, owner_id: int | None, team_id: int | None) -> bool:
        """Whether the user may work on a lead of this owner and team."""
        user = self.user
        if user.role == "admin" or (owner_id is not None and owner_id == user.id):
            return True
        if user.role != "manager":
            return False
        if owner_id is None:
            return self._manages(team_id)
        if self._owner_teams is None:
            self._owner_teams = dict(self._session.execute(select(User.id, User.team_id)).all())
        return self._manages(self._owner_teams.get(owner_id))

    def may_edit(self, owner_id: int | None, team_id: int | None) -> bool:
        """Whether the user may correct the details of such a lead: those who bring leads in
        (``LEAD_DATA_ROLES``) any lead's, the others as :meth:`allows`."""
        return self.user.role in LEAD_DATA_ROLES or self.allows(owner_id, team_id)

    def refusal(self) -> str:
        """Why a lead outside the scope is refused, in the words of the role table."""
        if self.user.role == "manager":
            return "a manager works only on the leads of the teams they manage"
        return f"the {self.user.role} role works only on its own leads"
