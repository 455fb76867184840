"""Who is asking, and may they: sessions (cookie), API tokens (bearer), CSRF and the role table.

Every page and API route names one permission with ``Depends(require("…"))``; the roles allowed to
use each permission are in ``PERMISSIONS``. A request signed in with the session cookie that changes
something must carry the session's CSRF token (form field ``csrf_token`` or header
``X-CSRF-Token``). An API token with the ``read`` scope may only read.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from leadops.auth import note_token_use, session_of, token_of
from leadops.errors import Forbidden, NotSignedIn
from leadops.models import User
from leadops.runtime import Runtime

SESSION_COOKIE = "leadops_session"
SIGNIN_COOKIE = "leadops_signin"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

EVERYONE = frozenset({"admin", "manager", "member", "marketing"})
#: permission -> the roles that have it, and what it lets them do (said in the 403 message).
PERMISSIONS: dict[str, tuple[frozenset[str], str]] = {
    "read": (EVERYONE, "read leads and reports"),
    "work": (
        frozenset({"admin", "manager", "member"}),
        "log touches, change statuses and book appointments",
    ),
    "manage": (frozenset({"admin", "manager"}), "see the team board, reassign and route leads"),
    "ingest": (frozenset({"admin", "marketing"}), "create leads and activities or import files"),
    "rules": (frozenset({"admin", "marketing"}), "change the rules"),
    "admin": (frozenset({"admin"}), "manage users, teams and other people's tokens"),
}


@dataclass(frozen=True)
class Principal:
    """The signed-in user of a request, and how they signed in."""

    user_id: int
    email: str
    name: str
    role: str
    team_id: int | None
    locale: str
    via: str  # "session" or "token"
    csrf_token: str | None = None
    scope: str = "write"

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission][0]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def identify(runtime: Runtime, request: Request) -> Principal | None:
    """The principal of a request from its bearer token or session cookie, or None. Reads only:
    a token's last use is recorded afterwards, on its own (``note_token_use``)."""
    bearer = _bearer(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    now = runtime.clock.now()
    if bearer:
        with runtime.engine.connect() as connection:
            token = token_of(connection, bearer)
        if token is None:
            return None
        note_token_use(runtime.engine, token, now)
        return Principal(
            token.user_id,
            token.email or "",
            token.name,
            token.role,
            token.team_id,
            token.locale,
            "token",
            scope=token.scope,
        )
    if not cookie:
        return None
    with runtime.factory() as session, session.begin():
        signed_in = session_of(session, cookie, now)
    if signed_in is None:
        return None
    user, row = signed_in
    return _principal(user, "session", csrf_token=row.csrf_token)


def _principal(user: User, via: str, **how: Any) -> Principal:
    return Principal(
        user.id, user.email or "", user.name, user.role, user.team_id, user.locale, via, **how
    )


async def check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, expected):
        raise Forbidden(
            "the form's security token is missing or out of date; reload the page and try again",
            detail="csrf",
        )


def require(permission: str) -> Any:
    """A dependency that lets the request through only for a signed-in user whose role has
    ``permission``."""
    roles, what = PERMISSIONS[permission]

    async def dependency(request: Request) -> Principal:
        runtime: Runtime = request.app.state.runtime
        principal = await run_in_threadpool(identify, runtime, request)
        if principal is None:
            raise NotSignedIn(
                "sign in first (a session cookie, or an API token as 'Authorization: Bearer …')"
            )
        request.state.principal = principal  # a refusal speaks the caller's language too
        unsafe = request.method not in SAFE_METHODS
        if unsafe and principal.via == "session":
            assert principal.csrf_token is not None
            await check_csrf(request, principal.csrf_token)
        if unsafe and principal.via == "token" and principal.scope != "write":
            raise Forbidden("this API token has the read scope; it may only read")
        if principal.role not in roles:
            raise Forbidden(f"the {principal.role} role may not {what}")
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]
    return Depends(dependency)


def permission_of(call: Callable[..., Any]) -> str | None:
    return getattr(call, "permission", None)


#: The signed-in caller of a route, by the permission the route needs.
Reader = Annotated[Principal, require("read")]
Worker = Annotated[Principal, require("work")]
Manager = Annotated[Principal, require("manage")]
Importer = Annotated[Principal, require("ingest")]
Editor = Annotated[Principal, require("rules")]
Admin = Annotated[Principal, require("admin")]
